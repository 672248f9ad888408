"""MobileNet-like candidate operations and their registry: inverted-residual blocks (kernel × expansion) and skip.
Each op declares its widths, its cost and which convs carry weight masks; shared code never reads op names."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .ops import Identity
from .units import NO_UNITS, MaskedConv2d, UnitLayer, UnitOp, Units

KERNELS: tuple[int, ...] = (3, 5, 7)
EXPANSIONS: tuple[int, ...] = (3, 6)


class InvertedResidual(UnitOp):
    """1×1 expand C_in→C_mid, BN, ReLU6, depthwise k×k (stride s), BN, ReLU6, 1×1 project C_mid→C_out, BN.

    Filter level: one gate over the expanded channels, sigmoid(p)·mask after the expand BN; the depthwise reads and
    writes those same channels and the projection reads them, so one t_filter per op. Weight level: every conv is a
    MaskedConv2d sharing the op's t_weight (SPEC §2 applied to this block). No residual inside: the `skip` op is the
    layer's identity path.
    """

    unit_layers = (UnitLayer("expand", "gate"), UnitLayer("dw", "gate"), UnitLayer("project", None, "gate"))
    gate_names = ("gate",)

    def __init__(
        self, c_in: int, c_mid: int, c_out: int, k: int, stride: int, affine: bool, units: Units = NO_UNITS
    ) -> None:
        super().__init__()
        conv = MaskedConv2d if units.weight else nn.Conv2d
        self.kernel = k
        self.expand = conv(c_in, c_mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_mid, affine=affine)
        self.dw = conv(c_mid, c_mid, k, stride, k // 2, groups=c_mid, bias=False)
        self.bn2 = nn.BatchNorm2d(c_mid, affine=affine)
        self.project = conv(c_mid, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out, affine=affine)
        self.act = nn.ReLU6()
        self._init_units(units, {"gate": c_mid})

    @property
    def mid(self) -> int:
        return self.expand.out_channels

    def forward(self, x: Tensor, t_filter: Tensor | None = None, t_weight: Tensor | None = None) -> Tensor:
        x = self._gate("gate", self.bn1(self._conv("expand", x, t_weight)), t_filter)  # (N, C_mid, H, W)
        x = self.act(self.bn2(self._conv("dw", self.act(x), t_weight)))  # (N, C_mid, H/s, W/s)
        return self.bn3(self._conv("project", x, t_weight))  # (N, C_out, H/s, W/s)

    def counted_weights(self) -> Tensor | int:
        """The size counter (SPEC §3.4 carried over): every conv's weights per expanded channel × live channels."""
        live = self._active("gate", self.mid)
        per_channel = self.expand.in_channels + self.kernel * self.kernel + self.project.out_channels
        return live * per_channel


@dataclass(frozen=True)
class MbOpSpec:
    """One candidate op of the MobileNet-like space, declared as data."""

    name: str
    kernel: int = 0  # 0: skip
    expansion: int = 0

    @property
    def is_skip(self) -> bool:
        return self.expansion == 0

    def available(self, c_in: int, c_out: int, stride: int) -> bool:
        """skip only where shapes allow (stride 1, C_in == C_out); blocks everywhere."""
        return not self.is_skip or (stride == 1 and c_in == c_out)

    def nominal_widths(self, c_in: int, c_out: int) -> tuple[int, ...]:
        """Widths in architecture.json: a block [in, expanded, out], skip [width]."""
        return (c_in,) if self.is_skip else (c_in, c_in * self.expansion, c_out)

    def build(self, widths: tuple[int, ...], stride: int, *, affine: bool, units: Units = NO_UNITS) -> nn.Module:
        if len(widths) != len(self.nominal_widths(1, 1)):
            raise ValueError(f"{self.name} takes {len(self.nominal_widths(1, 1))} widths, got {list(widths)}")
        if self.is_skip:
            return Identity()
        c_in, c_mid, c_out = (int(w) for w in widths)
        return InvertedResidual(c_in, c_mid, c_out, self.kernel, stride, affine, units)


MB_OPS: dict[str, MbOpSpec] = {
    spec.name: spec
    for spec in (
        *(MbOpSpec(f"mb_k{k}_e{e}", k, e) for k in KERNELS for e in EXPANSIONS),
        MbOpSpec("skip"),
    )
}
MB_PRIMITIVES: tuple[str, ...] = tuple(MB_OPS)


def mb_op_spec(name: str) -> MbOpSpec:
    try:
        return MB_OPS[name]
    except KeyError:
        raise ValueError(f"unknown mobilenet_like op {name!r}; known: {', '.join(MB_OPS)}") from None
