#!/usr/bin/env python3
"""Writes synthetic CIFAR-10/100 (python and binary batches) and class-folder datasets for the smoke configs.

Usage: npx mgdarts python scripts/make-synthetic-datasets.py OUT_DIR
Writes OUT_DIR/pickle/cifar-10-batches-py, OUT_DIR/pickle/cifar-100-python, OUT_DIR/binary/cifar-10-batches-bin,
OUT_DIR/binary/cifar-100-binary and OUT_DIR/image-folder/{train,val}/<class>/*.png.
"""
import argparse
from pathlib import Path

from mgdarts_runtime.synthetic import write_all

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out", type=Path)
parser.add_argument("--train", type=int, default=200, help="training images per CIFAR dataset (≥ 100: every CIFAR-100 class)")
parser.add_argument("--test", type=int, default=100)
args = parser.parse_args()
write_all(args.out, args.train, args.test)
print(f"wrote synthetic datasets under {args.out}")
