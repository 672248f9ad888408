"""The MobileNet-like evaluation network built from architecture.json: stem, each layer the plain sum of its kept
ops at their exported (shrunk) widths, 1×1 conv head, pool, linear (SPEC §5 carried over to this space).

architecture.json lists each layer as a one-edge cell: `input_widths` [C_in], `node_widths` [C_out], `stride`, and
its ops with their widths (a block [C_in, expanded, C_out], skip [C]); `channels` is the stem width."""
from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .evalnet import ARCH_FORMAT, drop_path
from .export import apply_weight_masks, mask_key, unit_convs
from .mb_ops import mb_op_spec
from .units import NO_UNITS, Units

SPACE = "mobilenet_like"


class EvalLayer(nn.Module):
    def __init__(self, spec: dict[str, Any], c_in: int, units: Units) -> None:
        super().__init__()
        self.index, self.stride, c_out = int(spec["index"]), int(spec["stride"]), int(spec["node_widths"][0])
        if int(spec["input_widths"][0]) != c_in:
            got = spec["input_widths"][0]
            raise ValueError(f"layer {self.index}: input width {got} but the layer before gives {c_in}")
        if not spec["ops"]:
            raise ValueError(f"layer {self.index}: no ops (every layer keeps at least one)")
        ops, identity = [], []
        for entry in spec["ops"]:
            op = mb_op_spec(entry["op"])
            widths = tuple(int(w) for w in entry["widths"])
            if not op.available(c_in, c_out, self.stride):
                where = f"a {c_in}→{c_out} stride {self.stride} layer"
                raise ValueError(f"layer {self.index}: {entry['op']} does not fit {where}")
            if widths[0] != c_in or widths[-1] != (c_in if op.is_skip else c_out):
                raise ValueError(f"layer {self.index} op {entry}: widths must run from {c_in} to {c_out}")
            ops.append(op.build(widths, self.stride, affine=True, units=units))
            identity.append(op.is_skip)
        self.ops = nn.ModuleList(ops)
        self.identity = identity
        self.names = [entry["op"] for entry in spec["ops"]]

    def forward(self, x: Tensor, drop_prob: float) -> Tensor:
        acc: Tensor | None = None
        for op, identity in zip(self.ops, self.identity):
            y = op(x)
            if drop_prob > 0.0 and self.training and not identity:
                y = drop_path(y, drop_prob)
            acc = y if acc is None else acc + y
        return acc  # (N, C_out, H/s, W/s)


class MobileNetEvalNetwork(nn.Module):
    def __init__(
        self, arch: dict[str, Any], *, auxiliary: bool = False, drop_path_prob: float = 0.0,
        weight_masks: dict[str, Tensor] | None = None,
    ) -> None:
        super().__init__()
        if arch.get("format") != ARCH_FORMAT or arch.get("search_space") != SPACE:
            raise ValueError(f"expected a {ARCH_FORMAT} {SPACE} architecture, got {arch.get('format')!r}")
        if auxiliary:
            raise ValueError(f"{SPACE} has no auxiliary head for retraining: set retrain.auxiliary to false")
        self.drop_path_prob = drop_path_prob
        stem = int(arch["channels"])
        self.stem = nn.Sequential(
            nn.Conv2d(int(arch["in_channels"]), stem, 3, int(arch["stem_stride"]), 1, bias=False),
            nn.BatchNorm2d(stem), nn.ReLU6(),
        )
        units = Units(weight=True) if weight_masks is not None else NO_UNITS
        layers, c = [], stem
        for spec in arch["cells"]:
            layers.append(EvalLayer(spec, c, units))
            c = int(spec["node_widths"][0])
        self.layers = nn.ModuleList(layers)
        head = int(arch["head_channels"])
        self.head = nn.Sequential(nn.Conv2d(c, head, 1, bias=False), nn.BatchNorm2d(head), nn.ReLU6())
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(head, int(arch["num_classes"]))
        self.aux_head = None
        self.masked_weights = 0 if weight_masks is None else apply_weight_masks(weight_masks, self._masked_convs())

    def _masked_convs(self) -> dict[str, Any]:
        """Keys as the supernet's weight-mask file names them: "layer,0,op.conv" (one edge per layer)."""
        return {mask_key(layer.index, 0, name, conv_name): conv
                for layer in self.layers for name, op in zip(layer.names, layer.ops)
                for conv_name, conv in unit_convs(op)}  # fmt: skip

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, self.drop_path_prob)
        return self.classifier(self.global_pool(self.head(x)).flatten(1)), None
