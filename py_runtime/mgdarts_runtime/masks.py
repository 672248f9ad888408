"""Hard binary masks with the DST straight-through derivative (SPEC §3.1) and the op connectivity guard (§3.2)."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def ste_derivative(x: Tensor) -> Tensor:
    """Piecewise straight-through derivative of H at x = score - threshold (SPEC §3.1)."""
    a = x.abs()
    # 2 - 4|x| for |x| <= 0.4; 0.4 for 0.4 < |x| <= 1; 0 beyond (the branches meet at |x| = 0.4)
    return torch.where(a <= 0.4, 2.0 - 4.0 * a, 0.4 * (a <= 1.0).to(x.dtype))


class BinaryStep(torch.autograd.Function):
    """H(x) = 1 if x > 0 else 0; backward uses `ste_derivative` (SPEC §3.1)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * ste_derivative(x)


def binary_step(x: Tensor) -> Tensor:
    """Hard step with the STE backward; pass x = score - threshold so both get gradient."""
    return BinaryStep.apply(x)


def num_edges(nodes: int = 4) -> int:
    """Edges of a cell: intermediate node i (0-based) has 2 + i inputs (SPEC §1.1)."""
    return sum(2 + i for i in range(nodes))


def node_edge_slices(nodes: int = 4) -> list[slice]:
    """Edge range of each intermediate node: node 2 = edges 0-1, node 3 = 2-4, node 4 = 5-8, node 5 = 9-13."""
    slices, start = [], 0
    for i in range(nodes):
        slices.append(slice(start, start + 2 + i))
        start += 2 + i
    return slices


def edge_node_membership(nodes: int, device: torch.device) -> Tensor:
    """(E, N) bool, True where edge e feeds intermediate node n; built on `device` (no host copy)."""
    n = torch.arange(nodes, device=device)
    starts = 2 * n + n * (n - 1) // 2  # (N,) first edge of node n
    ends = starts + 2 + n  # (N,) one past its last edge
    e = torch.arange(num_edges(nodes), device=device)[:, None]  # (E, 1)
    return (e >= starts[None, :]) & (e < ends[None, :])  # (E, N)


def guarded_op_masks(weights: Tensor, thresholds: Tensor, committed: Tensor, nodes: int = 4) -> Tensor:
    """Dynamic op masks H(sigmoid(α) - t) · committed, with the per-node guard of SPEC §3.2.

    weights, thresholds, committed: (*B, E, K) (B optional, e.g. L cells). Returns (*B, E, K) float.

    The reference walks each node's ops with a running sum of the weights not yet masked and keeps an op
    whose weight equals that sum. Pruned ops have sigmoid(α) ≈ 0, so that happens exactly for the last live
    op in edge-major order when every live op before it was masked: "if no live op of the node is kept,
    keep its last live op". If the last live op passes its own threshold the two rules agree as well.
    (Unlike the reference we do not treat a live op with sigmoid(α) < 1e-5 as pruned.)
    """
    *_, num_e, num_k = weights.shape
    live = committed > 0  # (*B, E, K)
    dynamic = binary_step(weights - thresholds) * live.to(weights.dtype)  # (*B, E, K)
    member = edge_node_membership(nodes, weights.device)  # (E, N)
    member_ek = member[:, None, :]  # (E, 1, N) broadcast over ops
    kept = ((dynamic.detach() > 0)[..., None] & member_ek).flatten(-3, -2).any(dim=-2)  # (*B, N)
    order = torch.arange(1, num_e * num_k + 1, device=weights.device).view(num_e, num_k)  # (E, K), 1-based
    key = torch.where(live, order, 0)  # (*B, E, K) edge-major position of live ops, 0 for pruned ones
    last = (key[..., None] * member_ek).flatten(-3, -2).amax(dim=-2)  # (*B, N) position of last live op
    node = member.long().argmax(dim=1)  # (E,) node fed by each edge
    force = (key == last.index_select(-1, node)[..., None]) & live  # (*B, E, K) last live op of its node
    force = force & ~kept.index_select(-1, node)[..., None]  # ... only where its node kept nothing
    # Forced entries have dynamic == 0, so the value becomes exactly 1 while the STE gradient still flows.
    return dynamic + force.to(weights.dtype) * (1.0 - dynamic).detach()
