"""DARTS-like candidate operations and their registry (SPEC §1.1): op names are data, behaviour is declared per op."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .units import NO_UNITS, FilterGate, MaskedConv2d, UnitLayer, UnitOp, Units

# SPEC §1.1 order; there is no `none` op.
PRIMITIVES: tuple[str, ...] = (
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
)


class ReLUConvBN(nn.Module):
    """ReLU → k×k conv → BN (also the 1×1 cell preprocess)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, padding: int, affine: bool) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.conv(self.relu(x)))


class FactorizedReduce(nn.Module):
    """Two 1×1 stride-2 convs, the second on the input shifted by one pixel; concat, BN (SPEC §1.1).

    Odd sizes: the input is zero-padded by one row/column at the bottom/right before the shift, so both halves
    give ceil(H/2) × ceil(W/2) like every other stride-2 op (7×7 → 4×4). An odd c_out is split c//2 + (c - c//2).
    `gated` (the skip op with the filter granularity): the concat is multiplied channel-wise by sigmoid(p) before
    the BN; never thresholded, so its committed mask stays all ones (SPEC §2 notes).
    """

    def __init__(self, c_in: int, c_out: int, affine: bool, gated: bool = False) -> None:
        super().__init__()
        half = c_out // 2
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, half, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out - half, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)
        self.gate = FilterGate(c_out, thresholded=False) if gated else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        pad_h, pad_w = x.shape[-2] % 2, x.shape[-1] % 2
        shifted = F.pad(x, (0, pad_w, 0, pad_h)) if pad_h or pad_w else x
        out = torch.cat([self.conv_1(x), self.conv_2(shifted[:, :, 1:, 1:])], dim=1)  # (N, c_out, ⌈H/2⌉, ⌈W/2⌉)
        if self.gate is not None:
            out = self.gate(out)
        return self.bn(out)


class SepConv(UnitOp):
    """ReLU, dw k×k (stride s), 1×1 in→mid, BN, ReLU, dw k×k, 1×1 mid→out, BN (SPEC §1.1).

    With units: every conv is a MaskedConv2d sharing t_weight; the mid and out BN outputs are gated per filter,
    both gates sharing t_filter (SPEC §2). Without units the forward is the plain one.
    """

    # dw2's filters are the mid channels; pw2 reads them (in gate1) and writes the out channels (gate2)
    unit_layers = (
        UnitLayer("dw1"), UnitLayer("pw1", "gate1"), UnitLayer("dw2", "gate1"), UnitLayer("pw2", "gate2", "gate1")
    )
    gate_names = ("gate1", "gate2")

    def __init__(
        self, c_in: int, c_mid: int, c_out: int, k: int, stride: int, padding: int, affine: bool,
        units: Units = NO_UNITS,
    ) -> None:
        super().__init__()
        conv = MaskedConv2d if units.weight else nn.Conv2d
        self.relu1 = nn.ReLU()
        self.dw1 = conv(c_in, c_in, k, stride, padding, groups=c_in, bias=False)
        self.pw1 = conv(c_in, c_mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_mid, affine=affine)
        self.relu2 = nn.ReLU()
        self.dw2 = conv(c_mid, c_mid, k, 1, padding, groups=c_mid, bias=False)
        self.pw2 = conv(c_mid, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out, affine=affine)
        self._init_units(units, {"gate1": c_mid, "gate2": c_out})

    def forward(self, x: Tensor, t_filter: Tensor | None = None, t_weight: Tensor | None = None) -> Tensor:
        if not self.units.any:
            x = self.bn1(self.pw1(self.dw1(self.relu1(x))))
            return self.bn2(self.pw2(self.dw2(self.relu2(x))))
        x = self._conv("pw1", self._conv("dw1", self.relu1(x), t_weight), t_weight)
        x = self._gate("gate1", self.bn1(x), t_filter)
        x = self._conv("pw2", self._conv("dw2", self.relu2(x), t_weight), t_weight)
        return self._gate("gate2", self.bn2(x), t_filter)


class DilConv(UnitOp):
    """ReLU, depthwise k×k with dilation, 1×1 in→out, BN (SPEC §1.1); units as in SepConv (one gate, out)."""

    unit_layers = (UnitLayer("dw"), UnitLayer("pw", "gate"))
    gate_names = ("gate",)

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int, padding: int, dilation: int, affine: bool,
        units: Units = NO_UNITS,
    ) -> None:
        super().__init__()
        conv = MaskedConv2d if units.weight else nn.Conv2d
        self.relu = nn.ReLU()
        self.dw = conv(c_in, c_in, k, stride, padding, dilation=dilation, groups=c_in, bias=False)
        self.pw = conv(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)
        self._init_units(units, {"gate": c_out})

    def forward(self, x: Tensor, t_filter: Tensor | None = None, t_weight: Tensor | None = None) -> Tensor:
        if not self.units.any:
            return self.bn(self.pw(self.dw(self.relu(x))))
        x = self._conv("pw", self._conv("dw", self.relu(x), t_weight), t_weight)
        return self._gate("gate", self.bn(x), t_filter)


class Identity(nn.Module):
    """skip_connect on a stride-1 edge."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Zero(nn.Module):
    """A pruned op. The supernet skips it entirely; forward exists only for completeness."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)  # (N, C, ⌈H/s⌉, ⌈W/s⌉)


class PoolBN(nn.Module):
    """3×3 pooling, followed by an affine BN only in the evaluation network (SPEC §1.1)."""

    def __init__(self, pool: nn.Module, c: int, bn: bool, affine: bool) -> None:
        super().__init__()
        self.pool = pool
        self.bn: nn.Module = nn.BatchNorm2d(c, affine=affine) if bn else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.pool(x))


# make(widths, stride, search, affine, units) -> module
Maker = Callable[[tuple[int, ...], int, bool, bool, Units], nn.Module]


@dataclass(frozen=True)
class OpSpec:
    """One candidate op, declared as data: how to build it and what it is at each stride."""

    name: str
    width_count: int  # widths in architecture.json: sep [in, mid, out], dil [in, out], others [w] (SPEC §5.1)
    make: Maker
    params_stride1: bool  # has parameters on a stride-1 edge (search variant)
    params_stride2: bool  # ... on a stride-2 edge
    eval_bn: bool = False  # the evaluation variant adds an affine BN (pooling)
    identity_stride1: bool = False  # a plain identity on stride-1 edges (drop-path skips it)

    def nominal_widths(self, c: int) -> tuple[int, ...]:
        return (c,) * self.width_count

    def build(
        self, c: int, stride: int, *, search: bool, affine: bool, widths: tuple[int, ...] | None = None,
        units: Units = NO_UNITS,
    ) -> nn.Module:
        w = self.nominal_widths(c) if widths is None else tuple(int(v) for v in widths)
        if len(w) != self.width_count:
            raise ValueError(f"{self.name} takes {self.width_count} widths, got {list(w)}")
        return self.make(w, stride, search, affine, units)

    def has_params(self, stride: int, *, search: bool = True) -> bool:
        conv = self.params_stride1 if stride == 1 else self.params_stride2
        return conv or (self.eval_bn and not search)

    def is_identity(self, stride: int) -> bool:
        return self.identity_stride1 and stride == 1


def _sep(k: int) -> Maker:
    def make(w: tuple[int, ...], stride: int, search: bool, affine: bool, units: Units) -> nn.Module:
        return SepConv(w[0], w[1], w[2], k, stride, k // 2, affine, units)  # padding 1 (3×3), 2 (5×5)

    return make


def _dil(k: int) -> Maker:
    def make(w: tuple[int, ...], stride: int, search: bool, affine: bool, units: Units) -> nn.Module:
        return DilConv(w[0], w[1], k, stride, k - 1, 2, affine, units)  # dilation 2, padding 2 (3×3), 4 (5×5)

    return make


def _skip(w: tuple[int, ...], stride: int, search: bool, affine: bool, units: Units) -> nn.Module:
    return Identity() if stride == 1 else FactorizedReduce(w[0], w[0], affine, gated=units.filter)


def _avg_pool(w: tuple[int, ...], stride: int, search: bool, affine: bool, units: Units) -> nn.Module:
    return PoolBN(nn.AvgPool2d(3, stride, 1, count_include_pad=False), w[0], not search, affine)


def _max_pool(w: tuple[int, ...], stride: int, search: bool, affine: bool, units: Units) -> nn.Module:
    return PoolBN(nn.MaxPool2d(3, stride, 1), w[0], not search, affine)


OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        OpSpec("skip_connect", 1, _skip, False, True, identity_stride1=True),
        OpSpec("sep_conv_3x3", 3, _sep(3), True, True),
        OpSpec("sep_conv_5x5", 3, _sep(5), True, True),
        OpSpec("dil_conv_3x3", 2, _dil(3), True, True),
        OpSpec("dil_conv_5x5", 2, _dil(5), True, True),
        OpSpec("avg_pool_3x3", 1, _avg_pool, False, False, eval_bn=True),
        OpSpec("max_pool_3x3", 1, _max_pool, False, False, eval_bn=True),
    )
}


def op_spec(name: str) -> OpSpec:
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown op {name!r}; known: {', '.join(OPS)}") from None


def build_op(
    name: str, c: int, stride: int, *, search: bool, widths: tuple[int, ...] | None = None, units: Units = NO_UNITS
) -> nn.Module:
    """Search variant: non-affine BNs, no BN after pooling; eval variant: affine BNs, pooling + BN (SPEC §1.1).

    `units` adds the filter/weight granularities (SPEC §2) to sep/dil ops and the stride-2 skip."""
    return op_spec(name).build(c, stride, search=search, affine=not search, widths=widths, units=units)


def conv_weight_count(module: nn.Module) -> int:
    """Conv weights inside a module: the reference size counter's unit (SPEC §3.4) at op level."""
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def counted_weights(op: nn.Module) -> Tensor | int:
    """SPEC §3.4 count of one live op: unit ops count their active filters; others all their conv weights."""
    return op.counted_weights() if isinstance(op, UnitOp) else conv_weight_count(op)


def live_weights(op: nn.Module) -> Tensor | int:
    """size_o of the size-aware R_op factor: the op's live weights (all conv weights when it has no units)."""
    return op.live_weights() if isinstance(op, UnitOp) else conv_weight_count(op)
