"""User datasets: import from the named file or directory only, the checks on what the factory returns, the preview."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mgdarts_runtime.loading import load_data
from mgdarts_runtime.sources import source_of
from mgdarts_runtime.state import RuntimeState
from mgdarts_runtime.userdata import UserDataError, make_datasets, preview_dataset

FACTORIES = '''
import torch
from torch.utils.data import Dataset

class Squares(Dataset):
    def __init__(self, n, dtype):
        self.n, self.dtype = n, dtype
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        image = torch.full((3, 6, 6), (i % 4) / 4)
        return (image if self.dtype == "float" else (image * 255).to(torch.uint8)), i % 4

def make():
    return Squares(20, "float"), Squares(8, "uint8")

def single():
    return Squares(30, "uint8")

def broken():
    raise RuntimeError("no data here")

def wrong_type():
    return [1, 2, 3]

class Bad(Squares):
    def __getitem__(self, i):
        return torch.zeros(6, 6), 0

def bad_items():
    return Bad(4, "float"), Bad(4, "float")
'''


@pytest.fixture
def factory_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_data.py"
    path.write_text(FACTORIES)
    return path


def test_preview_of_a_good_factory(factory_file: Path) -> None:
    report = preview_dataset(f"python:{factory_file}:make", None)
    assert report["error"] is None
    assert (report["train_size"], report["test_size"]) == (20, 8)
    assert report["item_shape"] == [3, 6, 6] and report["item_dtype"] == "float32"
    assert report["num_classes"] == 4 and "scan" in report["classes_from"]
    assert preview_dataset(f"python:{factory_file}:make", None, num_classes=10)["num_classes"] == 10


def test_float_items_are_quantised_and_uint8_kept(factory_file: Path) -> None:
    train, test, notes = make_datasets(f"python:{factory_file}:make", None, seed=0)
    image, label = train[(2, 0)]
    assert image.dtype == torch.uint8 and int(image[0, 0, 0]) == 128 and label == 2  # 0.5 * 255 rounded
    assert int(test[(3, 0)][0][0, 0, 0]) == 191  # uint8 from the factory, unchanged
    assert notes == []


def test_a_single_dataset_is_split_with_a_note(factory_file: Path) -> None:
    train, test, notes = make_datasets(f"python:{factory_file}:single", None, seed=0)
    assert (len(train), len(test)) == (27, 3) and "test set" in notes[0]


@pytest.mark.parametrize(
    "factory, message",
    [
        ("broken", "the factory raised RuntimeError: no data here"),
        ("wrong_type", "returned list"),
        ("bad_items", r"must be a torch tensor \(C, H, W\), got \(6, 6\)"),
        ("missing", "has no function 'missing'"),
    ],
)
def test_bad_factories_are_reported_with_their_traceback(factory_file: Path, factory: str, message: str) -> None:
    report = preview_dataset(f"python:{factory_file}:{factory}", None)
    assert report["error"] is not None
    assert re.search(message, report["error"]["message"]), report["error"]["message"]
    if factory == "broken":
        assert "Traceback" in report["error"]["traceback"] and 'raise RuntimeError("no data here")' in report["error"]["traceback"]


def test_a_dotted_module_is_imported_from_the_config_directory_only(tmp_path: Path, factory_file: Path) -> None:
    assert preview_dataset("python:my_data:make", str(tmp_path))["error"] is None
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    sys.path.insert(0, str(tmp_path))  # importable through sys.path, yet not from the named directory
    try:
        report = preview_dataset("python:my_data:make", str(elsewhere))
    finally:
        sys.path.remove(str(tmp_path))
    assert "not found in" in report["error"]["message"]


def test_load_data_of_a_user_dataset(factory_file: Path) -> None:
    state = RuntimeState(device=torch.device("cpu"))
    p = SimpleNamespace(dataset=f"python:{factory_file}:make", data_dir=None, sample_dir="", valid_fraction=0.0, seed=0,
                        train_limit=None, num_classes=None, image_size=224, workers=0, subset_fraction=1.0, module_dir=None)
    reply = load_data(state, p)
    assert reply["num_classes"] == 4 and reply["source"] == "loader" and "scan" in reply["notes"][0]
    x, y = next(source_of(state).batches("train", [state.train_idx[:5]]))
    assert x.dtype == torch.uint8 and tuple(x.shape) == (5, 3, 6, 6) and y.tolist() == [i % 4 for i in state.train_idx[:5].tolist()]
    with pytest.raises(UserDataError, match="a training label is 3 but dataset.num_classes is 2"):
        load_data(state, SimpleNamespace(**{**vars(p), "num_classes": 2}))


@pytest.mark.parametrize("factory", ["broken", "missing"])
def test_load_data_names_the_field_and_the_doctor_command(factory_file: Path, factory: str) -> None:
    state = RuntimeState(device=torch.device("cpu"))
    name = f"python:{factory_file}:{factory}"
    p = SimpleNamespace(dataset=name, data_dir=None, sample_dir="", valid_fraction=0.0, seed=0, train_limit=None,
                        num_classes=None, image_size=224, workers=0, subset_fraction=1.0, module_dir=None)
    with pytest.raises(UserDataError) as err:
        load_data(state, p)
    first = str(err.value).split("\n", 1)[0]
    assert first.startswith("dataset.name: ") and first.endswith(f"try it alone with `npx mgdarts doctor --dataset {name}`")
    if factory == "broken":
        assert 'raise RuntimeError("no data here")' in str(err.value)  # the traceback follows the first line
