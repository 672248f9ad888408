"""Data-path benchmark: images per second of the on-device batched augmentation (augment.py) against a plain
per-sample torch DataLoader doing the same transforms, over the same synthetic uint8 images.

Run: `npx mgdarts python bench/data.py`
Env: DATA_IMAGES (10000), DATA_BATCH (96), DATA_EPOCHS (3, median reported), DATA_WORKERS ("0,2"),
DATA_THREADS (1), DATA_DEVICE (cpu), DATA_AUTO_AUGMENT (1: also the rows with AutoAugment; 0: skip them).
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, Dataset

from mgdarts_runtime.augment import AugmentConfig, augment_batch
from mgdarts_runtime.autoaugment import auto_augment

MEAN = (0.4914, 0.4822, 0.4465)  # CIFAR-10's, as the reference normalises
STD = (0.2470, 0.2435, 0.2616)
PAD, CUTOUT = 4, 16


class PerSampleDataset(Dataset):
    """Map-style dataset over the uint8 array; each item is transformed alone, as a torchvision pipeline
    would: pad 4 and crop 32, flip, (AutoAugment), to float and normalise, Cutout 16."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, auto: bool) -> None:
        self.images, self.labels, self.auto = images, labels, auto
        self.mean = torch.tensor(MEAN).view(-1, 1, 1)
        self.std = torch.tensor(STD).view(-1, 1, 1)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.images[i]  # (C, H, W) uint8
        c, h, w = img.shape
        padded = torch.nn.functional.pad(img, (PAD, PAD, PAD, PAD))
        y, x = torch.randint(0, 2 * PAD + 1, (2,)).tolist()
        img = padded[:, y : y + h, x : x + w]
        if torch.rand(()) < 0.5:
            img = img.flip(2)
        if self.auto:
            img = auto_augment(img[None].contiguous(), torch.default_generator)[0]  # the same ops, one image
        out = (img.to(torch.float32) / 255 - self.mean) / self.std
        cy, cx = torch.randint(0, h, ()).item(), torch.randint(0, w, ()).item()
        y0, x0 = cy - CUTOUT // 2, cx - CUTOUT // 2
        out[:, max(y0, 0) : y0 + CUTOUT, max(x0, 0) : x0 + CUTOUT] = 0
        return out, self.labels[i]


def on_device_epoch(
    images: torch.Tensor, labels: torch.Tensor, batch: int, cfg: AugmentConfig, gen: torch.Generator
) -> int:
    """One epoch of the runtime's path: a permutation, then index + augment_batch per batch."""
    order = torch.randperm(images.shape[0], generator=gen, device=images.device)
    seen = 0
    for start in range(0, images.shape[0], batch):
        idx = order[start : start + batch]
        x = augment_batch(images[idx], cfg, MEAN, STD, gen)
        y = labels[idx]
        seen += x.shape[0]
        del y
    if images.device.type == "cuda":
        torch.cuda.synchronize(images.device)
    return seen


def loader_epoch(loader: DataLoader) -> int:
    return sum(x.shape[0] for x, _ in loader)


def rate(epoch: Callable[[], int], epochs: int) -> float:
    """Median images per second over `epochs` timed epochs."""
    figures = []
    for _ in range(epochs):
        start = time.perf_counter()
        n = epoch()
        figures.append(n / (time.perf_counter() - start))
    return statistics.median(figures)


def main() -> None:
    env = os.environ.get
    n, batch, epochs = int(env("DATA_IMAGES", "10000")), int(env("DATA_BATCH", "96")), int(env("DATA_EPOCHS", "3"))
    workers = [int(w) for w in env("DATA_WORKERS", "0,2").split(",")]
    threads, device = int(env("DATA_THREADS", "1")), torch.device(env("DATA_DEVICE", "cpu"))
    autos = [False, True] if env("DATA_AUTO_AUGMENT", "1") != "0" else [False]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (n,))
    print(f"{n} synthetic 32x32x3 images, batch {batch}, {threads} torch thread(s), median of {epochs} epochs; "
          f"crop pad {PAD} + flip + normalise + cutout {CUTOUT}")
    for auto in autos:
        name = "with AutoAugment" if auto else "without AutoAugment"
        cfg = AugmentConfig(crop_padding=PAD, flip=True, cutout=CUTOUT, auto_augment=auto)
        dev_images, dev_labels = images.to(device), labels.to(device)
        gen = torch.Generator(device=device).manual_seed(0)
        on_device = rate(lambda: on_device_epoch(dev_images, dev_labels, batch, cfg, gen), epochs)
        print(f"{name}: on-device batched ({device}) {on_device:,.0f} images/s")
        for w in workers:
            loader = DataLoader(PerSampleDataset(images, labels, auto), batch_size=batch, shuffle=True,
                                num_workers=w, persistent_workers=w > 0)
            per_sample = rate(lambda: loader_epoch(loader), epochs)
            print(f"{name}: per-sample DataLoader, {w} workers {per_sample:,.0f} images/s; "
                  f"on-device / DataLoader: {on_device / per_sample:.1f}x")


if __name__ == "__main__":
    main()
