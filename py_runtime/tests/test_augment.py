"""Tests for batched augmentation: shapes, normalisation, crop windows, flips, Cutout size, determinism."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mgdarts_runtime.augment import AugmentConfig, augment_batch, cutout_mask, normalize_batch

IDENTITY = ((0.0,), (1.0,))  # mean, std that leave x / 255 unchanged


def make_generator(device: torch.device, seed: int = 0) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def random_images(device: torch.device, shape: tuple[int, ...] = (16, 1, 8, 8), seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=g, dtype=torch.uint8).to(device)


def to_u8(x: torch.Tensor) -> torch.Tensor:
    """Inverse of normalisation with mean 0, std 1."""
    return (x * 255).round().to(torch.uint8)


@pytest.mark.parametrize(
    "cfg", [AugmentConfig(), AugmentConfig(crop_padding=2, flip=True, cutout=3)], ids=["none", "all"]
)
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_shapes_dtypes_and_memory_format(
    device: torch.device, cfg: AugmentConfig, memory_format: torch.memory_format
) -> None:
    images = random_images(device, (4, 3, 6, 5))
    out = augment_batch(images, cfg, (0.5,) * 3, (0.25,) * 3, make_generator(device), memory_format=memory_format)
    assert out.shape == (4, 3, 6, 5) and out.dtype == torch.float32 and out.device == images.device
    assert out.is_contiguous(memory_format=memory_format)


def test_normalisation_per_channel(device: torch.device) -> None:
    images = random_images(device, (2, 3, 4, 4))
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    expected = (images.double() / 255 - torch.tensor(mean, device=device).view(1, 3, 1, 1)) / torch.tensor(
        std, device=device
    ).view(1, 3, 1, 1)
    torch.testing.assert_close(normalize_batch(images, mean, std), expected.float())
    augmented = augment_batch(images, AugmentConfig(), mean, std, make_generator(device))
    torch.testing.assert_close(augmented, expected.float())


def test_crop_is_a_window_of_the_zero_padded_input(device: torch.device) -> None:
    p = 2
    images = random_images(device)
    out = to_u8(augment_batch(images, AugmentConfig(crop_padding=p), *IDENTITY, make_generator(device)))
    padded = F.pad(images, (p, p, p, p))
    offsets = set()
    for i in range(len(images)):
        matches = [
            (dy, dx)
            for dy in range(2 * p + 1)
            for dx in range(2 * p + 1)
            if torch.equal(out[i], padded[i, :, dy : dy + 8, dx : dx + 8])
        ]
        assert matches, f"sample {i} is not a window of the padded input"
        offsets.update(matches)
    assert len(offsets) > 1


def test_flip_some_and_not_others(device: torch.device) -> None:
    images = random_images(device, (32, 1, 8, 8))
    out = to_u8(augment_batch(images, AugmentConfig(flip=True), *IDENTITY, make_generator(device)))
    flipped = [torch.equal(out[i], images[i].flip(2)) for i in range(32)]
    kept = [torch.equal(out[i], images[i]) for i in range(32)]
    assert all(f != k for f, k in zip(flipped, kept))
    assert 0 < sum(flipped) < 32


@pytest.mark.parametrize("length", [4, 5])
def test_cutout_square_is_exactly_length(device: torch.device, length: int) -> None:
    centre = torch.tensor([10], device=device)
    assert int(cutout_mask(centre, centre, length, 20, 20).sum()) == length * length


@pytest.mark.parametrize(("length", "corner_side"), [(4, 2), (5, 3)])
def test_cutout_clipped_at_corners(device: torch.device, length: int, corner_side: int) -> None:
    zero, last = torch.tensor([0], device=device), torch.tensor([19], device=device)
    assert int(cutout_mask(zero, zero, length, 20, 20).sum()) == corner_side**2
    # Rows 19 - length//2 .. 19 - length//2 + length - 1, clipped to 19: three rows for both lengths.
    assert int(cutout_mask(last, last, length, 20, 20).sum()) == 9


@pytest.mark.parametrize("length", [4, 5])
def test_cutout_through_augment_batch(device: torch.device, length: int) -> None:
    ones = torch.full((64, 1, 16, 16), 255, dtype=torch.uint8, device=device)
    out = augment_batch(ones, AugmentConfig(cutout=length), *IDENTITY, make_generator(device))
    zeros = (out == 0)[:, 0]  # (B, H, W)
    counts = zeros.sum(dim=(1, 2))
    rows, cols = zeros.any(dim=2).sum(dim=1), zeros.any(dim=1).sum(dim=1)
    assert torch.equal(counts, rows * cols)  # each zeroed region is one rectangle
    assert int(counts.max()) == length * length and int(counts.min()) >= 1
    assert bool((out[~zeros[:, None]] == 1).all())


def test_same_seed_same_batch(device: torch.device) -> None:
    images = random_images(device, (8, 1, 8, 8))
    cfg = AugmentConfig(crop_padding=1, flip=True, cutout=3)
    a = augment_batch(images, cfg, (0.3,), (0.4,), make_generator(device, 7))
    b = augment_batch(images, cfg, (0.3,), (0.4,), make_generator(device, 7))
    c = augment_batch(images, cfg, (0.3,), (0.4,), make_generator(device, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_global_rng_untouched(device: torch.device) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    augment_batch(random_images(device), AugmentConfig(2, True, 3), *IDENTITY, make_generator(device))
    assert torch.equal(torch.rand(3), expected)


def test_rejects_bad_inputs(device: torch.device) -> None:
    g = make_generator(device)
    with pytest.raises(ValueError, match="uint8"):
        augment_batch(torch.zeros(1, 1, 4, 4, device=device), AugmentConfig(), *IDENTITY, g)
    with pytest.raises(ValueError, match="3 channels"):
        normalize_batch(random_images(device, (1, 3, 4, 4)), (0.0,), (1.0,))
    with pytest.raises(ValueError, match="cutout"):
        AugmentConfig(cutout=-1)
