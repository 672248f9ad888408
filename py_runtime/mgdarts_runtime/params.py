"""Parameter counting of real (dense) modules, as the reference's count_parameters_in_MB (SPEC §5.3)."""
from __future__ import annotations

from torch import nn


def count_parameters(module: nn.Module, exclude_prefixes: tuple[str, ...] = ("aux",)) -> int:
    """Dense parameter count, skipping parameters whose name starts with one of `exclude_prefixes`."""
    return sum(p.numel() for name, p in module.named_parameters() if not name.startswith(exclude_prefixes))
