"""Regrowth execution (SPEC §4.3): the controller samples which pruned ops come back; the runtime revives exactly
those, as fresh ops at the cell's current (possibly shrunk) widths."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .ops import live_weights
from .supernet import PRUNED_ALPHA_SHIFT, Supernet

__all__ = ["regrow", "regrow_statistics"]


@torch.no_grad()
def regrow_statistics(net: Supernet, alpha_optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """`weights` = sigmoid(α) and `momentum` = the α optimizer's momentum buffer (zeros if none), both (L, E, K)
    float32 on the CPU, plus the committed op mask `committed` (L, E, K) float32: the controller samples from
    these (SPEC §4.3)."""
    buf = None
    if alpha_optimizer is not None:
        buf = alpha_optimizer.state.get(net.alphas, {}).get("momentum_buffer")
    momentum = torch.zeros_like(net.alphas) if buf is None else buf
    return {
        "weights": torch.sigmoid(net.alphas.detach()).float().cpu(),
        "momentum": momentum.detach().float().cpu(),
        "committed": net.committed.detach().float().cpu(),
    }


@torch.no_grad()
def regrow(net: Supernet, ops: list[tuple[int, int, int]]) -> list[nn.Module]:
    """Revive each (cell, edge, op): α += 10000 (its value before pruning), committed mask 1, a freshly
    initialised op at the cell's current width (sep mid = that width) with all-ones filter and weight masks and
    zero filter scores, the cell's live set and op_sizes updated. Raises ValueError for a live op, a duplicate or
    an index out of range, before changing anything. Returns the new modules; their parameters have no optimizer
    state yet, so rebuild the weight and filter-score optimizers (optim.rebuild_after_change)."""
    num_l, num_e, num_k = net.committed.shape
    wanted = [(int(c), int(e), int(k)) for c, e, k in ops]
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"regrow: duplicate ops in {wanted}")
    for c, e, k in wanted:
        if not (0 <= c < num_l and 0 <= e < num_e and 0 <= k < num_k):
            raise ValueError(f"regrow: ({c},{e},{k}) out of range (L, E, K) = {(num_l, num_e, num_k)}")
        if not net.cells[c].is_candidate(e, k):
            raise ValueError(f"regrow: op ({c},{e},{k}) is not a candidate of that layer")
        if k in net.cells[c].live_ops[e] or bool(net.committed[c, e, k] > 0):
            raise ValueError(f"regrow: op ({c},{e},{k}) is live; only pruned ops can be revived")
    ref = net.stem[0].weight
    channels_last = ref.is_contiguous(memory_format=torch.channels_last) and not ref.is_contiguous()
    built = []
    for c, e, k in wanted:
        cell = net.cells[c]
        op = cell.fresh_op(e, k, net.config.ops[k])
        op = op.to(device=ref.device, dtype=ref.dtype)
        if channels_last:
            op = op.to(memory_format=torch.channels_last)
        op.train(net.training)
        cell.edges[e][k] = op
        cell.live_ops[e] = sorted([*cell.live_ops[e], k])
        net.committed[c, e, k] = 1.0
        net.alphas[c, e, k] += PRUNED_ALPHA_SHIFT
        net.op_sizes[c, e, k] = float(live_weights(op))
        built.append(op)
    return built
