"""Splits an epoch's index tensor into (optionally shuffled) batches, never a training batch of one."""
from __future__ import annotations

import torch
from torch import Tensor


def epoch_batches(
    indices: Tensor, batch_size: int, generator: torch.Generator | None, shuffle: bool
) -> list[Tensor]:
    """Batches of `batch_size` over a copy of `indices`; a trailing batch of exactly 1 joins the one before."""
    if indices.dim() != 1:
        raise ValueError(f"epoch_batches: indices must be 1-D, got shape {tuple(indices.shape)}")
    if batch_size < 2:
        raise ValueError(
            f"epoch_batches: batch_size must be ≥ 2 (BatchNorm training cannot take a batch of one), got {batch_size}"
        )
    n = indices.numel()
    if n == 0:
        return []
    if n == 1:
        raise ValueError(
            "epoch_batches: the split has 1 sample, too small for BatchNorm training; use more data or a smaller "
            "validation fraction"
        )
    order = _shuffled(indices, generator) if shuffle else indices.clone()
    return list(torch.split(order, _batch_sizes(n, batch_size)))


def _shuffled(indices: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        raise ValueError("epoch_batches: shuffle=True needs a seeded torch.Generator (the global RNG is never used)")
    perm = torch.randperm(indices.numel(), generator=generator, device=generator.device)  # (n,)
    return indices[perm.to(indices.device)]


def _batch_sizes(n: int, batch_size: int) -> list[int]:
    sizes = [batch_size] * (n // batch_size)
    remainder = n % batch_size
    if remainder == 1:
        sizes[-1] += 1  # n ≥ 2 and batch_size ≥ 2 here, so there is a previous batch to join
    elif remainder:
        sizes.append(remainder)
    return sizes
