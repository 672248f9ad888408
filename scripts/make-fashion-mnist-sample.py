#!/usr/bin/env python3
"""Builds the shipped Fashion-MNIST sample: a seeded, class-balanced subset written as official gzipped IDX files."""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

SPLITS = {"train": "train", "test": "t10k"}  # split -> official file prefix


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "py_runtime"))
    from mgdarts_runtime.idx import read_idx, write_idx  # numpy-only module; imported here, not at import time

    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_class = {"train": args.train_per_class, "test": args.test_per_class}
    for split, prefix in SPLITS.items():
        images = read_idx(_source_file(args.source, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_source_file(args.source, f"{prefix}-labels-idx1-ubyte"))
        chosen = pick_per_class(labels, per_class[split], rng)
        written = {
            f"{prefix}-images-idx3-ubyte.gz": images[chosen],
            f"{prefix}-labels-idx1-ubyte.gz": labels[chosen],
        }
        counts = np.bincount(labels[chosen], minlength=int(labels.max()) + 1).tolist()
        print(f"{split}: {len(chosen)} samples, per class {counts}")
        for name, array in written.items():
            write_idx(out / name, array, gzip=True)
            print(f"  {name}  sha256 {hashlib.sha256((out / name).read_bytes()).hexdigest()}")
    return 0


def pick_per_class(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Seeded choice of `per_class` indices within each class (classes in order), returned sorted."""
    picked = []
    for cls in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == cls)
        if len(members) < per_class:
            raise SystemExit(f"class {cls} has {len(members)} samples, fewer than the {per_class} per class asked for")
        picked.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(picked))


def _source_file(source: str, name: str) -> Path:
    for candidate in (Path(source) / f"{name}.gz", Path(source) / name):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"{source}: missing {name} (or {name}.gz); pass --source with the official Fashion-MNIST files")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist", help="directory of the official files")
    parser.add_argument("--out", default="data/fashion-mnist-sample", help="output directory")
    parser.add_argument("--train-per-class", type=int, default=300)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
