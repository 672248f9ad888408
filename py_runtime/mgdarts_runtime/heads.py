"""The search-only auxiliary heads at the ends of stages 1 and 2 (SPEC §1.1, §4.1)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

POOL_STRIDE = 3


class StageHead(nn.Module):
    """ReLU, avg-pool `pool`/3, 1×1 conv→128, BN, ReLU, `kernel`×`kernel` conv→256, BN, ReLU, linear (SPEC §1.1).

    Head 1 is pool 11 / conv 8 (meant for 32×32 maps), head 2 pool 7 / conv 4 (16×16); at those sizes the pooling
    gives exactly kernel×kernel and the conv 1×1. Where the fixed pooling would not give kernel×kernel (smaller
    inputs such as 28×28 with a stride-2 stem: 14×14 and 7×7 maps), the map is adaptively average-pooled to
    kernel×kernel instead, so the head has the same parameters and output at every input size.
    """

    def __init__(self, c_in: int, num_classes: int, pool: int, kernel: int) -> None:
        super().__init__()
        self.pool_size, self.kernel = pool, kernel
        self.relu = nn.ReLU()
        self.features = nn.Sequential(
            nn.Conv2d(c_in, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 256, kernel, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        )
        self.classifier = nn.Linear(256, num_classes)

    def _pool(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]  # Python ints: no host sync
        fits = all(s >= self.pool_size and (s - self.pool_size) // POOL_STRIDE + 1 == self.kernel for s in (h, w))
        if fits:
            return F.avg_pool2d(x, self.pool_size, POOL_STRIDE, 0, count_include_pad=False)
        return F.adaptive_avg_pool2d(x, self.kernel)  # (N, C, kernel, kernel)

    def forward(self, x: Tensor) -> Tensor:
        x = self._pool(self.relu(x))  # (N, C, k, k)
        return self.classifier(self.features(x).flatten(1))  # (N, classes)


def stage_head(stage: int, c_in: int, num_classes: int) -> StageHead:
    """Aux head 1 (pool 11, conv 8) after stage 1; aux head 2 (pool 7, conv 4) after stage 2."""
    pool, kernel = {1: (11, 8), 2: (7, 4)}[stage]
    return StageHead(c_in, num_classes, pool, kernel)
