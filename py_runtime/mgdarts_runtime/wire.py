"""Frame codec: [msgpack header, raw buffer 1, ...]; numpy arrays and tensors travel as raw frames."""
from __future__ import annotations

from typing import Any

import math

import msgpack
import numpy as np
import torch

from .protocol import spec


class FrameError(ValueError):
    """A message that cannot be decoded."""


_DTYPES = {"uint8": np.uint8, "int32": np.int32, "int64": np.int64, "float32": np.float32, "float64": np.float64}
MAX_DEPTH = 64  # nesting of maps and lists in a header; deeper is refused before it can exhaust the stack


def encode(message: dict[str, Any]) -> list[bytes | memoryview]:
    buffers: list[bytes | memoryview] = []
    header = _to_wire(message, buffers)
    return [msgpack.packb(header, use_bin_type=True), *buffers]


def decode(frames: list[bytes]) -> Any:
    if not frames:
        raise FrameError("empty message: no header frame")
    try:
        header = msgpack.unpackb(frames[0], raw=False, strict_map_key=True)
    except Exception as err:  # msgpack raises several unrelated types for bad input
        raise FrameError(f"header frame is not valid msgpack: {err}") from err
    return _from_wire(header, frames[1:], 0)


def _to_wire(value: Any, buffers: list) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        array = value.astype(np.uint8) if value.dtype == np.bool_ else value
        flat = np.ascontiguousarray(array).reshape(-1)  # 1-d, so memoryview can cast any shape, 0-d and empty too
        buffers.append(memoryview(flat).cast("B"))
        key = spec()["ndarray_key"]
        return {key: {"dtype": array.dtype.name, "shape": list(array.shape), "buffer": len(buffers)}}
    if isinstance(value, np.generic):  # NumPy scalars become Python numbers before packing
        return value.item()
    if isinstance(value, dict):
        return {str(k): _to_wire(v, buffers) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v, buffers) for v in value]
    return value


def _from_wire(value: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise FrameError(f"header nests maps and lists deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise FrameError("header map keys must be strings")
        key = spec()["ndarray_key"]
        if key in value:
            return _decode_array(value[key], buffers)
        return {k: _from_wire(v, buffers, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v, buffers, depth + 1) for v in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decode_array(desc: Any, buffers: list[bytes]) -> np.ndarray:
    dtype_name = desc.get("dtype") if isinstance(desc, dict) else None
    if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
        raise FrameError(f"array descriptor has unknown dtype {dtype_name if isinstance(desc, dict) else desc!r}")
    shape = desc.get("shape")
    if not isinstance(shape, list) or not all(_is_int(n) and n >= 0 for n in shape):
        raise FrameError("array descriptor shape must be a list of non-negative integers")
    index = desc.get("buffer")
    if not _is_int(index) or not 1 <= index <= len(buffers):
        raise FrameError(f"array descriptor points at missing frame {index!r}")
    dtype = np.dtype(_DTYPES[desc["dtype"]])
    raw = buffers[index - 1]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a lying shape cannot overflow to a match
    if len(raw) != expected:
        raise FrameError(f"array header says {desc['dtype']}{shape} ({expected} bytes), frame has {len(raw)}")
    try:
        # A copy: the frame's memory may be unaligned and is not ours to keep.
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    except (ValueError, OverflowError) as err:  # e.g. a zero-size shape with a dimension numpy cannot hold
        raise FrameError(f"array header shape {shape} is not a shape numpy can hold: {err}") from err
