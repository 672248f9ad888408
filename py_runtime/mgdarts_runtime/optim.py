"""SGD optimizers for search and retraining, rebuilt with their momentum migrated whenever modules change."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def make_sgd(params: list[nn.Parameter], momentum: float, weight_decay: float) -> torch.optim.SGD:
    return torch.optim.SGD(params, lr=0.0, momentum=momentum, weight_decay=weight_decay)


def rebuild_sgd(old: torch.optim.SGD, params: list[nn.Parameter]) -> torch.optim.SGD:
    """A new optimizer over `params` that keeps the momentum of every parameter `old` already held
    (SPEC §8.1 item 8: after modules change, nothing may silently stop training)."""
    group = old.param_groups[0]
    new = torch.optim.SGD(params, lr=group["lr"], momentum=group["momentum"], weight_decay=group["weight_decay"])
    for p in params:
        if p in old.state:
            new.state[p] = old.state[p]
    return new


def set_lr(optimizer: torch.optim.SGD, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def set_sgd(optimizer: torch.optim.SGD, momentum: float, weight_decay: float) -> None:
    for group in optimizer.param_groups:
        group["momentum"], group["weight_decay"] = momentum, weight_decay


@dataclass
class SearchOptimizers:
    """One optimizer per group of SPEC §2.1: network weights, α, operation thresholds."""

    weights: torch.optim.SGD
    alpha: torch.optim.SGD
    op_threshold: torch.optim.SGD

    def arch(self) -> list[torch.optim.SGD]:
        return [self.alpha, self.op_threshold]

    def zero_grad(self) -> None:
        for opt in (self.weights, self.alpha, self.op_threshold):
            opt.zero_grad(set_to_none=True)


def build_search_optimizers(net, momentum: float, weight_decay: float) -> SearchOptimizers:
    groups = net.arch_parameter_groups()
    return SearchOptimizers(
        weights=make_sgd(net.weight_parameters(), momentum, weight_decay),
        alpha=make_sgd(groups["alpha"], momentum, 0.0),
        op_threshold=make_sgd(groups["op_threshold"], momentum, 0.0),
    )


def clear_pruned_momentum(optimizers: SearchOptimizers, net, pruned: torch.Tensor) -> None:
    """Zero the α and threshold momentum of pruned ops so no optimizer step moves them again."""
    groups = net.arch_parameter_groups()
    for opt, name in ((optimizers.alpha, "alpha"), (optimizers.op_threshold, "op_threshold")):
        for p in groups[name]:
            buf = opt.state.get(p, {}).get("momentum_buffer")
            if buf is not None:
                buf[pruned] = 0.0
