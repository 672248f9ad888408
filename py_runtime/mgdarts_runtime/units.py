"""Filter- and weight-level units (SPEC §2): gated filters, masked convs, and the per-op bookkeeping over them."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .masks import binary_step

GRANULARITIES: tuple[str, ...] = ("operation", "filter", "weight")


@dataclass(frozen=True)
class Units:
    """Which sub-op granularities an op is built with (the operation level lives in the supernet)."""

    filter: bool = False
    weight: bool = False

    @classmethod
    def of(cls, granularities: frozenset[str]) -> "Units":
        return cls(filter="filter" in granularities, weight="weight" in granularities)

    @property
    def any(self) -> bool:
        return self.filter or self.weight


NO_UNITS = Units()


class FilterGate(nn.Module):
    """Channel gate sigmoid(p) · mask_filter, mask_filter = H(sigmoid(p) - t_filter) AND committed (SPEC §2, §3.1).

    `thresholded=False` (the FactorizedReduce skip) gates by sigmoid(p) · committed only; its mask stays all ones.
    """

    def __init__(self, channels: int, *, thresholded: bool = True) -> None:
        super().__init__()
        self.thresholded = thresholded
        self.score = nn.Parameter(torch.zeros(channels))  # p, init 0 (sigmoid = 0.5)
        self.register_buffer("committed", torch.ones(channels, dtype=torch.bool))

    def factor(self, threshold: Tensor | None) -> Tensor:
        """(C,) soft gate times hard mask; without a threshold only the committed mask applies."""
        soft = torch.sigmoid(self.score)
        if self.thresholded and threshold is not None:
            return soft * (binary_step(soft - threshold) * self.committed)
        return soft * self.committed.to(soft.dtype)

    def forward(self, x: Tensor, threshold: Tensor | None = None) -> Tensor:
        return x * self.factor(threshold).view(1, -1, 1, 1)  # (N, C, H, W) · (1, C, 1, 1)

    @torch.no_grad()
    def commit(self, threshold: Tensor) -> Tensor:
        """committed ← committed AND (sigmoid(p) > t); returns the number newly masked (0-d, no sync)."""
        if not self.thresholded:
            return self.committed.new_zeros((), dtype=torch.long)
        new = self.committed & (torch.sigmoid(self.score) - threshold > 0)
        newly = (self.committed & ~new).sum()
        self.committed.copy_(new)
        return newly

    def live(self) -> Tensor:
        return self.committed.sum()


class MaskedConv2d(nn.Conv2d):
    """A conv that uses w · mask_weight, mask_weight = H(|w| - t_weight) AND committed (SPEC §2, §3.1).

    Same parameters and initialisation as nn.Conv2d; without a threshold only the committed mask applies.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("committed", torch.ones(self.weight.shape, dtype=torch.bool))

    def mask(self, threshold: Tensor | None) -> Tensor:
        if threshold is None:
            return self.committed.to(self.weight.dtype)
        return binary_step(self.weight.abs() - threshold) * self.committed  # (C_out, C_in/g, k, k)

    def forward(self, x: Tensor, threshold: Tensor | None = None) -> Tensor:  # type: ignore[override]
        return self._conv_forward(x, self.weight * self.mask(threshold), self.bias)

    @torch.no_grad()
    def commit(self, threshold: Tensor) -> Tensor:
        """committed ← committed AND (|w| > t); returns the number newly masked (0-d, no sync)."""
        new = self.committed & (self.weight.abs() - threshold > 0)
        newly = (self.committed & ~new).sum()
        self.committed.copy_(new)
        return newly


@dataclass(frozen=True)
class UnitLayer:
    """One conv of a unit op: its attribute name and the gates of its output and input channels (or None)."""

    conv: str
    out_gate: str | None = None
    in_gate: str | None = None


class UnitOp(nn.Module):
    """Shared bookkeeping for ops with filter/weight units (sep, dil): the cell passes them (t_filter, t_weight).
    Each op declares its `unit_layers`, in order, and the gates it owns; a level that is off counts as all-live."""

    unit_layers: tuple[UnitLayer, ...] = ()
    gate_names: tuple[str, ...] = ()

    def _init_units(self, units: Units, widths: dict[str, int]) -> None:
        self.units = units
        for name in self.gate_names:
            setattr(self, name, FilterGate(widths[name]) if units.filter else None)

    def _conv(self, name: str, x: Tensor, t_weight: Tensor | None) -> Tensor:
        conv = getattr(self, name)
        return conv(x, t_weight) if self.units.weight else conv(x)

    def _gate(self, name: str, x: Tensor, t_filter: Tensor | None) -> Tensor:
        gate = getattr(self, name)
        return x if gate is None else gate(x, t_filter)

    def _active(self, gate: str | None, channels: int) -> Tensor | int:
        g = getattr(self, gate) if gate is not None else None
        return channels if g is None else g.live()

    @torch.no_grad()
    def commit_units(self, t_filter: Tensor | None, t_weight: Tensor | None) -> tuple[list[Tensor], list[Tensor]]:
        """Commit this op's filter and weight masks (SPEC §3.2); (filters newly masked, weights newly masked)."""
        gates = [getattr(self, n) for n in self.gate_names] if t_filter is not None and self.units.filter else []
        weighted = t_weight is not None and self.units.weight
        convs = [getattr(self, la.conv) for la in self.unit_layers] if weighted else []
        return [g.commit(t_filter) for g in gates], [c.commit(t_weight) for c in convs]

    def counted_weights(self) -> Tensor | int:
        """SPEC §3.4: all weights of the first conv, then weights per filter × active filters for each later one."""
        first, *rest = self.unit_layers
        total: Tensor | int = getattr(self, first.conv).weight.numel()
        for la in rest:
            w = getattr(self, la.conv).weight
            total = total + (w.numel() // w.shape[0]) * self._active(la.out_gate, w.shape[0])
        return total

    def live_weights(self) -> Tensor | int:
        """size_o of the size-aware R_op factor: committed weights whose output and input filters are live."""
        convs = [(la, getattr(self, la.conv)) for la in self.unit_layers]
        if not self.units.any:
            return sum(conv.weight.numel() for _, conv in convs)
        total: Tensor | int = 0
        for la, conv in convs:
            keep = conv.committed if self.units.weight else torch.ones_like(conv.weight, dtype=torch.bool)
            for gate, shape in ((la.out_gate, (-1, 1, 1, 1)), (la.in_gate, (1, -1, 1, 1))):
                if gate is not None and getattr(self, gate) is not None:
                    keep = keep & getattr(self, gate).committed.view(shape)  # (C_out, C_in/g, k, k)
            total = total + keep.sum()
        return total

    def filter_units(self) -> tuple[Tensor | int, int]:
        """(committed, total) output filters of the pointwise layers (those with a gate)."""
        live: Tensor | int = 0
        total = 0
        for la in self.unit_layers:
            if la.out_gate is not None and _is_pointwise(getattr(self, la.conv)):
                c = getattr(self, la.conv).out_channels
                live, total = live + self._active(la.out_gate, c), total + c
        return live, total

    def weight_units(self) -> tuple[Tensor | int, int]:
        """(committed, total) weights of the masked convs."""
        convs = [getattr(self, la.conv) for la in self.unit_layers]
        total = sum(c.weight.numel() for c in convs)
        if not self.units.weight:
            return total, total
        live: Tensor | int = 0
        for c in convs:
            live = live + c.committed.sum()
        return live, total


def _is_pointwise(conv: nn.Conv2d) -> bool:
    return conv.kernel_size == (1, 1) and conv.groups == 1


def sum_counts(*lists: list[Tensor | int]) -> list[int]:
    """Sum each list of ints and 0-d tensors, with one host sync for all of them (statistics, commit time)."""
    ints = [sum(p for p in parts if isinstance(p, int)) for parts in lists]
    tensors = [[p for p in parts if isinstance(p, Tensor)] for parts in lists]
    found = [t for ts in tensors for t in ts]
    if not found:
        return ints
    zero = torch.zeros((), device=found[0].device, dtype=torch.long)
    sums = torch.stack([torch.stack(ts).sum() if ts else zero for ts in tensors]).tolist()
    return [int(i + s) for i, s in zip(ints, sums)]
