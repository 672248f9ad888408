"""The runtime against the generated protocol.json: handler table, params validation, frame codec."""
from __future__ import annotations

import dataclasses
import inspect
import json

import msgpack
import numpy as np
import pytest
import torch

from mgdarts_runtime import protocol, wire
from mgdarts_runtime.handlers import make_handlers
from mgdarts_runtime.protocol import BadParams, parse_params
from mgdarts_runtime.state import RuntimeState

SPEC = json.loads(protocol.PROTOCOL_FILE.read_text())
KEY = SPEC["ndarray_key"]


# ---------------------------------------------------------------- handler table


def test_handler_table_has_exactly_the_request_types_of_protocol_json():
    handlers = make_handlers(RuntimeState(device=torch.device("cpu")))
    assert sorted(handlers) == sorted(SPEC["requests"])
    assert protocol.request_types() == list(SPEC["requests"])


def test_each_handler_takes_ctx_and_params():
    handlers = make_handlers(RuntimeState(device=torch.device("cpu")))
    for name, fn in handlers.items():
        assert len(inspect.signature(fn).parameters) == 2, name


def test_control_types_are_request_types():
    assert set(SPEC["control_types"]) <= set(SPEC["requests"])


@pytest.mark.parametrize("request_type", list(SPEC["requests"]))
def test_params_class_fields_follow_the_schema(request_type):
    cls = protocol.params_class(request_type)
    assert dataclasses.is_dataclass(cls)
    assert [f.name for f in dataclasses.fields(cls)] == list(SPEC["requests"][request_type]["params"].get("properties", {}))


# ---------------------------------------------------------------- parse_params

TRAIN_EPOCH = {
    "phase": "search",
    "stage": "stage1",
    "epoch": 2,
    "batch_size": 64,
    "reg_lambda": 4e-5,
    "mu": 0,
    "lr": {"weights": 0.01, "alpha": 1, "op_threshold": 0.1, "filter_score": 1, "filter_threshold": 0.1, "weight_threshold": 0.001},
    "last_cell": None,
    "reg_cells": {"from": 0, "to": 2},
    "sgd": {"momentum": 0.9, "weight_decay": 3e-4, "grad_clip": None},
    "commit": True,
    "augment": {"crop_padding": 2, "flip": True, "cutout": 0, "auto_augment": False},
    "max_batches": None,
    "seed": 2,
}

VALID = [
    ("hello", {"protocol_version": "1.0.0", "op_vocab_hash": "aa95b6a12893753a", "client": "test", "claim": True}),
    ("status", {}),
    ("cancel", {"target": "r1"}),
    ("echo", {"value": {"nested": [1, 2.5, None, "x"]}}),
    ("evaluate", {"model": "supernet", "split": "valid", "batch_size": 64}),
    ("train_epoch", TRAIN_EPOCH),
    ("train_epoch", {**TRAIN_EPOCH, "sgd": {**TRAIN_EPOCH["sgd"], "grad_clip": 5}, "max_batches": 3}),
]


@pytest.mark.parametrize(("request_type", "params"), VALID, ids=[f"{t}-{i}" for i, (t, _) in enumerate(VALID)])
def test_parse_params_accepts_valid_params(request_type, params):
    parsed = parse_params(request_type, params)
    for key, value in params.items():
        assert getattr(parsed, key) == value
    if params:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(parsed, next(iter(params)), None)


def _with(base: dict, path: str, value=..., drop: bool = False) -> dict:
    """A deep copy of `base` with `path` (dotted) set to `value`, or removed."""
    out = json.loads(json.dumps(base))
    *parents, leaf = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if drop:
        del node[leaf]
    else:
        node[leaf] = value
    return out


EVALUATE = {"model": "supernet", "split": "valid", "batch_size": 64}

INVALID = [
    # (name, request type, params, field path that the message must name, extra text it must contain)
    ("unknown key", "evaluate", {**EVALUATE, "foo": 1}, "params", "foo"),
    ("unknown key in an empty schema", "status", {"foo": 1}, "params", "foo"),
    ("unknown nested key", "train_epoch", _with(TRAIN_EPOCH, "lr.beta", 1.0), "params.lr", "beta"),
    ("string for integer", "evaluate", {**EVALUATE, "batch_size": "64"}, "params.batch_size", "integer"),
    ("float for integer", "evaluate", {**EVALUATE, "batch_size": 64.5}, "params.batch_size", "integer"),
    ("bool for integer", "evaluate", {**EVALUATE, "batch_size": True}, "params.batch_size", "integer"),
    ("string for number", "train_epoch", _with(TRAIN_EPOCH, "reg_lambda", "0.1"), "params.reg_lambda", "number"),
    ("int for bool", "train_epoch", _with(TRAIN_EPOCH, "commit", 1), "params.commit", "boolean"),
    ("list for object", "train_epoch", _with(TRAIN_EPOCH, "sgd", [0.9]), "params.sgd", "object"),
    ("missing key", "evaluate", {"model": "supernet", "batch_size": 64}, "params.split", "required"),
    ("missing nested key", "train_epoch", _with(TRAIN_EPOCH, "augment.flip", drop=True), "params.augment.flip", "required"),
    ("zero for positive", "evaluate", {**EVALUATE, "batch_size": 0}, "params.batch_size", "> 0"),
    ("negative for non-negative", "train_epoch", _with(TRAIN_EPOCH, "epoch", -1), "params.epoch", ">= 0"),
    ("above maximum", "train_epoch", _with(TRAIN_EPOCH, "sgd.momentum", 1.5), "params.sgd.momentum", "<= 1"),
    ("nullable out of range", "train_epoch", _with(TRAIN_EPOCH, "max_batches", 0), "params.max_batches", "> 0"),
    ("nullable wrong type", "train_epoch", _with(TRAIN_EPOCH, "sgd.grad_clip", "5"), "params.sgd.grad_clip", "number"),
    ("not in enum", "evaluate", {**EVALUATE, "split": "train"}, "params.split", "train"),
    ("params not an object", "evaluate", [1, 2], "params", "object"),
]


@pytest.mark.parametrize(("request_type", "params", "path", "text"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_parse_params_rejects_with_the_field_path(request_type, params, path, text):
    with pytest.raises(BadParams) as info:
        parse_params(request_type, params)
    message = str(info.value)
    assert message.startswith(f"{path}:") or f"; {path}:" in message, message
    assert text in message, message


# ---------------------------------------------------------------- wire


def _on_the_wire(frames) -> list[bytes]:
    """What ZeroMQ hands the other side: plain bytes per frame."""
    return [bytes(f) for f in frames]


@pytest.mark.parametrize(
    "value",
    [2**31, 2**32, 2**53, 2**63 - 1, -(2**31), -(2**32), -(2**53), -(2**63), 0, 2**31 - 1],
    ids=["2^31", "2^32", "2^53", "2^63-1", "-2^31", "-2^32", "-2^53", "-2^63", "0", "2^31-1"],
)
def test_integers_round_trip_exactly(value):
    frames = wire.encode({"v": value})
    assert len(frames) == 1
    back = wire.decode(_on_the_wire(frames))["v"]
    assert type(back) is int
    assert back == value
    # fixmap(1), fixstr "v", then the value: an integer marker, never float64 (0xcb).
    assert bytes(frames[0][:3]) == b"\x81\xa1v"
    assert frames[0][3] != 0xCB


def test_numpy_and_torch_scalars_become_python_numbers():
    back = wire.decode(_on_the_wire(wire.encode({"i": np.int64(2**40), "f": np.float32(1.5), "b": np.bool_(True)})))
    assert back["i"] == 2**40 and type(back["i"]) is int
    assert back["f"] == 1.5 and type(back["f"]) is float
    assert back["b"] is True


ARRAYS = [
    np.array([[0.5, -1.25, 3.0], [1e-7, -0.0, 65504.0]], dtype=np.float32),
    np.array([0, 1, 128, 255], dtype=np.uint8),
    np.array([-(2**63), 2**63 - 1, 2**53 + 1], dtype=np.int64),
    np.array([-(2**31), 2**31 - 1], dtype=np.int32),
    np.array([np.pi, -1e300], dtype=np.float64),
    np.zeros((0, 5), dtype=np.float32),
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
]


@pytest.mark.parametrize("array", ARRAYS, ids=[f"{a.dtype}{list(a.shape)}" for a in ARRAYS])
def test_arrays_round_trip_as_raw_frames(array):
    frames = wire.encode({"a": array, "n": 7})
    assert len(frames) == 2
    assert len(frames[1]) == array.nbytes
    header = msgpack.unpackb(frames[0])
    assert header["a"] == {KEY: {"dtype": array.dtype.name, "shape": list(array.shape), "buffer": 1}}
    back = wire.decode(_on_the_wire(frames))
    assert back["n"] == 7
    assert back["a"].dtype == array.dtype
    assert back["a"].shape == array.shape
    np.testing.assert_array_equal(back["a"], array)


def test_a_zero_dim_array_keeps_its_shape():
    back = wire.decode(_on_the_wire(wire.encode({"a": np.array(3.0, dtype=np.float32)})))["a"]
    assert back.shape == ()
    assert back.item() == 3.0


def test_several_arrays_each_get_a_frame_in_order():
    a, b, c = np.ones(3, np.float32), np.zeros(2, np.uint8), np.arange(4, dtype=np.int64)
    frames = wire.encode({"x": [a, {"y": b}], "z": torch.from_numpy(c)})
    assert len(frames) == 4
    back = wire.decode(_on_the_wire(frames))
    np.testing.assert_array_equal(back["x"][0], a)
    np.testing.assert_array_equal(back["x"][1]["y"], b)
    np.testing.assert_array_equal(back["z"], c)


def test_bool_and_non_contiguous_arrays():
    mask = np.array([[True, False], [False, True]])
    strided = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    back = wire.decode(_on_the_wire(wire.encode({"m": mask, "s": strided})))
    assert back["m"].dtype == np.uint8
    np.testing.assert_array_equal(back["m"], mask.astype(np.uint8))
    np.testing.assert_array_equal(back["s"], strided)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float64, np.int32])
def test_an_unaligned_frame_decodes_correctly(dtype):
    array = np.array([1.5, -2.25, 3.0, 1e6], dtype=dtype)
    header = wire.encode({"a": array})[0]
    big = b"\xee" + array.tobytes() + b"\xee\xee"
    frame = memoryview(big)[1 : 1 + array.nbytes]
    back = wire.decode([header, frame])["a"]
    np.testing.assert_array_equal(back, array)
    assert back.flags["ALIGNED"] and back.flags["WRITEABLE"]


def _header(descriptor) -> bytes:
    return msgpack.packb({"a": {KEY: descriptor}})


F32X4 = np.zeros(4, np.float32).tobytes()

BAD = [
    ("shape lies (too big)", [_header({"dtype": "float32", "shape": [5], "buffer": 1}), F32X4], "bytes"),
    ("shape lies (too small)", [_header({"dtype": "float32", "shape": [2, 1], "buffer": 1}), F32X4], "bytes"),
    ("dtype size does not fit", [_header({"dtype": "float64", "shape": [4], "buffer": 1}), F32X4], "bytes"),
    ("missing frame", [_header({"dtype": "float32", "shape": [4], "buffer": 2}), F32X4], "missing frame"),
    ("buffer 0", [_header({"dtype": "float32", "shape": [4], "buffer": 0}), F32X4], "missing frame"),
    ("unknown dtype", [_header({"dtype": "float16", "shape": [8], "buffer": 1}), F32X4], "unknown dtype"),
    ("negative dimension", [_header({"dtype": "float32", "shape": [-4], "buffer": 1}), F32X4], "shape"),
    ("invalid msgpack", [b"\xc1"], "not valid msgpack"),
    ("truncated msgpack", [msgpack.packb({"hello": "world"})[:5]], "not valid msgpack"),
    ("no frames", [], "no header"),
]


@pytest.mark.parametrize(("frames", "text"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_frames_raise_frame_error(frames, text):
    with pytest.raises(wire.FrameError, match=text):
        wire.decode(frames)


def test_tuples_are_checked_position_by_position():
    protocol.parse_params("regrow", {"ops": [[0, 1, 2], [1, 0, 6]]})
    for bad in ([[0, 1]], [[0, 1, 2, 3]], [[0, -1, 2]], [[0, 1, "2"]]):
        with pytest.raises(protocol.BadParams, match=r"params\.ops\[0\]"):
            protocol.parse_params("regrow", {"ops": bad})


def test_a_field_with_a_default_may_be_left_out_and_gets_the_default() -> None:
    hello = parse_params("hello", {"protocol_version": "1.0.0", "op_vocab_hash": "x", "client": "test"})
    assert hello.claim is True
    with pytest.raises(BadParams, match="client: required"):
        parse_params("hello", {"protocol_version": "1.0.0", "op_vocab_hash": "x"})  # no default: still required
