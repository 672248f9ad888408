"""Tests for the runtime's one-controller rule and its bind check: a claimed runtime refuses another
connection's requests but lets it look, a silent owner loses the claim after the lease, and only ipc and
loopback binds go without CURVE keys."""
import time

import pytest

from mgdarts_runtime.errors import Busy
from mgdarts_runtime.ownership import Ownership
from mgdarts_runtime.security import InsecureBind, check_bind, is_loopback

A, B = b"controller-a", b"controller-b"


def test_an_owned_runtime_refuses_another_controller_but_lets_it_look() -> None:
    own = Ownership(lease_seconds=30)
    own.admit(A, "hello", {"claim": True})
    own.claim(A, "run a")
    own.admit(A, "train_epoch", {})  # the owner is served
    refused = (("train_epoch", {}), ("hello", {}), ("hello", {"claim": True}), ("shutdown", {}))
    for request_type, params in refused:
        with pytest.raises(Busy, match="run a"):
            own.admit(B, request_type, params)
    allowed = (("status", {}), ("echo", {}), ("release", {}), ("hello", {"claim": False}), ("shutdown", {"force": True}))
    for request_type, params in allowed:
        own.admit(B, request_type, params)
    assert own.describe()["client"] == "run a"


def test_release_frees_the_runtime_for_the_next_controller_and_only_the_owner_releases() -> None:
    own = Ownership(lease_seconds=30)
    own.claim(A, "run a")
    assert own.release(B) is False and own.describe() is not None
    assert own.release(A) is True and own.describe() is None
    own.admit(B, "train_epoch", {})
    own.claim(B, "run b")
    assert own.describe()["client"] == "run b"


def test_a_silent_owner_loses_the_runtime_after_its_lease() -> None:
    own = Ownership(lease_seconds=0.2)
    own.claim(A, "run a")
    with pytest.raises(Busy):
        own.admit(B, "train_epoch", {})
    own.admit(A, "status", {})  # anything the owner sends renews the lease
    assert not own.lapsed()
    time.sleep(0.3)
    assert own.lapsed()
    own.admit(B, "train_epoch", {})
    assert own.describe() is None


@pytest.mark.parametrize("endpoint, local", [
    ("ipc:///tmp/x.sock", True), ("tcp://127.0.0.1:5555", True), ("tcp://127.9.0.1:1", True),
    ("tcp://[::1]:5555", True), ("tcp://localhost:5555", True), ("tcp://0.0.0.0:5555", False),
    ("tcp://*:5555", False), ("tcp://10.0.0.2:5555", False),
    ("tcp://gpu-box:5555", False), ("tcp://eth0:5555", False),
])
def test_only_ipc_and_loopback_bind_without_keys(endpoint: str, local: bool) -> None:
    assert is_loopback(endpoint) is local
    if local:
        check_bind(endpoint, None)
    else:
        with pytest.raises(InsecureBind, match="mgdarts runtime keygen"):
            check_bind(endpoint, None)
        check_bind(endpoint, "keys")  # with keys any address is allowed
