"""The load_data request: read the named dataset, check its class count, split it and put it on the device."""
from __future__ import annotations

from typing import Any

import torch

from .datasets import DatasetNotFoundError, ImageDataset, load_dataset, split_train, to_device
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
