"""The MobileNet-like search super-net: a stride-2 stem, searchable layers grouped into resolution stages, a 1×1 conv
head, pool and linear. Each layer is a "cell" with ONE edge, so the op tensors are (L, 1, K) and the controller's
scheduler, λ schedule, regrowth sampling and guard apply unchanged (SPEC §2, §3, §4 carried over)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .masks import binary_step
from .mb_ops import MB_PRIMITIVES, InvertedResidual, mb_op_spec
from .ops import Zero, live_weights
from .supernet import PRUNED_ALPHA_SHIFT, Supernet
from .units import GRANULARITIES, UnitOp, Units, sum_counts


@dataclass(frozen=True)
class MobileNetConfig:
    in_channels: int
    num_classes: int
    stem_channels: int
    layer_channels: tuple[int, ...]  # output channels of each searchable layer
    layer_strides: tuple[int, ...]
    head_channels: int
    stages: tuple[int, int, int]  # last layer of stages 1, 2, 3 (decided by the controller)
    stem_stride: int = 2
    ops: tuple[str, ...] = MB_PRIMITIVES
    granularities: frozenset[str] = frozenset({"operation"})
    stage_heads: bool = False
    aux_channels: int = 128

    def __post_init__(self) -> None:
        chosen = frozenset(self.granularities)
        if not chosen or chosen - set(GRANULARITIES):
            raise ValueError(f"granularities must be a non-empty subset of {list(GRANULARITIES)}, got {sorted(chosen)}")
        object.__setattr__(self, "granularities", chosen)
        if len(self.layer_channels) != len(self.layer_strides) or not self.layer_channels:
            raise ValueError("mobilenet_like needs one stride per layer and at least one layer")
        if any(s not in (1, 2) for s in self.layer_strides):
            raise ValueError(f"layer strides must be 1 or 2, got {list(self.layer_strides)}")
        for name in self.ops:
            mb_op_spec(name)
        e1, e2, e3 = self.stages
        if e3 != self.layers - 1 or not -1 <= e1 <= e2 <= e3:
            raise ValueError(f"stage ends {list(self.stages)} must rise and end at the last layer {self.layers - 1}")

    @property
    def layers(self) -> int:
        return len(self.layer_channels)

    def layer_inputs(self) -> tuple[int, ...]:
        return (self.stem_channels, *self.layer_channels[:-1])

    def stage_ends(self) -> tuple[int, int, int]:
        return self.stages

    def units(self) -> Units:
        return Units.of(self.granularities)


class SearchLayer(nn.Module):
    """One searchable layer: output = Σ sigmoid(α)·mask·op(x) over its live candidates; ops that the layer's shape
    does not allow (skip with a stride or a width change) are never candidates."""

    def __init__(self, c_in: int, c_out: int, stride: int, ops: tuple[str, ...], units: Units) -> None:
        super().__init__()
        self.c_in, self.channels, self.stride, self.units, self.num_ops = c_in, c_out, stride, units, len(ops)
        self.op_names = ops
        self.edge_strides = [stride]
        self.candidates = [mb_op_spec(n).available(c_in, c_out, stride) for n in ops]
        self.edges = nn.ModuleList([nn.ModuleList(
            self.fresh_op(0, k) if ok else Zero(stride) for k, ok in enumerate(self.candidates)
        )])  # fmt: skip
        self.live_ops: list[list[int]] = [[k for k, ok in enumerate(self.candidates) if ok]]

    def is_candidate(self, edge: int, op: int) -> bool:
        return edge == 0 and 0 <= op < self.num_ops and self.candidates[op]

    def fresh_op(self, edge: int, op: int, name: str | None = None) -> nn.Module:
        """A freshly initialised candidate at the layer's nominal widths (regrowth, SPEC §4.3)."""
        if not self.is_candidate(edge, op):
            raise ValueError(f"{self.op_names[op]} is not a candidate of a {self.c_in}→{self.channels}, stride "
                             f"{self.stride} layer")  # fmt: skip
        spec = mb_op_spec(self.op_names[op])
        return spec.build(spec.nominal_widths(self.c_in, self.channels), self.stride, affine=False, units=self.units)

    def prune(self, edge: int, op: int) -> None:
        self.edges[edge][op] = Zero(self.stride)
        self.live_ops[edge] = [k for k in self.live_ops[edge] if k != op]

    def unit_ops(self) -> list[tuple[int, int, UnitOp]]:
        return [(0, k, self.edges[0][k]) for k in self.live_ops[0] if isinstance(self.edges[0][k], UnitOp)]

    def forward(
        self, x: Tensor, weights: Tensor, masks: Tensor, t_filter: Tensor | None = None, t_weight: Tensor | None = None
    ) -> Tensor:
        """weights, masks, t_filter, t_weight: (1, K); pruned ops are not run."""
        gate = (weights * masks)[0]  # (K,)
        acc: Tensor | None = None
        for k in self.live_ops[0]:
            op = self.edges[0][k]
            if self.units.any and isinstance(op, UnitOp):
                y = op(x, None if t_filter is None else t_filter[0, k], None if t_weight is None else t_weight[0, k])
            else:
                y = op(x)
            acc = y * gate[k] if acc is None else acc + y * gate[k]
        if acc is None:
            raise RuntimeError("a layer without live ops: the guard keeps one per layer")
        return acc  # (N, C_out, H/s, W/s)

    @torch.no_grad()
    def commit_units(self, t_filter: Tensor | None, t_weight: Tensor | None, t_pre: Tensor | None = None):
        filters: list[Tensor] = []
        weights: list[Tensor] = []
        for e, k, op in self.unit_ops():
            f, w = op.commit_units(None if t_filter is None else t_filter[e, k],
                                   None if t_weight is None else t_weight[e, k])  # fmt: skip
            filters += f
            weights += w
        return filters, weights


class MbStageHead(nn.Module):
    """A small search-only head at a stage end: 1×1 conv, BN, ReLU6, global pool, linear."""

    def __init__(self, c_in: int, num_classes: int, width: int) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU6())
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).mean((2, 3)))  # (N, classes)


def layer_op_masks(weights: Tensor, thresholds: Tensor, committed: Tensor) -> Tensor:
    """Dynamic op masks H(sigmoid(α) - t)·committed with the guard of SPEC §3.2 for one-edge layers: if no live op
    of a layer is kept, its last live op is. weights, thresholds, committed: (L, 1, K) → (L, 1, K)."""
    live = committed > 0
    dynamic = binary_step(weights - thresholds) * live.to(weights.dtype)
    kept = (dynamic.detach() > 0).any(dim=-1, keepdim=True)  # (L, 1, 1)
    order = torch.arange(1, weights.shape[-1] + 1, device=weights.device)  # (K,)
    key = torch.where(live, order, 0)  # (L, 1, K)
    force = (key == key.amax(dim=-1, keepdim=True)) & live & ~kept
    return dynamic + force.to(weights.dtype) * (1.0 - dynamic).detach()


class MobileNetSupernet(Supernet):
    """The MobileNet-like super-net. It shares the DARTS-like supernet's architecture tensors, optimizer groups,
    commit/prune and counters (all written over `cells` and (L, E, K) tensors); only the layout, the guard, the
    regulariser's node structure and the forward differ."""

    space = "mobilenet_like"

    def __init__(self, config: MobileNetConfig) -> None:
        nn.Module.__init__(self)  # not Supernet.__init__, which builds the DARTS-like layout
        self.config = config
        cfg, units = config, config.units()
        self.has_op_level = "operation" in cfg.granularities
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, cfg.stem_channels, 3, cfg.stem_stride, 1, bias=False),
            nn.BatchNorm2d(cfg.stem_channels), nn.ReLU6(),
        )
        self.cells = nn.ModuleList(
            SearchLayer(c_in, c_out, s, cfg.ops, units)
            for c_in, c_out, s in zip(cfg.layer_inputs(), cfg.layer_channels, cfg.layer_strides)
        )
        c_last = cfg.layer_channels[-1]
        self.head = nn.Sequential(nn.Conv2d(c_last, cfg.head_channels, 1, bias=False),
                                  nn.BatchNorm2d(cfg.head_channels), nn.ReLU6())  # fmt: skip
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cfg.head_channels, cfg.num_classes)
        shape = (cfg.layers, 1, len(cfg.ops))  # (L, 1, K)
        available = torch.tensor([[layer.candidates] for layer in self.cells], dtype=torch.float32)  # (L, 1, K)
        self.alphas = nn.Parameter((available - 1.0) * PRUNED_ALPHA_SHIFT, requires_grad=self.has_op_level)
        self.op_thresholds = nn.Parameter(torch.zeros(shape), requires_grad=self.has_op_level)
        self.register_buffer("committed", available.clone())
        self.register_buffer("available", available, persistent=False)
        sizes = [[[float(live_weights(op)) for op in layer.edges[0]]] for layer in self.cells]
        self.register_buffer("op_sizes", torch.tensor(sizes), persistent=False)  # (L, 1, K)
        self.filter_thresholds = nn.Parameter(torch.zeros(shape)) if units.filter else None
        self.preprocess_thresholds = None
        self.weight_thresholds = nn.Parameter(torch.zeros(shape)) if units.weight else None
        has_units = [[[float(isinstance(op, UnitOp)) for op in layer.edges[0]]] for layer in self.cells]
        self.register_buffer("has_units", torch.tensor(has_units), persistent=False)
        e1, e2, e3 = cfg.stages
        heads = cfg.stage_heads
        head = lambda end: MbStageHead(cfg.layer_channels[end], cfg.num_classes, cfg.aux_channels)  # noqa: E731
        self.aux_head1 = head(e1) if heads and e1 >= 0 else None
        self.aux_head2 = head(e2) if heads and e1 < e2 < e3 else None

    def _op_masks(self, weights: Tensor) -> Tensor:
        if not self.has_op_level:
            return self.committed
        return layer_op_masks(weights, self.op_thresholds, self.committed)

    def forward(self, x: Tensor, last_cell: int | None = None) -> Tensor:
        """Main logits, or with `last_cell` at a stage end that stage's aux head; later layers are not run."""
        end, head = self._head_after(last_cell)
        weights = self.op_weights()
        masks = self._op_masks(weights)  # (L, 1, K)
        units = self.config.units().any
        x = self.stem(x)
        for i in range(end + 1):
            if units:
                t_filter, t_weight, _ = self._cell_thresholds(i)
                x = self.cells[i](x, weights[i], masks[i], t_filter, t_weight)
            else:
                x = self.cells[i](x, weights[i], masks[i])
        if head is not None:
            return head(x)
        return self.classifier(self.global_pool(self.head(x)).flatten(1))  # (N, classes)

    def regularizer(
        self, mu: float = 0.0, reg: float = 1.0, cells: range | None = None, thr_cells: range | None = None
    ) -> tuple[Tensor, Tensor]:
        """(R_op, R_thr) of SPEC §2.1 with one node per layer: S = Σ_k sigmoid(α) of the layer, N = its live ops.
        R_thr = Σ exp(-t) over live ops: t_op, and t_filter / t_weight for the blocks (the levels that are on)."""
        sel = slice(None) if cells is None else slice(cells.start, cells.stop, cells.step)
        thr_cells = cells if thr_cells is None else thr_cells
        tsel = slice(None) if thr_cells is None else slice(thr_cells.start, thr_cells.stop, thr_cells.step)
        live, tlive = self.committed[sel], self.committed[tsel]  # (C, 1, K)
        if self.has_op_level:
            w = torch.sigmoid(self.alphas[sel]) * self.available[sel]  # (C, 1, K); non-candidates count nothing
            s_n = w.sum(dim=-1, keepdim=True)  # (C, 1, 1)
            n_n = live.sum(dim=-1, keepdim=True)
            factor = reg + mu * self.op_sizes[sel] if mu != 0.0 else reg
            r_op = (factor * torch.log1p(n_n * w / s_n) * live).sum()
            r_thr = (torch.exp(-self.op_thresholds[tsel]) * tlive).sum()
        else:
            r_op = r_thr = live.new_zeros(())
        unit_live = tlive * self.has_units[tsel]
        for t in (self.filter_thresholds, self.weight_thresholds):
            if t is not None:
                r_thr = r_thr + (torch.exp(-t[tsel]) * unit_live).sum()
        return r_op, r_thr

    def unit_counts(self) -> dict[str, tuple[int, int]]:
        """(committed, total) ops (of the candidates), expanded filters and weights of the live blocks."""
        filters, weights = [], []
        for layer in self.cells:
            for _, _, op in layer.unit_ops():
                filters.append(op.filter_units())
                weights.append(op.weight_units())
        f_live, w_live = sum_counts([f for f, _ in filters], [w for w, _ in weights])
        return {
            "operation": (self.live_op_count(), int(self.available.sum())),
            "filter": (f_live, sum(t for _, t in filters)),
            "weight": (w_live, sum(t for _, t in weights)),
        }


def expanded_ops(net: MobileNetSupernet) -> list[tuple[int, int, InvertedResidual]]:
    """(layer, op, block) of every live inverted-residual block."""
    return [(c, k, op) for c, layer in enumerate(net.cells) for _, k, op in layer.unit_ops()
            if isinstance(op, InvertedResidual)]  # fmt: skip
