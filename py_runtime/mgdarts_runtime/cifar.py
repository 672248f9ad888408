"""CIFAR-10 and CIFAR-100 readers (official python-pickle and binary formats) into uint8 (N, 3, 32, 32) arrays."""
from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataNotFound

IMAGE_BYTES = 3 * 32 * 32  # R plane, then G, then B, each 32x32 row-major


@dataclass(frozen=True)
class CifarFormat:
    """One official layout: the folder name, train and test files, and how labels are stored."""

    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    kind: str  # "pickle" or "binary"


@dataclass(frozen=True)
class CifarSpec:
    name: str
    classes: int
    formats: tuple[CifarFormat, ...]
    pickle_label_key: bytes  # b"labels" (CIFAR-10) or b"fine_labels" (CIFAR-100)
    label_bytes: int  # bytes before each binary record's pixels; the last one is the label used


CIFAR10 = CifarSpec(
    name="cifar10",
    classes=10,
    formats=(
        CifarFormat("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "pickle"),
        CifarFormat(
            "cifar-10-batches-bin", tuple(f"data_batch_{i}.bin" for i in range(1, 6)), ("test_batch.bin",), "binary"
        ),
    ),
    pickle_label_key=b"labels",
    label_bytes=1,
)
CIFAR100 = CifarSpec(
    name="cifar100",
    classes=100,
    formats=(
        CifarFormat("cifar-100-python", ("train",), ("test",), "pickle"),
        CifarFormat("cifar-100-binary", ("train.bin",), ("test.bin",), "binary"),
    ),
    # The 100 fine labels; the coarse ones (20 superclasses) are never the classifier's target.
    pickle_label_key=b"fine_labels",
    label_bytes=2,  # coarse byte, then fine byte
)
CIFAR_SPECS = {spec.name: spec for spec in (CIFAR10, CIFAR100)}


@dataclass
class CifarArrays:
    train_images: np.ndarray  # (N, 3, 32, 32) uint8
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    directory: str  # the folder the batch files were read from
    fingerprint: str  # sha256 hex of the files' bytes


class CifarNotFound(DataNotFound, FileNotFoundError):
    """A directory with neither official format; names it, the files expected and the fix."""


def expected_files(spec: CifarSpec) -> str:
    return "; or ".join(f"{fmt.folder}/ with {', '.join(fmt.train + fmt.test)}" for fmt in spec.formats)


def find_cifar(spec: CifarSpec, directory: str) -> tuple[Path, CifarFormat] | None:
    """The folder holding a complete set of batch files: `directory` itself or its official sub-folder."""
    root = Path(directory)
    for fmt in spec.formats:
        for candidate in (root, root / fmt.folder):
            if all((candidate / f).is_file() for f in fmt.train + fmt.test):
                return candidate, fmt
    return None


def load_cifar(spec: CifarSpec, directory: str) -> CifarArrays:
    found = find_cifar(spec, directory)
    if found is None:
        raise CifarNotFound(
            f"{directory}: no {spec.name} files; expected {expected_files(spec)} (in this directory or its "
            f"sub-folder of that name); download the official archive from https://www.cs.toronto.edu/~kriz/cifar.html, "
            "extract it there and pass its directory as --data-dir or dataset.data_dir"
        )
    folder, fmt = found
    digest = hashlib.sha256()
    read = _read_pickle if fmt.kind == "pickle" else _read_binary
    splits = []
    for names in (fmt.train, fmt.test):
        parts = []
        for name in names:
            data = (folder / name).read_bytes()
            digest.update(data)
            parts.append(read(spec, data, folder / name))
        splits.append((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])))
    (train_x, train_y), (test_x, test_y) = splits
    return CifarArrays(train_x, train_y, test_x, test_y, str(folder), digest.hexdigest())


def _read_binary(spec: CifarSpec, data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    record = spec.label_bytes + IMAGE_BYTES
    if len(data) == 0 or len(data) % record:
        raise ValueError(
            f"{path}: {len(data)} bytes is not a whole number of {record}-byte {spec.name} records "
            f"({spec.label_bytes} label byte(s) + {IMAGE_BYTES} pixels); the file is truncated or of another dataset"
        )
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, spec.label_bytes - 1].astype(np.int64)  # CIFAR-100: the fine label is the second byte
    images = rows[:, spec.label_bytes :].reshape(-1, 3, 32, 32).copy()
    _check_labels(spec, labels, path)
    return images, labels


class _SafeUnpickler(pickle.Unpickler):
    """Only numpy's array reconstruction and builtin containers: a CIFAR batch needs nothing else, and
    refusing every other global keeps a crafted file from running code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("copyreg", "_reconstructor"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "bytes"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle API
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a CIFAR batch")
        return super().find_class(module, name)


def _read_pickle(spec: CifarSpec, data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _SafeUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as err:  # any unpickling failure is a bad file, not a crash
        raise ValueError(f"{path}: not a {spec.name} python batch ({type(err).__name__}: {err})") from err
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: a {spec.name} python batch is a dict, got {type(batch).__name__}")
    key = spec.pickle_label_key
    for needed in (b"data", key):
        if needed not in batch:
            have = ", ".join(repr(k) for k in batch)
            raise ValueError(f"{path}: batch lacks {needed!r} (has {have}); is this a {spec.name} file?")
    pixels = np.asarray(batch[b"data"])
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != IMAGE_BYTES:
        raise ValueError(f"{path}: b'data' must be uint8 (N, {IMAGE_BYTES}), got {pixels.dtype} {pixels.shape}")
    labels = np.asarray(batch[key], dtype=np.int64).reshape(-1)
    if len(labels) != len(pixels):
        raise ValueError(f"{path}: {len(pixels)} images but {len(labels)} labels in {key!r}")
    _check_labels(spec, labels, path)
    return pixels.reshape(-1, 3, 32, 32).copy(), labels


def _check_labels(spec: CifarSpec, labels: np.ndarray, path: Path) -> None:
    if len(labels) and (labels.min() < 0 or labels.max() >= spec.classes):
        raise ValueError(f"{path}: label {int(labels.max())} out of range 0..{spec.classes - 1} for {spec.name}")


def check_class_count(name: str, labels: np.ndarray, classes: int) -> None:
    """The distinct training labels must number the dataset's classes (the classifier's size)."""
    distinct = len(np.unique(labels))
    if distinct != classes:
        hint = ""
        if name == "cifar100" and distinct == 20:
            hint = "; 20 is the number of CIFAR-100's coarse labels: the files' fine labels were not what was read"
        raise ValueError(
            f"{name}: the training set has {distinct} distinct labels but the classifier has {classes} classes{hint}; "
            "use the complete official training files"
        )
