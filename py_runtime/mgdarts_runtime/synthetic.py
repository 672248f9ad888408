"""Synthetic datasets in the official on-disk formats (CIFAR python and binary batches, class folders) for smoke runs."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .cifar import CIFAR10, CIFAR100, CifarSpec


def _images(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """(N, 3072) uint8: noise around a per-class colour, so a classifier has something to learn."""
    base = (labels[:, None] * 37 + np.arange(3)[None, :] * 85) % 256  # (N, 3) one colour per class
    noise = rng.integers(-40, 41, size=(len(labels), 3, 1024))
    return np.clip(base[:, :, None] + noise, 0, 255).astype(np.uint8).reshape(len(labels), 3072)


def write_cifar(spec: CifarSpec, root: Path, kind: str, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Writes `spec`'s official folder (kind "pickle" or "binary") under `root`; labels cycle through every class."""
    fmt = next(f for f in spec.formats if f.kind == kind)
    folder = root / fmt.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for names, n in ((fmt.train, n_train), (fmt.test, n_test)):
        per_file = np.array_split(np.arange(n), len(names))
        for name, idx in zip(names, per_file):
            fine = (idx % spec.classes).astype(np.int64)
            pixels = _images(rng, fine)
            coarse = fine // 5  # CIFAR-100 has 20 superclasses of 5
            if kind == "pickle":
                batch: dict = {b"batch_label": name.encode(), b"data": pixels, b"filenames": [b"x.png"] * len(idx)}
                if spec is CIFAR100:
                    batch[b"fine_labels"], batch[b"coarse_labels"] = fine.tolist(), coarse.tolist()
                else:
                    batch[b"labels"] = fine.tolist()
                (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
            else:
                heads = [coarse, fine] if spec is CIFAR100 else [fine]
                records = np.concatenate([np.stack(heads, 1).astype(np.uint8), pixels], axis=1)
                (folder / name).write_bytes(records.tobytes())
    return folder


def write_image_folders(root: Path, classes: int, per_class: int, size: int, seed: int = 0) -> Path:
    """`root/train/<class>/*.png` and `root/val/<class>/*.png` (PNG files, RGB, `size`×`size` pixels)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, n in (("train", per_class), ("val", max(1, per_class // 2))):
        for c in range(classes):
            folder = root / split / f"class_{c:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = _images(rng, np.array([c]))[0].reshape(3, 32, 32).transpose(1, 2, 0)
                Image.fromarray(np.ascontiguousarray(pixels)).resize((size, size)).save(folder / f"img_{i:04d}.png")
    return root


def write_all(root: Path, n_train: int = 200, n_test: int = 100, folder_classes: int = 4, per_class: int = 6,
              folder_size: int = 40) -> None:
    """Everything the smoke configs read: both CIFARs in both formats, and an image-folder dataset."""
    for spec in (CIFAR10, CIFAR100):
        for kind in ("pickle", "binary"):
            write_cifar(spec, root / kind, kind, n_train, n_test)
    write_image_folders(root / "image-folder", folder_classes, per_class, folder_size)
