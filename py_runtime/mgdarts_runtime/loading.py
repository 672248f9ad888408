"""The load_data request: read the named dataset, check its class count, split it and put it on the device
(or, for class folders and user datasets, set up a DataLoader source)."""
from __future__ import annotations

from typing import Any

import hashlib

import torch

from .datasets import DatasetNotFoundError, ImageDataset, channel_stats, load_dataset, split_train, to_device
from .imagefolder import FolderImages, list_image_folder, per_class_subset
from .sources import LoaderSource
from .userdata import UserDataError, make_datasets, scan_labels
from .errors import BadParamsFault, DataNotFound
from .idx import IdxFormatError
from .state import RuntimeState


def check_configured_classes(data: ImageDataset, configured: int | None) -> None:
    """dataset.num_classes, when the config gives it, must be the dataset's class count (the classifier size)."""
    if configured is not None and configured != data.num_classes:
        raise BadParamsFault(
            f"dataset.num_classes is {configured} but {data.name} has {data.num_classes} classes; "
            f"remove dataset.num_classes or set it to {data.num_classes}"
        )


def load_data(state: RuntimeState, p: Any) -> dict:
    if p.dataset == "image-folder" or p.dataset.startswith("python:"):
        return load_loader_data(state, p)
    state.source = None  # batches index the device tensors
    try:
        data = load_dataset(p.dataset, p.data_dir, p.sample_dir)
    except (DatasetNotFoundError, IdxFormatError, FileNotFoundError) as err:
        raise DataNotFound(str(err)) from err
    except ValueError as err:  # a file of the wrong format or with the wrong labels
        raise DataNotFound(str(err)) from err
    check_configured_classes(data, p.num_classes)
    n = len(data.train_labels)
    subset = torch.randperm(n, generator=torch.Generator().manual_seed(p.seed))[: p.train_limit] if p.train_limit else torch.arange(n)
    train_rel, valid_rel = split_train(len(subset), p.valid_fraction, p.seed)
    state.data = to_device(data, state.device)
    state.full_train_idx, state.train_idx, state.valid_idx = subset, subset[train_rel], subset[valid_rel]
    return {
        "dataset": data.name,
        "directory": p.data_dir or p.sample_dir,
        "train_size": len(state.train_idx),
        "valid_size": len(state.valid_idx),
        "test_size": len(data.test_labels),
        "full_train_size": len(subset),
        "num_classes": data.num_classes,
        "image_shape": list(data.train_images.shape[1:]),
        "fingerprint": data.fingerprint,
        "source": "device",
        "notes": [],
    }


MEAN_STD_SAMPLE = 64  # training images (seeded, un-augmented) the per-channel mean/std of a loader dataset come from
SAMPLE_IMAGES = 8  # kept on the device for the channel count and the export's check


def load_loader_data(state: RuntimeState, p: Any) -> dict:
    """Class folders or a user dataset: nothing but a few sample images is held; batches come from a DataLoader."""
    notes: list[str] = []
    if p.dataset == "image-folder":
        listing = list_image_folder(p.data_dir or "")
        items = per_class_subset(listing.train, p.subset_fraction, p.seed)
        if p.subset_fraction < 1:
            notes.append(f"search subset: {len(items)} of {len(listing.train)} training images ({p.subset_fraction:g} of each class, seeded)")
        train = FolderImages(items, p.image_size, train=True)
        train_eval = FolderImages(items, p.image_size, train=False)
        test = FolderImages(listing.val, p.image_size, train=False)
        num_classes, name, directory = len(listing.classes), "image-folder", p.data_dir or ""
        fingerprint_text = "\n".join(f for f, _ in listing.train + listing.val)
        if p.num_classes is not None and p.num_classes != num_classes:
            raise BadParamsFault(f"dataset.num_classes is {p.num_classes} but {directory}/train has {num_classes} class folders; remove dataset.num_classes or set it to {num_classes}")
    else:
        try:
            train, test, notes = make_datasets(p.dataset, p.module_dir, p.seed)
        except UserDataError as err:  # name the config field and the way to try the factory alone
            raise UserDataError(
                f"dataset.name: {err.summary}; fix it, then try it alone with `npx mgdarts doctor --dataset {p.dataset}`",
                err.traceback_text,
            ) from err
        train_eval = train
        labels = scan_labels(train)
        found = max(labels) + 1 if labels else 0
        if p.num_classes is not None and found > p.num_classes:
            raise UserDataError(f"{p.dataset}: a training label is {found - 1} but dataset.num_classes is {p.num_classes}")
        num_classes = p.num_classes if p.num_classes is not None else found
        if p.num_classes is None:
            notes.append(f"{num_classes} classes from a scan of the training labels (max label + 1); set dataset.num_classes to fix it")
        name, directory = p.dataset, p.module_dir or ""
        fingerprint_text = f"{p.dataset}:{len(train)}:{len(test)}:{labels}"
    n = len(train)
    subset = torch.randperm(n, generator=torch.Generator().manual_seed(p.seed))[: p.train_limit] if p.train_limit else torch.arange(n)
    train_rel, valid_rel = split_train(len(subset), p.valid_fraction, p.seed)
    sample_idx = torch.randperm(n, generator=torch.Generator().manual_seed(p.seed))[:MEAN_STD_SAMPLE].tolist()
    sample = torch.stack([train_eval[(i, 0)][0] for i in sample_idx])  # (k, C, H, W) uint8
    mean, std = channel_stats(sample.numpy())
    test_sample = torch.stack([test[(i, 0)][0] for i in range(min(SAMPLE_IMAGES, len(test)))])
    state.data = to_device(ImageDataset(
        train_images=sample[:SAMPLE_IMAGES], train_labels=torch.zeros(0, dtype=torch.int64),
        test_images=test_sample, test_labels=torch.zeros(0, dtype=torch.int64),
        num_classes=num_classes, name=name, mean=mean, std=tuple(max(s, 1e-3) for s in std),
        fingerprint=hashlib.sha256(fingerprint_text.encode()).hexdigest()[:16],
    ), state.device)
    state.source = LoaderSource(train, train_eval, test, len(test), p.workers, state.device)
    state.full_train_idx, state.train_idx, state.valid_idx = subset, subset[train_rel], subset[valid_rel]
    return {
        "dataset": name,
        "directory": directory,
        "train_size": len(state.train_idx),
        "valid_size": len(state.valid_idx),
        "test_size": len(test),
        "full_train_size": len(subset),
        "num_classes": num_classes,
        "image_shape": list(sample.shape[1:]),
        "fingerprint": state.data.fingerprint,
        "source": "loader",
        "notes": notes,
    }
