"""CIFAR-10/100 readers on tiny files written here in the official layouts (pickle and binary batches)."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from mgdarts_runtime.cifar import CIFAR10, CIFAR100, load_cifar
from mgdarts_runtime.datasets import load_dataset
from mgdarts_runtime.errors import DataNotFound

# The probe pixel: image 3, channel G (1), row 5, col 7 -> flat offset 1*1024 + 5*32 + 7 of its 3072 bytes.
PROBE = (3, 1, 5, 7)


def _pixels(n: int) -> np.ndarray:
    data = np.zeros((n, 3072), dtype=np.uint8)
    image, channel, row, col = PROBE
    data[image, channel * 1024 + row * 32 + col] = 201
    return data


def _write_pickle(path: Path, n: int, classes: int, cifar100: bool, coarse_as_fine: bool = False) -> None:
    fine = [i % classes for i in range(n)]
    coarse = [f // 5 for f in fine]
    batch = {b"batch_label": b"x", b"data": _pixels(n), b"filenames": [b"a.png"] * n}
    if cifar100:
        batch[b"fine_labels"] = coarse if coarse_as_fine else fine
        batch[b"coarse_labels"] = coarse
    else:
        batch[b"labels"] = fine
    path.write_bytes(pickle.dumps(batch, protocol=2))


def _write_binary(path: Path, n: int, classes: int, cifar100: bool) -> None:
    rows = []
    for i, pixels in enumerate(_pixels(n)):
        fine = i % classes
        head = bytes([fine // 5, fine]) if cifar100 else bytes([fine])
        rows.append(head + pixels.tobytes())
    path.write_bytes(b"".join(rows))


def _cifar10(root: Path, kind: str, n: int = 20) -> Path:
    folder = root / ("cifar-10-batches-py" if kind == "pickle" else "cifar-10-batches-bin")
    folder.mkdir(parents=True)
    ext = "" if kind == "pickle" else ".bin"
    write = _write_pickle if kind == "pickle" else _write_binary
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write(folder / f"{name}{ext}", n, 10, False)
    return folder


def _cifar100(root: Path, kind: str, n: int = 100, coarse_as_fine: bool = False) -> Path:
    folder = root / ("cifar-100-python" if kind == "pickle" else "cifar-100-binary")
    folder.mkdir(parents=True)
    for name in ("train", "test"):
        if kind == "pickle":
            _write_pickle(folder / name, n, 100, True, coarse_as_fine)
        else:
            _write_binary(folder / f"{name}.bin", n, 100, True)
    return folder


@pytest.mark.parametrize("kind", ["pickle", "binary"])
def test_cifar10_layout_and_labels_from_the_parent_or_the_folder(tmp_path: Path, kind: str) -> None:
    folder = _cifar10(tmp_path, kind)
    for directory in (tmp_path, folder):
        arrays = load_cifar(CIFAR10, str(directory))
        assert arrays.train_images.shape == (100, 3, 32, 32) and arrays.test_images.shape == (20, 3, 32, 32)
        assert arrays.train_images.dtype == np.uint8
        assert arrays.train_images[PROBE] == 201
        assert int(arrays.train_images.sum()) == 201 * 5  # one probe per training file, nothing else
        assert arrays.train_labels[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
        assert arrays.directory == str(folder)


@pytest.mark.parametrize("kind", ["pickle", "binary"])
def test_cifar100_reads_the_fine_labels(tmp_path: Path, kind: str) -> None:
    _cifar100(tmp_path, kind)
    ds = load_dataset("cifar100", str(tmp_path), "")
    assert ds.num_classes == 100 and ds.name == "cifar100"
    assert ds.train_labels[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]  # coarse would be 0,0,0,0,0,1,1,1
    assert int(ds.train_labels.max()) == 99
    assert ds.train_images[PROBE] == 201
    assert tuple(ds.train_images.shape[1:]) == (3, 32, 32)


def test_cifar100_with_only_20_labels_says_coarse(tmp_path: Path) -> None:
    _cifar100(tmp_path, "pickle", coarse_as_fine=True)
    with pytest.raises(ValueError, match=r"20 distinct labels.*coarse"):
        load_dataset("cifar100", str(tmp_path), "")


def test_cifar10_missing_a_class_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        _write_binary(folder / f"{name}.bin", 8, 8, False)  # labels 0..7 only
    with pytest.raises(ValueError, match="8 distinct labels but the classifier has 10"):
        load_dataset("cifar10", str(tmp_path), "")


def test_not_found_names_the_directory_and_the_files(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound) as err:
        load_dataset("cifar10", str(tmp_path), "")
    message = str(err.value)
    assert str(tmp_path) in message and "data_batch_1" in message and "test_batch.bin" in message
    assert "--data-dir" in message


def test_a_pickle_with_foreign_code_is_refused(tmp_path: Path) -> None:
    folder = _cifar10(tmp_path, "pickle")

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ValueError, match="refusing to load builtins.print"):
        load_cifar(CIFAR10, str(tmp_path))


def test_a_truncated_binary_file_is_refused(tmp_path: Path) -> None:
    folder = _cifar10(tmp_path, "binary")
    data = (folder / "test_batch.bin").read_bytes()
    (folder / "test_batch.bin").write_bytes(data[:-10])
    with pytest.raises(ValueError, match="not a whole number of 3073-byte"):
        load_cifar(CIFAR10, str(tmp_path))


def test_configured_num_classes_must_match(tmp_path: Path) -> None:
    from mgdarts_runtime.errors import BadParamsFault
    from mgdarts_runtime.loading import check_configured_classes

    _cifar10(tmp_path, "binary")
    ds = load_dataset("cifar10", str(tmp_path), "")
    check_configured_classes(ds, 10)
    check_configured_classes(ds, None)
    with pytest.raises(BadParamsFault, match="dataset.num_classes is 100 but cifar10 has 10"):
        check_configured_classes(ds, 100)
