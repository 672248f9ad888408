"""Tests for dataset lookup and loading, the seeded train/valid split, and moving data to the device."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mgdarts_runtime import datasets
from mgdarts_runtime.datasets import (
    FASHION_MNIST_FILES,
    DatasetNotFoundError,
    find_fashion_mnist,
    load_dataset,
    load_fashion_mnist,
    split_train,
    to_device,
)
from mgdarts_runtime.idx import write_idx

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "data" / "fashion-mnist-sample"
REAL_DIR = Path("/usr/share/datasets/fashion-mnist")


def write_fake_fashion_mnist(directory: Path, n_train: int = 20, n_test: int = 10, use_gzip: bool = True) -> None:
    """A tiny Fashion-MNIST look-alike in the official file layout (labels cycle through the 10 classes)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    suffix = ".gz" if use_gzip else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, gzip=use_gzip)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gzip=use_gzip)


@pytest.fixture
def fake_dir(tmp_path: Path) -> Path:
    write_fake_fashion_mnist(tmp_path / "fmnist")
    return tmp_path / "fmnist"


@pytest.mark.parametrize("use_gzip", [True, False])
def test_fake_loads_with_shapes_and_dtypes(tmp_path: Path, use_gzip: bool) -> None:
    write_fake_fashion_mnist(tmp_path, use_gzip=use_gzip)
    ds = load_fashion_mnist(str(tmp_path))
    assert ds.train_images.shape == (20, 1, 28, 28) and ds.train_images.dtype == torch.uint8
    assert ds.test_images.shape == (10, 1, 28, 28) and ds.test_images.dtype == torch.uint8
    assert ds.train_labels.shape == (20,) and ds.train_labels.dtype == torch.int64
    assert ds.test_labels.tolist() == list(range(10))
    assert ds.num_classes == 10 and ds.name == "fashion-mnist"
    assert len(ds.fingerprint) == 16 and int(ds.fingerprint, 16) >= 0


def test_mean_std_computed_from_training_images(fake_dir: Path) -> None:
    ds = load_fashion_mnist(str(fake_dir))
    pixels = ds.train_images.double() / 255
    assert ds.mean == pytest.approx((pixels.mean().item(),), rel=1e-9)
    assert ds.std == pytest.approx((pixels.std(unbiased=False).item(),), rel=1e-9)


def test_fingerprint_tracks_file_bytes(tmp_path: Path) -> None:
    write_fake_fashion_mnist(tmp_path / "a")
    write_fake_fashion_mnist(tmp_path / "b")
    write_idx(tmp_path / "b" / "t10k-labels-idx1-ubyte.gz", np.zeros(10, dtype=np.uint8), gzip=True)
    same = load_fashion_mnist(str(tmp_path / "a")).fingerprint
    assert load_fashion_mnist(str(tmp_path / "a")).fingerprint == same
    assert load_fashion_mnist(str(tmp_path / "b")).fingerprint != same


def test_missing_file_is_named(fake_dir: Path) -> None:
    (fake_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        load_fashion_mnist(str(fake_dir))
    assert str(fake_dir) in str(info.value)
    assert info.value.missing == ["t10k-labels-idx1-ubyte"]


def test_mismatched_counts_are_reported(fake_dir: Path) -> None:
    write_idx(fake_dir / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8), gzip=True)
    with pytest.raises(ValueError, match="20 images but 19 labels"):
        load_fashion_mnist(str(fake_dir))


def test_find_fashion_mnist_takes_first_complete(tmp_path: Path) -> None:
    write_fake_fashion_mnist(tmp_path / "first", use_gzip=False)
    write_fake_fashion_mnist(tmp_path / "second")
    (tmp_path / "empty").mkdir()
    first, second, empty = (str(tmp_path / n) for n in ("first", "second", "empty"))
    assert find_fashion_mnist([first, second]) == first
    assert find_fashion_mnist([second, first]) == second
    assert find_fashion_mnist([empty, str(tmp_path / "absent"), second]) == second
    assert find_fashion_mnist([empty]) is None
    assert find_fashion_mnist([]) is None


def test_load_dataset_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_fake_fashion_mnist(tmp_path / "given", n_train=12)
    write_fake_fashion_mnist(tmp_path / "env", n_train=14)
    monkeypatch.setenv("MGDARTS_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEFAULT_DIR", str(tmp_path / "none"))
    assert len(load_dataset("fashion-mnist", str(tmp_path / "given"), "unused").train_labels) == 12
    assert len(load_dataset("fashion-mnist", str(tmp_path / "none"), "unused").train_labels) == 14
    assert len(load_dataset("fashion-mnist", None, "unused").train_labels) == 14


def test_load_dataset_not_found_names_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MGDARTS_DATA", raising=False)
    monkeypatch.setattr(datasets, "FASHION_MNIST_DEFAULT_DIR", str(tmp_path / "none"))
    with pytest.raises(DatasetNotFoundError, match="given: missing train-images-idx3-ubyte.*fashion-mnist-sample"):
        load_dataset("fashion-mnist", str(tmp_path / "given"), "unused")


def test_load_dataset_sample_and_unknown(fake_dir: Path, tmp_path: Path) -> None:
    ds = load_dataset("fashion-mnist-sample", None, str(fake_dir))
    assert ds.name == "fashion-mnist-sample" and len(ds.train_labels) == 20
    with pytest.raises(DatasetNotFoundError, match="shipped sample"):
        load_dataset("fashion-mnist-sample", None, str(tmp_path / "gone"))
    with pytest.raises(ValueError, match="unknown dataset 'cifar-7'.*fashion-mnist, fashion-mnist-sample"):
        load_dataset("cifar-7", None, str(fake_dir))


def test_split_train_deterministic_disjoint_covering() -> None:
    train_idx, valid_idx = split_train(100, 0.25, seed=3)
    again = split_train(100, 0.25, seed=3)
    assert torch.equal(train_idx, again[0]) and torch.equal(valid_idx, again[1])
    assert len(valid_idx) == 25 and len(train_idx) == 75
    assert train_idx.dtype == torch.int64 and valid_idx.dtype == torch.int64
    assert sorted(torch.cat([train_idx, valid_idx]).tolist()) == list(range(100))
    assert not torch.equal(valid_idx, split_train(100, 0.25, seed=4)[1])


def test_split_train_leaves_global_rng_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    split_train(50, 0.5, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_split_train_zero_fraction_and_bad_fraction() -> None:
    train_idx, valid_idx = split_train(10, 0.0, seed=0)
    assert train_idx.tolist() == list(range(10)) and valid_idx.numel() == 0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="valid_fraction"):
            split_train(10, bad, seed=0)


def test_to_device_keeps_uint8(fake_dir: Path, device: torch.device) -> None:
    ds = to_device(load_fashion_mnist(str(fake_dir)), device)
    assert ds.train_images.device.type == device.type and ds.train_images.dtype == torch.uint8
    assert ds.test_labels.device.type == device.type and ds.test_labels.dtype == torch.int64


def _assert_per_class(labels: torch.Tensor, per_class: int) -> None:
    assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10


def test_shipped_sample_loads() -> None:
    ds = load_dataset("fashion-mnist-sample", None, str(SAMPLE_DIR))
    assert ds.train_images.shape == (3000, 1, 28, 28) and ds.test_images.shape == (1000, 1, 28, 28)
    assert ds.num_classes == 10
    _assert_per_class(ds.train_labels, 300)
    _assert_per_class(ds.test_labels, 100)
    assert ds.mean[0] == pytest.approx(0.286, abs=0.01) and ds.std[0] == pytest.approx(0.353, abs=0.01)
    assert all((SAMPLE_DIR / f"{name}.gz").is_file() for name in FASHION_MNIST_FILES.values())


@pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} absent (Debian package dataset-fashion-mnist)")
def test_real_fashion_mnist_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MGDARTS_DATA", raising=False)
    ds = load_dataset("fashion-mnist", None, str(SAMPLE_DIR))
    assert ds.train_images.shape == (60000, 1, 28, 28) and ds.test_images.shape == (10000, 1, 28, 28)
    _assert_per_class(ds.train_labels, 6000)
    _assert_per_class(ds.test_labels, 1000)
    assert ds.mean[0] == pytest.approx(0.2860, abs=1e-4) and ds.std[0] == pytest.approx(0.3530, abs=1e-4)

