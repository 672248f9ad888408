"""Fuzz of the runtime's wire: a real runtime process over a real ipc socket gets a few thousand random,
mutated and lying messages; each gets exactly one error or result reply (never runtime.internal), an
oversized one only drops the sender's connection, and a valid request succeeds afterwards."""
from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq

import mgdarts_runtime
from mgdarts_runtime import wire
from mgdarts_runtime.limits import ENV, max_message_bytes
from mgdarts_runtime.protocol import request_types, spec

LIMIT = 64 * 1024  # the runtime under test accepts at most this, so that "oversized" stays small
REPLY_TIMEOUT_MS = 20_000  # generous: a bound on a hung runtime, not a speed requirement
KEY = spec()["ndarray_key"]
# Never sent at random: they end or hand over the runtime, or start real work on valid params.
SPARED = {"shutdown", "release", "hello"}
TYPES = [t for t in request_types() if t not in SPARED]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory):
    """One runtime for the module: each test leaves it serving, which is what they check."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    endpoint = f"ipc://{tmp_path}/rt.sock"
    env = {**os.environ, ENV: str(LIMIT), "PYTHONPATH": str(Path(mgdarts_runtime.__file__).parents[1])}
    stderr = open(tmp_path / "stderr.txt", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgdarts_runtime", "--endpoint", endpoint, "--device", "cpu", "--threads", "1",
         "--parent-pid", str(os.getpid())],
        env=env, stderr=stderr, stdout=subprocess.DEVNULL,
    )
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        yield proc, sock, tmp_path / "stderr.txt"
    finally:
        sock.close()
        ctx.term()
        proc.kill()
        proc.wait()
        stderr.close()


def request(sock: zmq.Socket, frames: list[bytes]) -> dict | None:
    """Send one message; its one reply decoded, or None when none came within the timeout."""
    sock.send_multipart(frames)
    if not sock.poll(REPLY_TIMEOUT_MS):
        return None
    reply = wire.decode(sock.recv_multipart())
    while reply.get("kind") == "event":  # progress events come before the reply
        assert sock.poll(REPLY_TIMEOUT_MS)
        reply = wire.decode(sock.recv_multipart())
    return reply


def echo_frames(value: Any, rid: str = "ok") -> list[bytes]:
    return [bytes(f) for f in wire.encode({"id": rid, "type": "echo", "params": {"value": value}})]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 4 else 7)
    if kind == 0:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64 - 1, rng.randrange(-1000, 1000)])
    if kind == 1:
        return rng.choice([0.0, -0.5, 1e308, math.nan, math.inf, -math.inf, rng.random()])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return "".join(rng.choice("ab_éz\x00 ") for _ in range(rng.randrange(12)))
    if kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
    if kind in (5, 6):
        return rng.choice(["supernet", "valid", "search", "operation", KEY, "cpu"])
    if kind == 7:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["value", "batch_size", "split", "model", "target", "seed", "x", KEY]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def lying_array(rng: random.Random) -> tuple[dict, list[bytes]]:
    """An array descriptor whose dtype, shape or buffer index may not fit the frames that come with it."""
    desc = {
        "dtype": rng.choice(["uint8", "int32", "float32", "float64", "float16", "bool", 3, None, ["uint8"], {"a": 1}]),
        "shape": rng.choice(
            [[2, 2], [4], [], [0], [-1, 4], [True, 2], [2.0, 2], [2**62, 2**62], [0, 2**63], "4", [[2], 2], None]
        ),
        "buffer": rng.choice([1, 1, 2, 0, -1, 99, True, 1.0, "1", None]),
    }
    for key in list(desc):
        if rng.random() < 0.1:
            del desc[key]
    sizes = [rng.choice([0, 4, 8, 16, 32, 7]) for _ in range(rng.randrange(3))]
    frames = [bytes(rng.randrange(256) for _ in range(n)) for n in sizes]
    return desc, frames


def fuzz_message(rng: random.Random, i: int) -> list[bytes]:
    kind = rng.randrange(6)
    if kind == 0:  # random bytes as the header
        return [bytes(rng.randrange(256) for _ in range(rng.randrange(48)))]
    if kind == 1:  # a valid message with a few bytes flipped, dropped, inserted or cut
        head = bytearray(echo_frames(random_value(rng), f"m{i}")[0])
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(head))
            op = rng.randrange(4)
            if op == 0:
                head[at] ^= 1 << rng.randrange(8)
            elif op == 1:
                del head[at]
            elif op == 2:
                head.insert(at, rng.randrange(256))
            else:
                del head[at:]
            if not head:
                break
        return [bytes(head)]
    if kind == 2:  # wrong envelope: types, missing and unknown keys
        env: dict[str, Any] = {"id": f"e{i}", "type": rng.choice(TYPES), "params": {}}
        for key in ("id", "type", "params"):
            if rng.random() < 0.4:
                env[key] = random_value(rng)
        if rng.random() < 0.2:
            del env[rng.choice(["id", "type", "params"])]
        if rng.random() < 0.2:
            env["extra"] = 1
        return [msgpack.packb(env, use_bin_type=True)]
    if kind == 3:  # known or unknown types with random params of wrong types
        rtype = rng.choice(TYPES + ["frobnicate", "", "echo "])
        keys = ["value", "batch_size", "split", "model", "target", "seed", "epoch", "x"]
        params = {k: random_value(rng) for k in rng.sample(keys, rng.randrange(4))}
        return [msgpack.packb({"id": f"p{i}", "type": rtype, "params": params}, use_bin_type=True)]
    if kind == 4:  # arrays whose header lies about dtype, shape or buffer
        desc, frames = lying_array(rng)
        header = {"id": f"a{i}", "type": "echo", "params": {"value": {KEY: desc}}}
        return [msgpack.packb(header, use_bin_type=True), *frames]
    nested: Any = 1  # deep nesting
    for _ in range(rng.randrange(50, 120)):
        nested = [nested] if rng.random() < 0.5 else {"v": nested}
    return echo_frames(nested, f"n{i}")


def test_wire_fuzz_every_message_answered_and_runtime_serves_on(runtime) -> None:
    proc, sock, stderr = runtime
    assert request(sock, echo_frames("up")) == {"id": "ok", "kind": "result", "type": "echo", "result": {"value": "up"}}
    rng = random.Random(20261204)
    codes = set(spec()["error_codes"])
    kinds: dict[str, int] = {}
    for i in range(3000):
        frames = fuzz_message(rng, i)
        reply = request(sock, frames)
        assert reply is not None, f"message {i} got no reply: {frames!r}; runtime stderr: {stderr.read_text()[-2000:]}"
        assert reply["kind"] in ("result", "error"), reply
        if reply["kind"] == "error":
            code = reply["error"]["code"]
            assert code in codes and code != "runtime.internal", f"message {i} {frames!r}: {reply['error']}"
        kinds[reply["kind"]] = kinds.get(reply["kind"], 0) + 1
    assert kinds.get("error", 0) > 1000 and kinds.get("result", 0) > 50  # both paths were exercised
    assert proc.poll() is None
    assert request(sock, echo_frames({"still": [1, 2.5, "here"]})) == {
        "id": "ok", "kind": "result", "type": "echo", "result": {"value": {"still": [1, 2.5, "here"]}},
    }


@pytest.mark.parametrize(
    "desc, frames, needle",
    [
        ({"dtype": "float32", "shape": [2, 2], "buffer": 1}, [b"\0" * 8], "16 bytes"),  # shape says more bytes
        ({"dtype": "float64", "shape": [2], "buffer": 1}, [b"\0" * 8], "16 bytes"),  # dtype says wider
        ({"dtype": "float16", "shape": [2], "buffer": 1}, [b"\0" * 4], "unknown dtype"),
        ({"dtype": ["uint8"], "shape": [2], "buffer": 1}, [b"\0" * 2], "unknown dtype"),
        ({"dtype": "uint8", "shape": [2], "buffer": 2}, [b"\0" * 2], "missing frame"),
        ({"dtype": "uint8", "shape": [2], "buffer": True}, [b"\0" * 2], "missing frame"),
        ({"dtype": "uint8", "shape": [True, 2], "buffer": 1}, [b"\0" * 2], "non-negative integers"),
        ({"dtype": "uint8", "shape": [2**32, 2**32], "buffer": 1}, [b""], "bytes"),  # overflows int64 to 0
        ({"dtype": "uint8", "shape": [0, 2**63], "buffer": 1}, [b""], "numpy"),
    ],
)
def test_lying_array_headers_get_bad_request(runtime, desc: dict, frames: list[bytes], needle: str) -> None:
    _, sock, _ = runtime
    header = msgpack.packb({"id": "x", "type": "echo", "params": {"value": {KEY: desc}}}, use_bin_type=True)
    reply = request(sock, [header, *frames])
    assert reply is not None and reply["kind"] == "error"
    assert reply["error"]["code"] == "runtime.bad_request" and needle in reply["error"]["message"]
    assert request(sock, echo_frames(1))["result"] == {"value": 1}


def test_oversized_message_drops_the_connection_and_the_runtime_serves_on(runtime) -> None:
    proc, sock, _ = runtime
    assert request(sock, echo_frames("before"))["result"] == {"value": "before"}
    # ZeroMQ checks MAXMSGSIZE per frame: a frame over it disconnects the sender and never reaches the runtime
    sock.send_multipart(echo_frames("x" * (LIMIT + 1), "big"))
    # the DEALER reconnects by itself; a request sent before it noticed the drop is lost with the old
    # connection, so ask again until one is answered: the first reply must be one of these, never "big"'s
    for attempt in range(10):
        sock.send_multipart(echo_frames("after", f"after{attempt}"))
        if sock.poll(3000):
            break
    reply = wire.decode(sock.recv_multipart())
    assert reply["id"].startswith("after") and reply["result"] == {"value": "after"} and proc.poll() is None
    while sock.poll(500):  # answers to the other attempts, if any got through
        assert wire.decode(sock.recv_multipart())["id"].startswith("after")
    # a message of just under the limit still gets through
    assert request(sock, echo_frames("y" * (LIMIT - 100)))["result"] == {"value": "y" * (LIMIT - 100)}


def test_max_message_bytes_from_env() -> None:
    assert max_message_bytes({}) == spec()["max_message_bytes"]
    assert max_message_bytes({ENV: "65536"}) == 65536
    for bad in ("12", "lots", "1e6"):
        with pytest.raises(ValueError, match=ENV):
            max_message_bytes({ENV: bad})


def test_bad_limit_stops_the_runtime_with_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, ENV: "lots", "PYTHONPATH": str(Path(mgdarts_runtime.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "mgdarts_runtime", "--endpoint", f"ipc://{tmp_path}/x.sock"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and ENV in done.stderr
