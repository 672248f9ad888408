"""One searched cell: preprocess (filter-gated with the filter level), 14 edges × K ops, pruned ops skipped."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .masks import node_edge_slices
from .ops import FactorizedReduce, ReLUConvBN, Zero, build_op
from .units import FilterGate, UnitOp, Units


def _empty_node(s: Tensor, width: int, stride: int) -> Tensor:
    """Zeros standing in for a node with no ops: (N, width, ⌈H/stride⌉, ⌈W/stride⌉)."""
    n, _, h, w = s.shape
    return s.new_zeros(n, width, -(-h // stride), -(-w // stride))


def _scalars(t: Tensor | None) -> list[Tensor] | None:
    """(E, K) → E·K 0-d views, edge-major (one unbind, no copies)."""
    return None if t is None else list(t.reshape(-1).unbind(0))


class SearchCell(nn.Module):
    """node = Σ sigmoid(α)·mask·op over the live ops (SPEC §1.1, §2). With the filter level each preprocess output
    is gated per filter with its own threshold; sep/dil ops get their op's t_filter and t_weight."""

    def __init__(
        self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, ops: tuple[str, ...], nodes: int,
        units: Units,
    ) -> None:
        super().__init__()
        self.reduction, self.channels, self.num_ops, self.units = reduction, c, len(ops), units
        pre0: nn.Module = FactorizedReduce(c_pp, c, False) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.preprocess0 = pre0
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self.node_slices = node_edge_slices(nodes)
        # stride 2 on the edges leaving the two cell inputs of a reduction cell
        self.edge_strides = [
            2 if reduction and e - s.start < 2 else 1 for s in self.node_slices for e in range(s.start, s.stop)
        ]
        self.edges = nn.ModuleList(
            nn.ModuleList(build_op(name, c, stride, search=True, units=units) for name in ops)
            for stride in self.edge_strides
        )
        self.live_ops: list[list[int]] = [list(range(len(ops))) for _ in self.edge_strides]  # host-side live set
        # the two preprocess layers' filters (each its own threshold); the ReLUConvBN's BN output is gated
        self.preprocess_gates = nn.ModuleList([FilterGate(c), FilterGate(c)]) if units.filter else None

    def prune(self, edge: int, op: int) -> None:
        """Replace an op by Zero (freeing its parameters) and drop it from the live set."""
        self.edges[edge][op] = Zero(self.edge_strides[edge])
        self.live_ops[edge] = [k for k in self.live_ops[edge] if k != op]

    def is_candidate(self, edge: int, op: int) -> bool:
        """Every op of the vocabulary is a candidate on every edge of this space."""
        return 0 <= edge < len(self.edges) and 0 <= op < self.num_ops

    def fresh_op(self, edge: int, op: int, name: str) -> nn.Module:
        """A freshly initialised op at the cell's current width (regrowth, SPEC §4.3)."""
        return build_op(name, self.channels, self.edge_strides[edge], search=True, units=self.units)

    def unit_ops(self) -> list[tuple[int, int, UnitOp]]:
        """(edge, op, module) of every live op with filter/weight units."""
        edges = enumerate(self.edges)
        return [(e, k, ops[k]) for e, ops in edges for k in self.live_ops[e] if isinstance(ops[k], UnitOp)]

    def forward(
        self, s0: Tensor, s1: Tensor, weights: Tensor, masks: Tensor,
        t_filter: Tensor | None = None, t_weight: Tensor | None = None, t_pre: Tensor | None = None,
    ) -> Tensor:
        """weights, masks, t_filter, t_weight: (E, K); t_pre: (2,). Pruned ops are not run at all (SPEC §3.2)."""
        gate = (weights * masks).reshape(-1).unbind(0)  # E·K scalars, edge-major
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        if self.preprocess_gates is not None:
            pre = [None, None] if t_pre is None else t_pre.unbind(0)
            states = [g(s, t) for g, s, t in zip(self.preprocess_gates, states, pre)]
        tf, tw = _scalars(t_filter), _scalars(t_weight)
        stride = 2 if self.reduction else 1
        for node in self.node_slices:
            acc: Tensor | None = None
            for e in range(node.start, node.stop):
                h, ops = states[e - node.start], self.edges[e]
                for k in self.live_ops[e]:
                    i, op = e * self.num_ops + k, ops[k]
                    if self.units.any and isinstance(op, UnitOp):
                        y = op(h, tf[i] if tf else None, tw[i] if tw else None) * gate[i]
                    else:
                        y = op(h) * gate[i]
                    acc = y if acc is None else acc + y
            states.append(acc if acc is not None else _empty_node(states[1], self.channels, stride))
        return torch.cat(states[2:], dim=1)  # (N, nodes·C, H', W')

    @torch.no_grad()
    def commit_units(
        self, t_filter: Tensor | None, t_weight: Tensor | None, t_pre: Tensor | None
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Commit the preprocess gates and every live op's filter/weight masks; (filter counts, weight counts)."""
        filters: list[Tensor] = []
        weights: list[Tensor] = []
        if self.preprocess_gates is not None and t_pre is not None:
            filters += [g.commit(t_pre[i]) for i, g in enumerate(self.preprocess_gates)]
        for e, k, op in self.unit_ops():
            f, w = op.commit_units(
                t_filter[e, k] if t_filter is not None else None, t_weight[e, k] if t_weight is not None else None
            )
            filters += f
            weights += w
        return filters, weights

    def preprocess_filter_units(self) -> tuple[Tensor | int, int]:
        """(committed, total) filters of the two preprocess layers."""
        if self.preprocess_gates is None:
            return 2 * self.channels, 2 * self.channels
        live = self.preprocess_gates[0].live() + self.preprocess_gates[1].live()
        return live, 2 * self.channels
