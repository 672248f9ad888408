"""The evaluation network built from architecture.json: unweighted sums of every kept op at its widths (SPEC §5)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .masks import node_edge_slices
from .export import apply_weight_masks, mask_key, unit_convs
from .ops import FactorizedReduce, ReLUConvBN, op_spec
from .units import NO_UNITS, Units

ARCH_FORMAT = "mgdarts.architecture/1"


def drop_path(x: Tensor, drop_prob: float) -> Tensor:
    """Per-sample drop-path: zero whole samples with probability p, scale the rest by 1/(1-p)."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)  # (N, 1, 1, 1)
    return x * mask / keep


@dataclass(frozen=True)
class _OpPlace:
    source: int  # node id the op reads (0, 1 = cell inputs)
    target: int  # node id it feeds (2..)
    identity: bool  # drop-path is never applied to identity ops


class AuxiliaryHead(nn.Module):
    """DARTS auxiliary head (SPEC §5.2): ReLU, avg-pool 5/3, 1×1→128, BN, ReLU, 2×2→768, BN, ReLU, linear.

    The 5/3 pooling is meant for 8×8 maps, where it gives 2×2. Any other map size (smaller inputs,
    other stem strides) is adaptively average-pooled to 2×2 instead, so the head works at every size.
    """

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False)
        self.features = nn.Sequential(
            nn.Conv2d(c_in, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        x = self.pool(x) if tuple(x.shape[-2:]) == (8, 8) else F.adaptive_avg_pool2d(x, 2)  # (N, C, 2, 2)
        return self.classifier(self.features(x).flatten(1))  # (N, classes)


def _check_place(entry: dict[str, Any], nodes: int) -> tuple[int, int]:
    source, target, edge = int(entry["from"]), int(entry["to"]), int(entry["edge"])
    if not 2 <= target < 2 + nodes or not 0 <= source < target:
        raise ValueError(f"op {entry}: needs 0 <= from < to and 2 <= to < {2 + nodes}")
    if edge != node_edge_slices(nodes)[target - 2].start + source:
        raise ValueError(f"op {entry}: edge {edge} does not join node {source} to node {target}")
    return source, target


class EvalCell(nn.Module):
    """One cell of the evaluation network; node = plain sum of its ops, output = concat of all nodes (SPEC §5.1)."""

    def __init__(
        self, spec: dict[str, Any], c_pp: int, c_p: int, reduction_prev: bool, nodes: int, units: Units = NO_UNITS
    ) -> None:
        super().__init__()
        self.reduction = bool(spec["reduction"])
        in_w = [int(w) for w in spec["input_widths"]]
        self.widths = in_w + [int(w) for w in spec["node_widths"]]  # width of node ids 0 .. nodes+1
        if len(self.widths) != 2 + nodes:
            raise ValueError(f"cell {spec.get('index')}: expected {nodes} node widths, got {spec['node_widths']}")
        pre0: nn.Module = (
            FactorizedReduce(c_pp, in_w[0], True) if reduction_prev else ReLUConvBN(c_pp, in_w[0], 1, 1, 0, True)
        )
        self.preprocess0 = pre0
        self.preprocess1 = ReLUConvBN(c_p, in_w[1], 1, 1, 0, True)
        ops, places = [], []
        for entry in spec["ops"]:
            source, target = _check_place(entry, nodes)
            stride = 2 if self.reduction and source < 2 else 1
            widths = tuple(int(w) for w in entry["widths"])
            if widths[0] != self.widths[source] or widths[-1] != self.widths[target]:
                raise ValueError(
                    f"cell {spec.get('index')} op {entry}: widths must start at node {source}'s width "
                    f"{self.widths[source]} and end at node {target}'s width {self.widths[target]}"
                )
            op = op_spec(entry["op"])
            ops.append(op.build(widths[0], stride, search=False, affine=True, widths=widths, units=units))
            places.append(_OpPlace(source, target, op.is_identity(stride)))
        self.ops = nn.ModuleList(ops)
        self.places = places
        self.node_ops = [[i for i, p in enumerate(places) if p.target == t] for t in range(2, 2 + nodes)]
        self.out_channels = sum(self.widths[2:])

    def forward(self, s0: Tensor, s1: Tensor, drop_prob: float = 0.0) -> Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for target, indices in enumerate(self.node_ops, start=2):
            acc: Tensor | None = None
            for i in indices:
                place = self.places[i]
                y = self.ops[i](states[place.source])
                if drop_prob > 0.0 and self.training and not place.identity:
                    y = drop_path(y, drop_prob)
                acc = y if acc is None else acc + y
            states.append(acc if acc is not None else self._zeros(states[1], self.widths[target]))
        return torch.cat(states[2:], dim=1)  # (N, Σ node widths, H', W'); empty nodes stay in (SPEC §7.4 bug 11)

    def _zeros(self, s: Tensor, width: int) -> Tensor:
        n, _, h, w = s.shape
        if self.reduction:
            h, w = -(-h // 2), -(-w // 2)  # stride-2 ops give ⌈H/2⌉ × ⌈W/2⌉
        return s.new_zeros(n, width, h, w)


class EvalNetwork(nn.Module):
    """Stem 3×3 → 3C + BN, the architecture's cells, optional aux head after cell 2L//3, pool + linear."""

    def __init__(
        self, arch: dict[str, Any], *, auxiliary: bool = False, drop_path_prob: float = 0.0,
        weight_masks: dict[str, Tensor] | None = None,
    ) -> None:
        """`weight_masks` (the file beside architecture.json): sep/dil convs use weight × mask in every forward."""
        super().__init__()
        if arch.get("format") != ARCH_FORMAT or arch.get("search_space") != "darts_like":
            raise ValueError(f"expected a {ARCH_FORMAT} darts_like architecture, got {arch.get('format')!r}")
        layers, nodes, c = int(arch["layers"]), int(arch["nodes"]), int(arch["channels"])
        if len(arch["cells"]) != layers:
            raise ValueError(f"architecture lists {len(arch['cells'])} cells for {layers} layers")
        self.drop_path_prob = drop_path_prob
        self.stem = nn.Sequential(
            nn.Conv2d(int(arch["in_channels"]), 3 * c, 3, int(arch.get("stem_stride", 1)), 1, bias=False),
            nn.BatchNorm2d(3 * c),
        )
        self.aux_position = 2 * layers // 3
        units = Units(weight=True) if weight_masks is not None else NO_UNITS
        c_pp, c_p, reduction_prev, cells = 3 * c, 3 * c, False, []
        c_aux = c_p
        for i, spec in enumerate(arch["cells"]):
            cell = EvalCell(spec, c_pp, c_p, reduction_prev, nodes, units)
            cells.append(cell)
            c_pp, c_p, reduction_prev = c_p, cell.out_channels, cell.reduction
            c_aux = c_p if i == self.aux_position else c_aux
        self.cells = nn.ModuleList(cells)
        self.aux_head = AuxiliaryHead(c_aux, int(arch["num_classes"])) if auxiliary else None
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, int(arch["num_classes"]))
        self.masked_weights = 0 if weight_masks is None else apply_weight_masks(weight_masks, self._masked_convs(arch))

    def _masked_convs(self, arch: dict[str, Any]) -> dict[str, Any]:
        names = {}
        for i, (spec, cell) in enumerate(zip(arch["cells"], self.cells)):
            for entry, op in zip(spec["ops"], cell.ops):
                for conv_name, conv in unit_convs(op):
                    names[mask_key(i, int(entry["edge"]), entry["op"], conv_name)] = conv
        return names

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """(logits, aux_logits); aux_logits only in training mode with an aux head (as DARTS), else None."""
        aux: Tensor | None = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_position and self.aux_head is not None and self.training:
                aux = self.aux_head(s1)
        return self.classifier(self.global_pool(s1).flatten(1)), aux
