"""Dataset lookup and loading into uint8 tensors; the seeded train/valid split; moving data to the device."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .errors import DataNotFound
from .idx import parse_idx
from .cifar import CIFAR_SPECS, CifarNotFound, check_class_count, load_cifar

FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_ENV = "MGDARTS_DATA"
# Role -> official file name without ".gz"; the gzipped name is this plus ".gz".
FASHION_MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = 10
FINGERPRINT_CHARS = 16
FASHION_MNIST_FIX = (
    "; put the four official Fashion-MNIST files there (install the Debian package dataset-fashion-mnist, "
    f"or download them and set {FASHION_MNIST_ENV} or the data directory), "
    "or use the shipped sample 'fashion-mnist-sample'"
)


@dataclass
class ImageDataset:
    train_images: Tensor  # (N, C, H, W) uint8
    train_labels: Tensor  # (N,) int64
    test_images: Tensor  # (M, C, H, W) uint8
    test_labels: Tensor  # (M,) int64
    num_classes: int
    name: str
    mean: tuple[float, ...]  # per channel, [0, 1] scale, from the training images
    std: tuple[float, ...]
    fingerprint: str  # sha256 of the files' bytes, first 16 hex chars


class DatasetNotFoundError(DataNotFound, FileNotFoundError):
    """A dataset directory lacking files; names it, the missing files and the fix (runtime.data_not_found)."""

    def __init__(self, directory: str, missing: list[str], hint: str = "") -> None:
        self.directory = directory
        self.missing = missing
        names = ", ".join(f"{m} (or {m}.gz)" for m in missing)
        super().__init__(f"{directory}: missing {names}{hint}")


def find_fashion_mnist(candidates: list[str]) -> str | None:
    """The first directory among `candidates` holding all four Fashion-MNIST files (.gz or raw)."""
    for directory in candidates:
        if directory and not _missing_files(directory):
            return directory
    return None


def load_fashion_mnist(directory: str) -> ImageDataset:
    """Loads the four official IDX files from `directory`; mean/std are computed from the training images."""
    missing = _missing_files(directory)
    if missing:
        raise DatasetNotFoundError(directory, missing, FASHION_MNIST_FIX)
    digest = hashlib.sha256()
    arrays: dict[str, np.ndarray] = {}
    for role, name in FASHION_MNIST_FILES.items():
        path = _resolve(directory, name)
        assert path is not None  # checked by _missing_files above
        data = path.read_bytes()
        digest.update(data)
        arrays[role] = parse_idx(data, path)
    _check_split(arrays["train_images"], arrays["train_labels"], directory, "train")
    _check_split(arrays["test_images"], arrays["test_labels"], directory, "t10k")
    train_images = arrays["train_images"][:, None]  # (N, 28, 28) -> (N, 1, 28, 28)
    mean, std = channel_stats(train_images)
    return ImageDataset(
        train_images=torch.from_numpy(train_images),
        train_labels=torch.from_numpy(arrays["train_labels"].astype(np.int64)),
        test_images=torch.from_numpy(arrays["test_images"][:, None]),
        test_labels=torch.from_numpy(arrays["test_labels"].astype(np.int64)),
        num_classes=FASHION_MNIST_CLASSES,
        name="fashion-mnist",
        mean=mean,
        std=std,
        fingerprint=digest.hexdigest()[:FINGERPRINT_CHARS],
    )


def channel_stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact per-channel mean and (population) std in [0, 1] scale of uint8 images (N, C, H, W)."""
    values = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for channel in range(images.shape[1]):
        # A histogram keeps this exact and cheap in memory (no float copy of the images).
        counts = np.bincount(images[:, channel].reshape(-1), minlength=256).astype(np.float64)
        total = counts.sum()
        mean = float((counts * values).sum() / total)
        var = float((counts * values**2).sum() / total) - mean**2
        means.append(mean)
        stds.append(max(var, 0.0) ** 0.5)
    return tuple(means), tuple(stds)


def load_dataset(name: str, data_dir: str | None, sample_dir: str) -> ImageDataset:
    """Loads a built-in dataset by name; `sample_dir` is where the shipped sample lives."""
    loader = DATASET_LOADERS.get(name)
    if loader is None:
        known = ", ".join(sorted(DATASET_LOADERS))
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}")
    return loader(data_dir, sample_dir)


def split_train(n: int, valid_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Seeded split of 0..n-1 into sorted (train_idx, valid_idx); valid size is round(n * valid_fraction)."""
    if n < 0:
        raise ValueError(f"split_train: n must be ≥ 0, got {n}")
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"split_train: valid_fraction must be in [0, 1), got {valid_fraction}")
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=generator)  # (n,) int64
    n_valid = round(n * valid_fraction)
    valid_idx, _ = torch.sort(perm[:n_valid])
    train_idx, _ = torch.sort(perm[n_valid:])
    return train_idx, valid_idx


def to_device(ds: ImageDataset, device: torch.device | str) -> ImageDataset:
    """A copy of `ds` whose tensors live on `device` (images stay uint8 there)."""
    return dataclasses.replace(
        ds,
        train_images=ds.train_images.to(device),
        train_labels=ds.train_labels.to(device),
        test_images=ds.test_images.to(device),
        test_labels=ds.test_labels.to(device),
    )


def _load_fashion_mnist_full(data_dir: str | None, sample_dir: str) -> ImageDataset:
    candidates = [d for d in (data_dir, os.environ.get(FASHION_MNIST_ENV), FASHION_MNIST_DEFAULT_DIR) if d]
    found = find_fashion_mnist(candidates)
    if found is None:
        # Report the first candidate (the most specific one the user gave) with its missing files.
        searched = ", ".join(candidates)
        raise DatasetNotFoundError(
            candidates[0], _missing_files(candidates[0]), f" (searched: {searched}){FASHION_MNIST_FIX}"
        )
    return load_fashion_mnist(found)


def _load_fashion_mnist_sample(data_dir: str | None, sample_dir: str) -> ImageDataset:
    missing = _missing_files(sample_dir)
    if missing:
        hint = (
            "; the shipped sample is incomplete: restore data/fashion-mnist-sample from the repository "
            "or rebuild it with scripts/make-fashion-mnist-sample.py"
        )
        raise DatasetNotFoundError(sample_dir, missing, hint)
    ds = load_fashion_mnist(sample_dir)
    return dataclasses.replace(ds, name="fashion-mnist-sample")


def _cifar_loader(name: str) -> Callable[[str | None, str], ImageDataset]:
    spec = CIFAR_SPECS[name]

    def load(data_dir: str | None, sample_dir: str) -> ImageDataset:
        directory = data_dir or os.environ.get(FASHION_MNIST_ENV)
        if not directory:
            raise CifarNotFound(f"{name}: no data directory given; pass --data-dir, set dataset.data_dir or {FASHION_MNIST_ENV}")
        arrays = load_cifar(spec, directory)
        check_class_count(name, arrays.train_labels, spec.classes)
        mean, std = channel_stats(arrays.train_images)
        return ImageDataset(
            train_images=torch.from_numpy(arrays.train_images),
            train_labels=torch.from_numpy(arrays.train_labels),
            test_images=torch.from_numpy(arrays.test_images),
            test_labels=torch.from_numpy(arrays.test_labels),
            num_classes=spec.classes,
            name=name,
            mean=mean,
            std=std,
            fingerprint=arrays.fingerprint[:FINGERPRINT_CHARS],
        )

    return load


# Name -> loader(data_dir, sample_dir); add datasets here, not as branches.
DATASET_LOADERS: dict[str, Callable[[str | None, str], ImageDataset]] = {
    "fashion-mnist": _load_fashion_mnist_full,
    "fashion-mnist-sample": _load_fashion_mnist_sample,
    "cifar10": _cifar_loader("cifar10"),
    "cifar100": _cifar_loader("cifar100"),
}


def _resolve(directory: str, name: str) -> Path | None:
    for candidate in (Path(directory) / f"{name}.gz", Path(directory) / name):
        if candidate.is_file():
            return candidate
    return None


def _missing_files(directory: str) -> list[str]:
    return [name for name in FASHION_MNIST_FILES.values() if _resolve(directory, name) is None]


def _check_split(images: np.ndarray, labels: np.ndarray, directory: str, prefix: str) -> None:
    where = f"{directory}: {prefix}-*"
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{where}: images must be uint8 (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{where}: labels must be uint8 (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{where}: {len(images)} images but {len(labels)} labels; the files do not belong together")
    if len(labels) and int(labels.max()) >= FASHION_MNIST_CLASSES:
        raise ValueError(f"{where}: label {int(labels.max())} out of range 0..{FASHION_MNIST_CLASSES - 1}")
