"""The weight-mask file that goes with architecture.json (SPEC §5.1, §8.1 item 12): the committed weight masks of
every live sep/dil op, keyed "cell,edge,op.conv" (e.g. "2,5,sep_conv_3x3.dw1") as the evaluation network names
its ops, stored as bool tensors with torch.save."""
from __future__ import annotations

import os

import torch
from torch import Tensor

from .units import MaskedConv2d, UnitOp


def mask_key(cell: int, edge: int, op: str, conv: str) -> str:
    return f"{cell},{edge},{op}.{conv}"


@torch.no_grad()
def weight_masks(net) -> dict[str, Tensor]:
    """Committed masks of the live ops' masked convs, on the CPU; empty without the weight level."""
    masks: dict[str, Tensor] = {}
    for c, cell in enumerate(net.cells):
        for e, k, op in cell.unit_ops():
            for layer in op.unit_layers:
                conv = getattr(op, layer.conv)
                if isinstance(conv, MaskedConv2d):
                    masks[mask_key(c, e, net.config.ops[k], layer.conv)] = conv.committed.detach().cpu().clone()
    return masks


def save_weight_masks(net, path: str) -> dict:
    """Write the mask file atomically; returns its path, size and (masked, total) weights."""
    masks = weight_masks(net)
    tmp = f"{path}.tmp"
    torch.save(masks, tmp)
    os.replace(tmp, path)
    total = sum(m.numel() for m in masks.values())
    kept = sum(int(m.sum()) for m in masks.values())
    return {"path": path, "bytes": os.path.getsize(path), "masked": total - kept, "total": total}


@torch.no_grad()
def apply_weight_masks(masks: dict[str, Tensor], names: dict[str, MaskedConv2d]) -> int:
    """Load `masks` into the convs `names` maps them to; every conv needs its mask and every mask its conv.
    Returns the number of masked (zero) weights."""
    missing = sorted(set(names) - set(masks))
    extra = sorted(set(masks) - set(names))
    if missing or extra:
        raise ValueError(f"weight masks do not match the architecture: missing {missing[:3]}, unexpected {extra[:3]}")
    masked = 0
    for key, conv in names.items():
        mask = masks[key]
        if tuple(mask.shape) != tuple(conv.weight.shape):
            raise ValueError(f"weight mask {key}: shape {list(mask.shape)}, the conv has {list(conv.weight.shape)}")
        conv.committed.copy_(mask.to(torch.bool))
        masked += int((~conv.committed).sum())
    return masked


def unit_convs(op: torch.nn.Module) -> list[tuple[str, MaskedConv2d]]:
    """(conv name, conv) of a unit op's masked convs."""
    if not isinstance(op, UnitOp):
        return []
    return [(la.conv, getattr(op, la.conv)) for la in op.unit_layers if isinstance(getattr(op, la.conv), MaskedConv2d)]
