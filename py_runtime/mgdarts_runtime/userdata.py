"""User datasets (`python:<file.py or module>:<factory>`): import the factory from the named place only, wrap
its datasets into uint8 items, and preview them (shared by load_data and `mgdarts doctor --dataset`)."""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from .errors import BadParamsFault

# A factory returning one dataset: this seeded share of it becomes the test set.
SINGLE_DATASET_TEST_FRACTION = 0.1
PREVIEW_ITEMS = 8


class UserDataError(BadParamsFault):
    """A factory that cannot be imported, raises, returns the wrong type or yields bad items; carries the traceback."""

    def __init__(self, message: str, tb: str = "") -> None:
        self.summary, self.traceback_text = message, tb
        super().__init__(f"{message}\n{tb}".rstrip())


def parse_name(name: str) -> tuple[str, str]:
    body = name[len("python:"):] if name.startswith("python:") else name
    module, _, factory = body.rpartition(":")
    if not module or not factory.isidentifier():
        raise UserDataError(f"dataset.name {name!r}: expected python:<module or file.py>:<factory>")
    return module, factory


def import_factory(name: str, module_dir: str | None):
    """The factory function; a .py path is loaded from that file, a dotted module from `module_dir` only."""
    module_name, factory_name = parse_name(name)
    try:
        module = _load_file(module_name, module_dir) if module_name.endswith(".py") else _load_dotted(module_name, module_dir)
    except UserDataError:
        raise
    except Exception as err:
        raise UserDataError(f"{module_name}: import failed: {type(err).__name__}: {err}", traceback.format_exc()) from err
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UserDataError(f"{module_name}: has no function {factory_name!r}; define def {factory_name}(): return train, test")
    return factory


def _load_file(path_text: str, module_dir: str | None):
    path = Path(path_text)
    if not path.is_absolute():
        path = Path(module_dir or ".") / path
    if not path.is_file():
        raise UserDataError(f"{path}: no such file (a relative .py path in a config is taken from the config file's directory, in `mgdarts doctor --dataset` from the working directory)")
    unique = "mgdarts_user_dataset_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(unique, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module  # DataLoader workers (fork) and pickling find it under this name
    spec.loader.exec_module(module)
    return module


def _load_dotted(dotted: str, module_dir: str | None):
    if not module_dir:
        raise UserDataError(f"{dotted}: a dotted module needs the config file's directory to import from")
    search, module, full = [module_dir], None, ""
    for part in dotted.split("."):
        full = f"{full}.{part}" if full else part
        # Each level is looked up in the previous level's package path only: never sys.path.
        spec = importlib.machinery.PathFinder.find_spec(full, search)
        if spec is None or spec.loader is None:
            raise UserDataError(f"{dotted}: module {full!r} not found in {search[0] if search else '?'} (only the config's directory is searched)")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
        search = list(getattr(module, "__path__", []))
    return module


def make_datasets(name: str, module_dir: str | None, seed: int) -> tuple[Dataset, Dataset, list[str]]:
    """(train, test, notes) from the factory; one dataset is split into training and a seeded test share."""
    factory = import_factory(name, module_dir)
    try:
        made = factory()
    except Exception as err:
        raise UserDataError(f"{name}: the factory raised {type(err).__name__}: {err}", traceback.format_exc()) from err
    notes: list[str] = []
    if isinstance(made, tuple) and len(made) == 2 and all(isinstance(d, Dataset) for d in made):
        train, test = made
    elif isinstance(made, Dataset):
        n = _length(made, "the dataset")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
        n_test = max(1, round(n * SINGLE_DATASET_TEST_FRACTION))
        train, test = torch.utils.data.Subset(made, perm[n_test:]), torch.utils.data.Subset(made, perm[:n_test])
        notes.append(f"the factory returned one dataset: a seeded {SINGLE_DATASET_TEST_FRACTION:.0%} of it ({n_test} items) is the test set")
    else:
        raise UserDataError(
            f"{name}: the factory returned {type(made).__name__}; return a torch.utils.data.Dataset or a (train, test) pair of them"
        )
    _length(train, "the training dataset")
    _length(test, "the test dataset")
    return UserImages(train, "train"), UserImages(test, "test"), notes


def _length(dataset: Any, what: str) -> int:
    try:
        return len(dataset)
    except Exception as err:
        raise UserDataError(f"{what} has no length ({type(err).__name__}: {err}); a map-style Dataset with __len__ is needed", traceback.format_exc()) from err


class UserImages(Dataset):
    """A user's dataset whose items become (uint8 (C, H, W), int); floats are taken in [0, 1] and quantised to
    uint8 so that the on-device augmentation and normalisation are the same as for every other dataset."""

    def __init__(self, base: Dataset, split: str) -> None:
        self.base, self.split = base, split

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key):
        index = key[0] if isinstance(key, tuple) else key
        try:
            item = self.base[index]
        except Exception as err:
            raise UserDataError(f"{self.split} item {index}: {type(err).__name__}: {err}", traceback.format_exc()) from err
        return to_uint8_item(item, f"{self.split} item {index}")


def to_uint8_item(item: Any, where: str) -> tuple[torch.Tensor, int]:
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise UserDataError(f"{where}: expected (image tensor (C, H, W), int label), got {type(item).__name__}")
    image, label = item
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise UserDataError(f"{where}: the image must be a torch tensor (C, H, W), got {shape}")
    if isinstance(label, torch.Tensor) and label.numel() == 1 and not label.is_floating_point():
        label = int(label.item())
    if isinstance(label, bool) or not isinstance(label, int) or label < 0:
        raise UserDataError(f"{where}: the label must be an int ≥ 0, got {label!r}")
    if image.dtype == torch.uint8:
        return image.contiguous(), label
    if image.is_floating_point():
        lo, hi = float(image.min()), float(image.max())
        if lo < 0 or hi > 1:
            raise UserDataError(f"{where}: float images must be in [0, 1] (got {lo:.3g}..{hi:.3g}); leave normalisation to mgdarts")
        return (image * 255).round().to(torch.uint8).contiguous(), label
    raise UserDataError(f"{where}: image dtype {image.dtype}; use uint8 or float in [0, 1]")


def scan_labels(dataset: Dataset) -> list[int]:
    """Every label of `dataset` (reads every item; items are checked on the way)."""
    return [dataset[i][1] for i in range(len(dataset))]


def preview_dataset(name: str, module_dir: str | None, num_classes: int | None = None, seed: int = 0) -> dict:
    """What `mgdarts doctor --dataset` prints: sizes, item shape and dtype, classes, or the first error."""
    report: dict[str, Any] = {"dataset": name, "train_size": None, "test_size": None, "item_shape": None,
                              "item_dtype": None, "num_classes": None, "classes_from": None, "notes": [], "error": None}
    try:
        train, test, notes = make_datasets(name, module_dir, seed)
        report["notes"] = notes
        report["train_size"], report["test_size"] = len(train), len(test)
        raw = train.base[0]
        report["item_dtype"] = str(raw[0].dtype).replace("torch.", "") if isinstance(raw, (tuple, list)) and isinstance(raw[0], torch.Tensor) else None
        image, _ = train[0]
        report["item_shape"] = list(image.shape)
        labels = scan_labels(train)
        for i in range(min(PREVIEW_ITEMS, len(test))):
            test[i]
        found = max(labels) + 1 if labels else 0
        report["num_classes"] = num_classes if num_classes is not None else found
        report["classes_from"] = "dataset.num_classes" if num_classes is not None else f"a scan of {len(labels)} training labels (max label + 1)"
        if num_classes is not None and found > num_classes:
            raise UserDataError(f"{name}: a training label is {found - 1} but dataset.num_classes is {num_classes}")
    except UserDataError as err:
        message = str(err).split("\n", 1)[0]
        report["error"] = {"message": message, "traceback": err.traceback_text}
    return report
