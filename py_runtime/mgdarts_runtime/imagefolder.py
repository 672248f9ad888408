"""ImageNet-style class folders (train/<class>/*, val/<class>/*): file listing, the seeded per-class subset,
and PIL decoding to uint8 (C, S, S) with random-resized-crop + flip (training) or resize + centre crop."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import DataNotFound

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Random-resized-crop's area and aspect ranges, and the resize-then-crop ratio of evaluation (crop = 0.875 × resize,
# i.e. 224 of 256): the usual ImageNet pipeline; the reference has no ImageNet code to follow (SPEC §5.3).
CROP_SCALE = (0.08, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
EVAL_CROP_FRACTION = 0.875


@dataclass
class FolderListing:
    classes: list[str]  # sorted folder names; the class index is the position here
    train: list[tuple[str, int]]  # (file, class index)
    val: list[tuple[str, int]]


def list_image_folder(root: str) -> FolderListing:
    base = Path(root)
    hint = "; expected train/<class>/*.jpg|png and val/<class>/*.jpg|png under it (pass that directory as --data-dir)"
    for split in ("train", "val"):
        if not (base / split).is_dir():
            raise DataNotFound(f"{root}: no {split}/ folder{hint}")
    classes = sorted(d.name for d in (base / "train").iterdir() if d.is_dir())
    if not classes:
        raise DataNotFound(f"{root}/train: no class folders{hint}")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(d.name for d in (base / "val").iterdir() if d.is_dir() and d.name not in index)
    if unknown:
        raise DataNotFound(f"{root}/val: class folder(s) {unknown[:5]} are not in train/; both splits must use the same class names")
    listing = FolderListing(classes, _files(base / "train", classes, index), _files(base / "val", classes, index, allow_missing=True))
    empty = [c for c in classes if not any(label == index[c] for _, label in listing.train)]
    if empty:
        raise DataNotFound(f"{root}/train: class folder(s) {empty[:5]} hold no .jpg/.jpeg/.png images")
    if not listing.val:
        raise DataNotFound(f"{root}/val: no images{hint}")
    return listing


def _files(split_dir: Path, classes: list[str], index: dict[str, int], allow_missing: bool = False) -> list[tuple[str, int]]:
    out = []
    for name in classes:
        folder = split_dir / name
        if not folder.is_dir():
            if allow_missing:
                continue
            raise DataNotFound(f"{split_dir}: missing class folder {name}")
        out += [(str(f), index[name]) for f in sorted(folder.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    return out


def per_class_subset(items: list[tuple[str, int]], fraction: float, seed: int) -> list[tuple[str, int]]:
    """A seeded `fraction` of each class's images (at least one per class), in listing order."""
    if fraction >= 1:
        return list(items)
    by_class: dict[int, list[int]] = {}
    for i, (_, label) in enumerate(items):
        by_class.setdefault(label, []).append(i)
    generator = torch.Generator().manual_seed(seed)
    keep: list[int] = []
    for label in sorted(by_class):
        members = by_class[label]
        k = max(1, round(len(members) * fraction))
        perm = torch.randperm(len(members), generator=generator)[:k]
        keep += [members[j] for j in perm.tolist()]
    return [items[i] for i in sorted(keep)]


class FolderImages(Dataset):
    """Decodes files to uint8 (3, size, size); items are asked for as (index, seed) (see sources.LoaderSource)."""

    def __init__(self, items: list[tuple[str, int]], size: int, train: bool) -> None:
        self.items, self.size, self.train = items, size, train

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        path, label = self.items[index]
        from PIL import Image

        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
                img = self._random_resized_crop(img, random.Random(seed)) if self.train else self._center(img)
        except OSError as err:
            raise ValueError(f"{path}: not a readable image ({err})") from err
        pixels = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
        return torch.from_numpy(np.ascontiguousarray(pixels)), label

    def _center(self, img):
        from PIL import Image

        resize = max(self.size, round(self.size / EVAL_CROP_FRACTION))
        w, h = img.size
        scale = resize / min(w, h)
        img = img.resize((max(resize, round(w * scale)), max(resize, round(h * scale))), Image.BILINEAR)
        w, h = img.size
        left, top = (w - self.size) // 2, (h - self.size) // 2
        return img.crop((left, top, left + self.size, top + self.size))

    def _random_resized_crop(self, img, rng: random.Random):
        from PIL import Image

        w, h = img.size
        area = w * h
        for _ in range(10):
            target = area * rng.uniform(*CROP_SCALE)
            ratio = math.exp(rng.uniform(math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])))
            cw, ch = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
            if 0 < cw <= w and 0 < ch <= h:
                left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
                break
        else:  # the whole image, centred, at the nearest allowed aspect
            cw, ch = min(w, h), min(w, h)
            left, top = (w - cw) // 2, (h - ch) // 2
        img = img.crop((left, top, left + cw, top + ch)).resize((self.size, self.size), Image.BILINEAR)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return img
