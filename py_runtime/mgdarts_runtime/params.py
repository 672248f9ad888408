"""Parameter counting of real (dense) modules, as the reference's count_parameters_in_MB (SPEC §5.3)."""
from __future__ import annotations

from torch import nn


def count_parameters(module: nn.Module, exclude_prefixes: tuple[str, ...] = ("aux",)) -> int:
    """Dense parameter count, skipping parameters whose name starts with one of `exclude_prefixes`."""
    return sum(p.numel() for name, p in module.named_parameters() if not name.startswith(exclude_prefixes))


def net_sizes(net) -> dict:
    """A supernet's sizes for replies: dense parameters (stage heads left out), the reference counter in total
    and per cell (a stage sums the cells up to its end)."""
    cells = net.cell_sizes()
    return {"params_supernet": count_parameters(net), "size_counted": sum(cells), "cell_sizes": cells}
