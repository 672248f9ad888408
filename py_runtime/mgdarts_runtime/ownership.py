"""One controller at a time: the connection that claimed the runtime in `hello` owns it until it releases it
or falls silent for longer than the lease; every other connection meets `runtime.busy` and changes nothing."""
from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import Busy

# Requests anyone may send while the runtime is owned: they change no state (release ends only the sender's own claim).
OPEN_TYPES = frozenset({"status", "release", "echo"})


@dataclass
class Owner:
    identity: bytes
    client: str
    since: float  # wall clock, for messages
    last_seen: float  # monotonic


class Ownership:
    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.owner: Owner | None = None

    def lapsed(self) -> bool:
        """The owner has sent nothing (no request, no keep-alive status) for longer than the lease."""
        return self.owner is not None and time.monotonic() - self.owner.last_seen > self.lease_seconds

    def admit(self, identity: bytes, request_type: str, params: dict) -> None:
        """Renew the owner's lease, or raise Busy for another connection's request while the runtime is owned.
        Others may still look (status, a hello without claim) and force a shutdown."""
        if self.lapsed():
            self.owner = None
        owner = self.owner
        if owner is None or owner.identity == identity:
            if owner is not None:
                owner.last_seen = time.monotonic()
            return
        if request_type in OPEN_TYPES or (request_type, params.get("claim")) == ("hello", False):
            return
        if request_type == "shutdown" and params.get("force") is True:
            return
        age = time.time() - owner.since
        fix = "`mgdarts runtime stop --force` stops it anyway" if request_type == "shutdown" else "wait for its run to end"
        raise Busy(
            f"the runtime is busy: another controller ({owner.client}) has used it for {age:.0f} s; {fix} "
            f"(a controller that goes silent loses it after {self.lease_seconds:.0f} s)"
        )

    def claim(self, identity: bytes, client: str) -> None:
        """Called by `hello` with claim: `admit` has already refused any other live owner."""
        now = time.monotonic()
        if self.owner is None or self.owner.identity != identity:
            self.owner = Owner(identity, client, time.time(), now)
        self.owner.last_seen = now

    def release(self, identity: bytes) -> bool:
        if self.owner is not None and self.owner.identity == identity:
            self.owner = None
            return True
        return False

    def describe(self) -> dict | None:
        if self.lapsed():
            self.owner = None
        if self.owner is None:
            return None
        return {"client": self.owner.client, "since_s": time.time() - self.owner.since}
