"""Class folders: class order, the seeded per-class subset, decoding to uint8 squares, and the DataLoader source."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from mgdarts_runtime.errors import BadParamsFault, DataNotFound
from mgdarts_runtime.imagefolder import FolderImages, list_image_folder, per_class_subset
from mgdarts_runtime.loading import load_data
from mgdarts_runtime.sources import source_of
from mgdarts_runtime.state import RuntimeState

# Folder name -> solid colour; sorted names give the class index (b_red is 1 although written first).
COLOURS = {"b_red": (255, 0, 0), "a_green": (0, 255, 0), "c_blue": (0, 0, 255)}


def _folders(root: Path, per_class: int = 4, size: tuple[int, int] = (20, 12)) -> Path:
    for split, n in (("train", per_class), ("val", 2)):
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                ext = "png" if i % 2 == 0 else "jpg"
                Image.new("RGB", size, colour).save(folder / f"{i}.{ext}")
    (root / "train" / "a_green" / "notes.txt").write_text("not an image")
    return root


def _params(root: Path, **kw) -> SimpleNamespace:
    base = dict(dataset="image-folder", data_dir=str(root), sample_dir="", valid_fraction=0.0, seed=0, train_limit=None,
                num_classes=None, image_size=8, workers=0, subset_fraction=1.0, module_dir=None)
    return SimpleNamespace(**{**base, **kw})


def test_classes_are_sorted_folder_names_and_images_decode_to_squares(tmp_path: Path) -> None:
    listing = list_image_folder(str(_folders(tmp_path)))
    assert listing.classes == ["a_green", "b_red", "c_blue"]
    assert len(listing.train) == 12 and len(listing.val) == 6  # the .txt is skipped
    red = next(i for i, (f, label) in enumerate(listing.train) if "b_red" in f)
    for train in (True, False):
        image, label = FolderImages(listing.train, 8, train=train)[(red, 5)]
        assert image.dtype == torch.uint8 and tuple(image.shape) == (3, 8, 8)
        assert label == 1
        assert image[0].min() > 200 and image[1].max() < 50  # red channel first: channel order R, G, B


def test_random_resized_crop_depends_on_the_seed_only(tmp_path: Path) -> None:
    root = tmp_path / "grad"
    (root / "train" / "x").mkdir(parents=True)
    (root / "val" / "x").mkdir(parents=True)
    ramp = np.tile(np.arange(0, 240, 6, dtype=np.uint8), (40, 1))  # horizontal ramp: crops differ visibly
    Image.fromarray(np.stack([ramp] * 3, 2)).save(root / "train" / "x" / "0.png")
    Image.fromarray(np.stack([ramp] * 3, 2)).save(root / "val" / "x" / "0.png")
    ds = FolderImages(list_image_folder(str(root)).train, 8, train=True)
    assert torch.equal(ds[(0, 3)][0], ds[(0, 3)][0])
    assert any(not torch.equal(ds[(0, 3)][0], ds[(0, s)][0]) for s in range(4, 10))


def test_per_class_subset_is_seeded_and_keeps_every_class(tmp_path: Path) -> None:
    items = [(f"f{i}", i % 3) for i in range(30)] + [("lonely", 3)]
    sub = per_class_subset(items, 0.1, seed=1)
    assert sorted({label for _, label in sub}) == [0, 1, 2, 3]  # at least one per class, the single one too
    assert [sum(1 for _, l in sub if l == c) for c in range(4)] == [1, 1, 1, 1]
    assert sub == per_class_subset(items, 0.1, seed=1)
    assert any(per_class_subset(items, 0.1, seed=s) != sub for s in range(2, 6))


def test_load_data_sets_up_a_loader_source_with_workers(tmp_path: Path) -> None:
    state = RuntimeState(device=torch.device("cpu"))
    reply = load_data(state, _params(_folders(tmp_path), subset_fraction=0.5, workers=1))
    assert reply["source"] == "loader" and reply["num_classes"] == 3 and reply["image_shape"] == [3, 8, 8]
    assert reply["full_train_size"] == 6 and reply["test_size"] == 6  # 2 of 4 per class
    batches = list(source_of(state).batches("train", [state.train_idx[:3], state.train_idx[3:]], seed=0))
    assert [tuple(x.shape) for x, _ in batches] == [(3, 3, 8, 8), (3, 3, 8, 8)]
    labels = torch.cat([y for _, y in batches])
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]
    test = list(source_of(state).batches("test", [source_of(state).test_indices()]))
    assert test[0][1].tolist() == [0, 0, 1, 1, 2, 2]


def test_configured_class_count_must_match_the_folders(tmp_path: Path) -> None:
    with pytest.raises(BadParamsFault, match="dataset.num_classes is 1000 but .* has 3 class folders"):
        load_data(RuntimeState(device=torch.device("cpu")), _params(_folders(tmp_path), num_classes=1000))


def test_missing_val_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DataNotFound, match="no val/ folder.*train/<class>"):
        list_image_folder(str(tmp_path))
