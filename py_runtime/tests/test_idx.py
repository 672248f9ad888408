"""Tests for the IDX reader/writer: round trips, the official byte layout, and malformed files."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from mgdarts_runtime.idx import IdxFormatError, read_idx, write_idx


@pytest.mark.parametrize("use_gzip", [True, False])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.linspace(-1.5, 2.5, 6, dtype=np.float32).reshape(3, 2),
        np.array([-3, 0, 7], dtype=np.int8),
        np.array([[-30000, 5], [1, 2]], dtype=np.int16),
        np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        np.array([1e-300, -2.0], dtype=np.float64),
    ],
    ids=["ubyte", "float", "byte", "short", "int", "double"],
)
def test_round_trip(tmp_path: Path, array: np.ndarray, use_gzip: bool) -> None:
    path = tmp_path / ("a.idx.gz" if use_gzip else "a.idx")
    write_idx(path, array, gzip=use_gzip)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_by_magic_not_name(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    gz_named_raw, raw_named_gz = tmp_path / "x.gz", tmp_path / "y"
    write_idx(gz_named_raw, array, gzip=False)
    write_idx(raw_named_gz, array, gzip=True)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)


def test_gzip_output_is_byte_reproducible(tmp_path: Path) -> None:
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    write_idx(tmp_path / "a.gz", array, gzip=True)
    write_idx(tmp_path / "b.gz", array, gzip=True)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_official_layout_written_by_hand(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    header = struct.pack(">IIII", 0x00000803, 3, 28, 28)
    (tmp_path / "images").write_bytes(header + images.tobytes())
    (tmp_path / "labels.gz").write_bytes(gzip.compress(struct.pack(">II", 0x00000801, 3) + bytes([9, 0, 4])))
    np.testing.assert_array_equal(read_idx(tmp_path / "images"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), np.array([9, 0, 4], dtype=np.uint8))


def test_written_header_is_official(tmp_path: Path) -> None:
    write_idx(tmp_path / "f", np.zeros((2, 28, 28), dtype=np.uint8), gzip=False)
    assert (tmp_path / "f").read_bytes()[:16] == struct.pack(">IIII", 0x803, 2, 28, 28)


@pytest.mark.parametrize("use_gzip", [True, False])
def test_truncated_payload_names_file(tmp_path: Path, use_gzip: bool) -> None:
    raw = struct.pack(">IIII", 0x803, 1, 2, 2) + bytes(3)  # dims 1x2x2 need 4 bytes
    path = tmp_path / "short-images"
    path.write_bytes(gzip.compress(raw) if use_gzip else raw)
    with pytest.raises(IdxFormatError, match="short-images.*truncated"):
        read_idx(path)


def test_oversized_payload(tmp_path: Path) -> None:
    path = tmp_path / "long"
    path.write_bytes(struct.pack(">II", 0x801, 2) + bytes(3))
    with pytest.raises(IdxFormatError, match="long.*oversized"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(struct.pack(">II", 0x801, 50) + bytes(50))[:-12])
    with pytest.raises(IdxFormatError, match="cut.gz.*gzip"):
        read_idx(path)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (struct.pack(">II", 0x01000801, 1) + b"\x00", "two zero bytes"),
        (struct.pack(">II", 0x00000A01, 1) + b"\x00", "unknown data type code 0x0A"),
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (struct.pack(">I", 0x803) + struct.pack(">I", 5), "ends inside the dimension list"),
    ],
    ids=["nonzero-magic", "bad-type", "tiny", "cut-dims"],
)
def test_bad_header(tmp_path: Path, raw: bytes, reason: str) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(IdxFormatError, match=reason) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_unsupported_dtype_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot store dtype uint16"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=np.uint16), gzip=False)
