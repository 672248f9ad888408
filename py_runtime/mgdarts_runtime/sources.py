"""Where batches come from: the whole dataset on the device (indexed), or a DataLoader with workers; both yield
uint8 (B, C, H, W) images and int64 labels on the device, batched by the same seeded `epoch_batches`."""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .datasets import ImageDataset


class DeviceSource:
    """The dataset's tensors live on the device; a batch is one indexing of them (the fast path)."""

    kind = "device"

    def __init__(self, data: ImageDataset) -> None:
        self.data = data

    def test_indices(self) -> Tensor:
        return torch.arange(len(self.data.test_labels))

    def batches(self, split: str, batches: list[Tensor], seed: int = 0) -> Iterator[tuple[Tensor, Tensor]]:
        """`split` "train" (augmented later), "valid" (training images, not augmented) or "test"; `seed` is unused
        (the device path's only randomness is the batch order and the on-device augmentation)."""
        images, labels = (self.data.test_images, self.data.test_labels) if split == "test" else (self.data.train_images, self.data.train_labels)
        for idx in batches:
            idx = idx.to(images.device)
            yield images[idx], labels[idx]


class LoaderSource:
    """Datasets too big for the device, read and decoded by DataLoader workers. Each item is asked for as
    (index, seed) so that random crops depend on the epoch's seed and the item only, not on the workers."""

    kind = "loader"

    def __init__(self, train: Dataset, train_eval: Dataset, test: Dataset, test_size: int, workers: int, device: torch.device) -> None:
        self.train, self.train_eval, self.test = train, train_eval, test
        self.test_size, self.workers, self.device = test_size, workers, device

    def test_indices(self) -> Tensor:
        return torch.arange(self.test_size)

    def batches(self, split: str, batches: list[Tensor], seed: int = 0) -> Iterator[tuple[Tensor, Tensor]]:
        dataset = {"train": self.train, "valid": self.train_eval, "test": self.test}[split]
        sampler = [[(int(i), seed * 1_000_003 + int(i)) for i in idx] for idx in batches]
        loader = DataLoader(
            dataset, batch_sampler=sampler, num_workers=self.workers, collate_fn=collate_uint8,
            pin_memory=self.device.type == "cuda", persistent_workers=False,
        )
        for images, labels in loader:
            yield images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)


def collate_uint8(items: list[tuple[Tensor, int]]) -> tuple[Tensor, Tensor]:
    shapes = {tuple(x.shape) for x, _ in items}
    if len(shapes) != 1:
        raise ValueError(f"images of one batch differ in shape: {sorted(shapes)}; every image must have the same (C, H, W)")
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items], dtype=torch.int64)


def source_of(state) -> DeviceSource | LoaderSource:
    """The loaded dataset's batch source: a DataLoader source when load_data made one, else the device tensors."""
    return state.source if state.source is not None else DeviceSource(state.require_data())
