"""AutoAugment's CIFAR-10 policy (Cubuk et al. 2019) batched on the device: one seeded draw per image, then
each op runs once per step on all the images that drew it (ops in autoaugment_ops.py)."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch
from torch import Tensor

from .autoaugment_ops import OPS

Step = tuple[str, float, int]  # (op, probability, magnitude level 0..9)
SubPolicy = tuple[Step, Step]

# The 25 sub-policies of the common CIFAR10Policy implementation, in its order.
CIFAR10_POLICY: tuple[SubPolicy, ...] = (
    (("invert", 0.1, 7), ("contrast", 0.2, 6)),
    (("rotate", 0.7, 2), ("translate_x", 0.3, 9)),
    (("sharpness", 0.8, 1), ("sharpness", 0.9, 3)),
    (("shear_y", 0.5, 8), ("translate_y", 0.7, 9)),
    (("auto_contrast", 0.5, 8), ("equalize", 0.9, 2)),
    (("shear_y", 0.2, 7), ("posterize", 0.3, 7)),
    (("color", 0.4, 3), ("brightness", 0.6, 7)),
    (("sharpness", 0.3, 9), ("brightness", 0.7, 9)),
    (("equalize", 0.6, 5), ("equalize", 0.5, 1)),
    (("contrast", 0.6, 7), ("sharpness", 0.6, 5)),
    (("color", 0.7, 7), ("translate_x", 0.5, 8)),
    (("equalize", 0.3, 7), ("auto_contrast", 0.4, 8)),
    (("translate_y", 0.4, 3), ("sharpness", 0.2, 6)),
    (("brightness", 0.9, 6), ("color", 0.2, 8)),
    (("solarize", 0.5, 2), ("invert", 0.0, 3)),
    (("equalize", 0.2, 0), ("auto_contrast", 0.6, 0)),
    (("equalize", 0.2, 8), ("equalize", 0.8, 4)),
    (("color", 0.9, 9), ("equalize", 0.6, 6)),
    (("auto_contrast", 0.8, 4), ("solarize", 0.2, 8)),
    (("brightness", 0.1, 3), ("color", 0.7, 0)),
    (("solarize", 0.4, 5), ("auto_contrast", 0.9, 3)),
    (("translate_y", 0.9, 9), ("translate_y", 0.7, 9)),
    (("auto_contrast", 0.9, 2), ("solarize", 0.8, 3)),
    (("equalize", 0.8, 8), ("invert", 0.1, 3)),
    (("translate_y", 0.7, 9), ("auto_contrast", 0.9, 1)),
)

# (start, stop) of each op's 10-level magnitude scale, np.linspace(start, stop, 10) in the reference;
# translation is a fraction of the image side (150/331 of it at level 9), rotation in degrees.
_RANGES: dict[str, tuple[float, float]] = {
    "shear_x": (0.0, 0.3),
    "shear_y": (0.0, 0.3),
    "translate_x": (0.0, 150 / 331),
    "translate_y": (0.0, 150 / 331),
    "rotate": (0.0, 30.0),
    "color": (0.0, 0.9),
    "posterize": (8.0, 4.0),
    "solarize": (256.0, 0.0),
    "contrast": (0.0, 0.9),
    "sharpness": (0.0, 0.9),
    "brightness": (0.0, 0.9),
    "auto_contrast": (0.0, 0.0),
    "equalize": (0.0, 0.0),
    "invert": (0.0, 0.0),
}
OP_NAMES: tuple[str, ...] = tuple(OPS)


def magnitude(op: str, level: int) -> float:
    """The reference's magnitude of `op` at `level`: linspace's start + level·step; posterize rounds to bits."""
    if op not in _RANGES:
        raise ValueError(f"unknown AutoAugment op {op!r}; known: {', '.join(OP_NAMES)}")
    if not 0 <= level <= 9:
        raise ValueError(f"AutoAugment magnitude level of {op} must be 0..9, got {level}")
    start, stop = _RANGES[op]
    value = level * ((stop - start) / 9) + start
    return float(round(value)) if op == "posterize" else value


@lru_cache(maxsize=8)  # built once per policy and device, not per batch
def _policy_tables(policy: tuple[SubPolicy, ...], device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """(P, 2) op index, probability and magnitude of each step of each sub-policy."""
    # magnitudes first: magnitude() names an unknown op
    mags = torch.tensor([[magnitude(op, lvl) for op, _, lvl in sub] for sub in policy], dtype=torch.float64)
    ops = torch.tensor([[OP_NAMES.index(op) for op, _, _ in sub] for sub in policy], dtype=torch.int64)
    probs = torch.tensor([[p for _, p, _ in sub] for sub in policy], dtype=torch.float64)
    return ops.to(device), probs.to(device), mags.to(device)


def draw_decisions(
    batch: int, generator: torch.Generator, device: torch.device, policy: Sequence[SubPolicy] = CIFAR10_POLICY
) -> tuple[Tensor, Tensor, Tensor]:
    """Per image and step: the op index (-1 where the step's coin said no), its magnitude and its sign ±1.

    One sub-policy uniformly per image, then each step with its probability (`rand < p`, as the reference's
    `random.random() < p`), and a random sign for the ops that draw one; all from `generator`.
    """
    ops, probs, mags = _policy_tables(tuple(tuple(tuple(step) for step in sub) for sub in policy), torch.device(device))
    choice = torch.randint(0, len(policy), (batch,), generator=generator, device=device)  # (B,)
    coin = torch.rand((batch, 2), generator=generator, device=device, dtype=torch.float64)  # (B, 2)
    sign = torch.randint(0, 2, (batch, 2), generator=generator, device=device).to(torch.float64) * 2 - 1
    op = torch.where(coin < probs[choice], ops[choice], -1)  # (B, 2)
    return op, mags[choice], sign


def apply_decisions(images_u8: Tensor, op: Tensor, mag: Tensor, sign: Tensor) -> Tensor:
    """Runs step 1 then step 2 of every image; each op once per step over all the images that drew it."""
    out = images_u8.clone()
    op_host = op.cpu()  # one transfer per batch; the grouping below needs the counts on the host
    for step in range(2):
        for index in torch.unique(op_host[:, step]).tolist():
            if index < 0:
                continue
            rows = torch.nonzero(op_host[:, step] == index).squeeze(1).to(images_u8.device)  # (n,)
            out[rows] = OPS[OP_NAMES[index]](out[rows], mag[rows, step], sign[rows, step])
    return out


def auto_augment(
    images_u8: Tensor, generator: torch.Generator, policy: Sequence[SubPolicy] = CIFAR10_POLICY
) -> Tensor:
    """AutoAugment a (B, C, H, W) uint8 batch (C = 1 or 3) with `policy`; `generator` must be on its device."""
    if images_u8.dtype != torch.uint8 or images_u8.dim() != 4 or images_u8.shape[1] not in (1, 3):
        raise ValueError(
            f"AutoAugment needs a uint8 (B, 1 or 3, H, W) batch, got {images_u8.dtype} {tuple(images_u8.shape)}"
        )
    op, mag, sign = draw_decisions(images_u8.shape[0], generator, images_u8.device, policy)
    return apply_decisions(images_u8, op, mag, sign)
