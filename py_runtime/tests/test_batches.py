"""Tests for epoch batching: sizes, the no-batch-of-one rule, coverage, shuffling with a given generator."""
from __future__ import annotations

import pytest
import torch

from mgdarts_runtime.batches import epoch_batches


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(65, [65]), (130, [64, 64, 2]), (128, [64, 64]), (129, [64, 65]), (70, [64, 6]), (5, [5]), (2, [2]), (0, [])],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_sizes_and_coverage(device: torch.device, n: int, sizes: list[int], shuffle: bool) -> None:
    indices = torch.arange(100, 100 + n, device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    batches = epoch_batches(indices, 64, generator, shuffle)
    assert [len(b) for b in batches] == sizes
    assert sorted(torch.cat(batches).tolist() if batches else []) == list(range(100, 100 + n))


def test_shuffle_is_seeded_and_leaves_input_alone(device: torch.device) -> None:
    indices = torch.arange(200, device=device)

    def run(seed: int) -> torch.Tensor:
        return torch.cat(epoch_batches(indices, 64, torch.Generator(device=device).manual_seed(seed), True))

    assert torch.equal(run(1), run(1)) and not torch.equal(run(1), run(2))
    assert not torch.equal(run(1), indices)
    assert torch.equal(indices, torch.arange(200, device=device))


def test_no_shuffle_keeps_order_and_copies(device: torch.device) -> None:
    indices = torch.arange(10, device=device)
    batches = epoch_batches(indices, 4, None, shuffle=False)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    batches[0][0] = 99
    assert int(indices[0]) == 0


def test_errors() -> None:
    with pytest.raises(ValueError, match="1 sample, too small for BatchNorm"):
        epoch_batches(torch.tensor([7]), 64, None, shuffle=False)
    with pytest.raises(ValueError, match="seeded torch.Generator"):
        epoch_batches(torch.arange(4), 2, None, shuffle=True)
    with pytest.raises(ValueError, match="batch_size must be ≥ 2"):
        epoch_batches(torch.arange(4), 1, None, shuffle=False)
    with pytest.raises(ValueError, match="1-D"):
        epoch_batches(torch.zeros(2, 2, dtype=torch.int64), 2, None, shuffle=False)
