"""Batched on-device augmentation (crop, flip, AutoAugment, normalise, cutout) of uint8 image batches into
float batches."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .autoaugment import auto_augment


@dataclass(frozen=True)
class AugmentConfig:
    crop_padding: int = 0  # random crop after zero padding by this many pixels per side; 0 = off
    flip: bool = False  # horizontal flip with p = 0.5 per sample
    cutout: int = 0  # side of the zeroed Cutout square; 0 = off
    auto_augment: bool = False  # AutoAugment's CIFAR-10 policy on the uint8 images, after crop and flip

    def __post_init__(self) -> None:
        for field in ("crop_padding", "cutout"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"AugmentConfig.{field} must be an integer ≥ 0, got {value!r}")
        for field in ("flip", "auto_augment"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"AugmentConfig.{field} must be true or false, got {getattr(self, field)!r}")


def augment_batch(
    images_u8: Tensor,
    cfg: AugmentConfig,
    mean: Sequence[float],
    std: Sequence[float],
    generator: torch.Generator,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> Tensor:
    """Crop, flip, AutoAugment, normalise, then Cutout a (B, C, H, W) uint8 batch (the reference order);
    `generator` must be on its device."""
    _check_images(images_u8)
    x = images_u8
    if cfg.crop_padding > 0:
        x = random_crop(x, cfg.crop_padding, generator)
    if cfg.flip:
        x = random_flip(x, generator)
    if cfg.auto_augment:
        x = auto_augment(x, generator)
    out = normalize_batch(x, mean, std)
    if cfg.cutout > 0:
        out = cutout(out, cfg.cutout, generator)
    return out.contiguous(memory_format=memory_format)


def normalize_batch(
    images_u8: Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    memory_format: torch.memory_format = torch.contiguous_format,
) -> Tensor:
    """(x / 255 - mean) / std per channel, as float32 (evaluation path: no augmentation)."""
    _check_images(images_u8)
    channels = images_u8.shape[1]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"mean/std have {len(mean)}/{len(std)} entries but the images have {channels} channels")
    if any(s <= 0 for s in std):
        raise ValueError(f"std must be > 0 in every channel, got {tuple(std)}")
    device = images_u8.device
    mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)  # (1, C, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)  # (1, C, 1, 1)
    out = (images_u8.to(torch.float32) / 255.0 - mean_t) / std_t
    return out.contiguous(memory_format=memory_format)


def random_crop(images: Tensor, padding: int, generator: torch.Generator) -> Tensor:
    """Per-sample random H×W window of the batch zero-padded by `padding` on each side (no loop)."""
    b, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))  # (B, C, H+2p, W+2p), zeros outside
    pw = w + 2 * padding
    off_y = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=device)  # (B,)
    off_x = torch.randint(0, 2 * padding + 1, (b,), generator=generator, device=device)  # (B,)
    # one gather over the flattened padded image: ~4x faster on CPU than indexing with four index tensors
    window = (torch.arange(h, device=device)[:, None] * pw + torch.arange(w, device=device)).view(1, -1)  # (1, HW)
    flat = (window + (off_y * pw + off_x)[:, None])[:, None, :].expand(b, c, h * w)  # (B, C, HW)
    return padded.reshape(b, c, -1).gather(2, flat).view(b, c, h, w)


def random_flip(images: Tensor, generator: torch.Generator) -> Tensor:
    """Mirrors each sample left-right with probability 0.5."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5  # (B,)
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def cutout(images: Tensor, length: int, generator: torch.Generator) -> Tensor:
    """Zeroes a length×length square per sample, centre uniform over the whole image, clipped at the border.

    Rows y - length//2 .. y - length//2 + length - 1 (likewise columns), so the side is `length` for odd
    lengths too; for even lengths this is the reference Cutout (DeVries & Taylor 2017, DARTS utils.py).
    """
    b, _, h, w = images.shape
    cy = torch.randint(0, h, (b,), generator=generator, device=images.device)  # (B,)
    cx = torch.randint(0, w, (b,), generator=generator, device=images.device)  # (B,)
    patch = cutout_mask(cy, cx, length, h, w)  # (B, H, W)
    return images.masked_fill(patch[:, None], 0.0)


def cutout_mask(cy: Tensor, cx: Tensor, length: int, h: int, w: int) -> Tensor:
    """(B, H, W) bool mask, true inside each sample's Cutout square centred at (cy, cx), clipped at the border."""
    rows = _band(cy - length // 2, length, h)  # (B, H)
    cols = _band(cx - length // 2, length, w)  # (B, W)
    return rows[:, :, None] & cols[:, None, :]


def _band(start: Tensor, length: int, size: int) -> Tensor:
    """(B, size) mask of positions in [start, start + length) per sample; out-of-range parts drop off."""
    positions = torch.arange(size, device=start.device)[None, :]  # (1, size)
    return (positions >= start[:, None]) & (positions < start[:, None] + length)


def _check_images(images_u8: Tensor) -> None:
    if images_u8.dtype != torch.uint8 or images_u8.dim() != 4:
        raise ValueError(
            f"expected a uint8 (B, C, H, W) image batch, got {images_u8.dtype} with shape {tuple(images_u8.shape)}"
        )
