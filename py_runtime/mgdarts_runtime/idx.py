"""Reads and writes IDX files (the MNIST / Fashion-MNIST container), gzipped or raw."""
from __future__ import annotations

import gzip as gzip_lib
import math
import struct
import zlib
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxFormatError(ValueError):
    """A file that is not a well-formed IDX file; names the file and what is wrong with it."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"{self.path}: not a valid IDX file: {reason} "
            "(re-download it or point the data directory at an intact copy)"
        )


def read_idx(path: str | Path) -> np.ndarray:
    """Reads an IDX file (gzip detected by magic bytes, not by name) into a native-endian array."""
    return parse_idx(Path(path).read_bytes(), path)


def parse_idx(data: bytes, path: str | Path = "<bytes>") -> np.ndarray:
    """Parses the bytes of an IDX file, gunzipping first when they start with the gzip magic."""
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, path)
    code, ndim = _parse_magic(data, path)
    dims = _parse_dims(data, ndim, path)
    dtype = IDX_DTYPES[code]
    offset = 4 + 4 * ndim
    expected = math.prod(dims) * dtype.itemsize
    actual = len(data) - offset
    if actual != expected:
        kind = "truncated" if actual < expected else "oversized"
        raise IdxFormatError(
            path, f"{kind} payload: dims {list(dims)} need {expected} bytes of {dtype.name}, found {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=offset).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | Path, array: np.ndarray, gzip: bool) -> None:
    """Writes `array` as an IDX file; gzip output has mtime 0 and no file name so it is byte-reproducible."""
    payload = encode_idx(array)
    if gzip:
        payload = gzip_lib.compress(payload, compresslevel=9, mtime=0)
    Path(path).write_bytes(payload)


def encode_idx(array: np.ndarray) -> bytes:
    """The raw (uncompressed) IDX bytes of `array`."""
    array = np.asarray(array)
    code = _code_for(array.dtype)
    if array.ndim > 255:
        raise ValueError(f"IDX holds at most 255 dimensions, array has {array.ndim}")
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def _code_for(dtype: np.dtype) -> int:
    for code, idx_dtype in IDX_DTYPES.items():
        if np.dtype(dtype).newbyteorder("=") == idx_dtype.newbyteorder("="):
            return code
    names = ", ".join(d.newbyteorder("=").name for d in IDX_DTYPES.values())
    raise ValueError(f"IDX cannot store dtype {np.dtype(dtype).name}; convert the array to one of: {names}")


def _gunzip(data: bytes, path: str | Path) -> bytes:
    try:
        return gzip_lib.decompress(data)
    except (EOFError, OSError, zlib.error) as error:
        raise IdxFormatError(path, f"corrupt or truncated gzip stream ({error})") from error


def _parse_magic(data: bytes, path: str | Path) -> tuple[int, int]:
    if len(data) < 4:
        raise IdxFormatError(path, f"file is {len(data)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = struct.unpack(">BBBB", data[:4])
    if zero0 != 0 or zero1 != 0:
        raise IdxFormatError(path, f"magic number {data[:4].hex()} does not start with two zero bytes")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(path, f"unknown data type code 0x{code:02X} (known: {known})")
    return code, ndim


def _parse_dims(data: bytes, ndim: int, path: str | Path) -> tuple[int, ...]:
    if len(data) < 4 + 4 * ndim:
        raise IdxFormatError(path, f"header declares {ndim} dimensions but the file ends inside the dimension list")
    return tuple(struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim]))
