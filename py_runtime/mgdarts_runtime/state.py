"""What the runtime holds between requests: data on the device, the supernet, the evaluation network
and their optimizers. Counters and schedules are never kept here: each request carries them."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .datasets import ImageDataset
from .errors import NotReady


@dataclass
class RuntimeState:
    device: torch.device
    channels_last: bool = False
    data: ImageDataset | None = None
    # A DataLoader source (sources.LoaderSource) for datasets read from disk per batch; None: `data` on the device.
    source: object | None = None
    train_idx: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    valid_idx: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    full_train_idx: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    supernet: torch.nn.Module | None = None
    search_opt: object | None = None
    evalnet: torch.nn.Module | None = None
    eval_opt: torch.optim.SGD | None = None

    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def require_data(self) -> ImageDataset:
        if self.data is None:
            raise NotReady("no dataset loaded: send load_data first")
        return self.data

    def require_supernet(self):
        if self.supernet is None or self.search_opt is None:
            raise NotReady("no supernet: send build_supernet first")
        return self.supernet

    def require_evalnet(self):
        if self.evalnet is None or self.eval_opt is None:
            raise NotReady("no evaluation network: send build_eval first")
        return self.evalnet
