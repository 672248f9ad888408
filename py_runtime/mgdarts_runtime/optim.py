"""SGD optimizers for search and retraining, rebuilt with their momentum migrated whenever modules change."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .shrink import ParamMap, rebuild_optimizer

ARCH_GROUPS = ("alpha", "op_threshold", "filter_score", "filter_threshold", "weight_threshold")


def make_sgd(params: list[nn.Parameter], momentum: float, weight_decay: float) -> torch.optim.SGD:
    return torch.optim.SGD(params, lr=0.0, momentum=momentum, weight_decay=weight_decay)


def set_lr(optimizer: torch.optim.SGD, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def set_sgd(optimizer: torch.optim.SGD, momentum: float, weight_decay: float) -> None:
    for group in optimizer.param_groups:
        group["momentum"], group["weight_decay"] = momentum, weight_decay


@dataclass
class SearchOptimizers:
    """One optimizer per group of SPEC §2.1: network weights, and each architecture group that is in use
    (α, op thresholds, filter scores, filter thresholds, weight thresholds)."""

    weights: torch.optim.SGD
    arch: dict[str, torch.optim.SGD] = field(default_factory=dict)

    def all(self) -> list[torch.optim.SGD]:
        return [self.weights, *self.arch.values()]

    def zero_grad(self) -> None:
        for opt in self.all():
            opt.zero_grad(set_to_none=True)


def build_search_optimizers(net, momentum: float, weight_decay: float) -> SearchOptimizers:
    groups = net.arch_parameter_groups()
    return SearchOptimizers(
        weights=make_sgd(net.weight_parameters(), momentum, weight_decay),
        arch={name: make_sgd(params, momentum, 0.0) for name, params in groups.items() if params},
    )


def rebuild_after_change(optimizers: SearchOptimizers, net, mapping: ParamMap | None = None) -> None:
    """Point every optimizer at the live tensors again after modules changed (prune, regrow, shrink), keeping
    the momentum of unchanged tensors and slicing it for those a shrink rebuilt (`mapping`), SPEC §8.1 item 8."""
    optimizers.weights = rebuild_optimizer(optimizers.weights, net.weight_parameters(), mapping)
    for name, params in net.arch_parameter_groups().items():
        if name in optimizers.arch and params:
            optimizers.arch[name] = rebuild_optimizer(optimizers.arch[name], params, mapping)


def clear_pruned_momentum(optimizers: SearchOptimizers, net, pruned: torch.Tensor) -> None:
    """Zero the (L, E, K) momentum of pruned ops (α and per-op thresholds) so no step moves them again."""
    groups = net.arch_parameter_groups()
    for name, opt in optimizers.arch.items():
        for p in groups[name]:
            buf = opt.state.get(p, {}).get("momentum_buffer")
            if buf is not None and buf.shape == pruned.shape:
                buf[pruned] = 0.0
