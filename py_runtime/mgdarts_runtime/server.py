"""Socket loop: ROUTER socket, decode, validate, dispatch, one reply per request, and the control path
(status, cancel, shutdown) served between batches of a running request. Knows no request semantics."""
from __future__ import annotations

import collections
import logging
import time
import traceback
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import zmq

from . import oom, wire
from .errors import BadParamsFault, BadRequest, Busy, Cancelled, RuntimeFault, UnknownType
from .limits import max_message_bytes
from .ownership import Ownership
from .parent import ParentWatch
from .protocol import BadParams, parse_params, spec
from .security import check_bind, secure

log = logging.getLogger(__name__)

Handler = Callable[["RequestContext", Any], dict]
_POLL_MS = 250


@dataclass
class RequestContext:
    """What a handler may do while it runs: report progress and let control requests through."""

    server: "Server"
    identity: bytes
    id: str
    type: str
    cancelled: bool = False
    batches_done: int | None = None
    batches_total: int | None = None
    _last_event: float = field(default=0.0)

    def progress_due(self, batch: int, batches: int) -> bool:
        """Serve control requests; True when a progress event is due (at most twice a second, and at
        the last batch), so the loop reads its device-side loss back only then."""
        self.batches_done, self.batches_total = batch, batches
        self.checkpoint()
        return batch == batches or time.monotonic() - self._last_event >= 0.5

    def progress(self, batch: int, batches: int, loss: float, seconds: float) -> None:
        self._last_event = time.monotonic()
        event = {"name": "progress", "batch": batch, "batches": batches, "loss": float(loss), "seconds": seconds}
        self.server.send(self.identity, {"id": self.id, "kind": "event", "type": self.type, "event": event})

    def checkpoint(self) -> None:
        """Serve pending control requests; raise Cancelled if this request was cancelled."""
        self.server.serve_control()
        if self.cancelled:
            raise Cancelled(f"{self.type} cancelled")


class DetachedContext:
    """A request context without a server, for driving handlers in-process (benchmarks, tests): no control path,
    no progress events, never cancelled."""

    type = "detached"

    def progress_due(self, batch: int, batches: int) -> bool:
        return batch == batches

    def progress(self, *args: Any) -> None:
        pass

    def checkpoint(self) -> None:
        pass


class Server:
    def __init__(
        self, endpoint: str, handlers: dict[str, Handler], parent: ParentWatch, keys_dir: str | None = None,
        lease_seconds: float = 30.0,
    ) -> None:
        check_bind(endpoint, keys_dir)
        self.endpoint = endpoint
        self.handlers = handlers
        self.parent = parent
        self.started = time.monotonic()
        self.current: RequestContext | None = None
        self.queue: collections.deque[tuple[bytes, list[bytes]]] = collections.deque()
        self.stopping = False
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 1000)
        # an oversized message: ZeroMQ drops that peer's connection, the runtime never sees it and serves on
        self.socket.setsockopt(zmq.MAXMSGSIZE, max_message_bytes())
        if "[" in endpoint:
            self.socket.setsockopt(zmq.IPV6, 1)  # an IPv6 address such as tcp://[::1]:5555
        self.control_types = set(spec()["control_types"])
        self.ownership = Ownership(lease_seconds)
        self.authenticator = secure(self.context, self.socket, keys_dir) if keys_dir else None

    def serve_forever(self) -> None:
        self.socket.bind(self.endpoint)
        log.info("runtime listening on %s", self.endpoint)
        try:
            while not self.stopping:
                if self.queue:
                    self.dispatch(*self.queue.popleft())
                elif self.socket.poll(_POLL_MS):
                    identity, frames = self._receive()
                    if self._admitted(identity, frames):
                        self.dispatch(identity, frames)
                self.parent.check()
        finally:
            # The socket file goes first: nothing below may keep it on disk if it fails or is interrupted.
            if self.endpoint.startswith("ipc://"):
                Path(self.endpoint[len("ipc://"):]).unlink(missing_ok=True)
            try:
                self._cancel_queued()
            finally:
                self.socket.close()
                if self.authenticator is not None:
                    self.authenticator.stop()
                self.context.term()

    def _cancel_queued(self) -> None:
        """Requests still queued at shutdown get their one reply: cancelled."""
        while self.queue:
            identity, frames = self.queue.popleft()
            try:
                message = wire.decode(frames)
                request_id, request_type = str(message.get("id", "")), str(message.get("type", ""))
            except (wire.FrameError, AttributeError):
                continue
            error = {"code": "runtime.cancelled", "message": "runtime shutting down", "ename": "Cancelled", "traceback": None}
            self.send(identity, {"id": request_id, "kind": "error", "type": request_type, "error": error})

    def send(self, identity: bytes, message: dict) -> None:
        self.socket.send_multipart([identity, *wire.encode(message)], copy=False)

    def serve_control(self) -> None:
        """Between batches: answer control requests now, queue everything else for later."""
        self.parent.check()
        while self.socket.poll(0):
            identity, frames = self._receive()
            if not self._admitted(identity, frames):
                continue
            if self._peek_type(frames) in self.control_types:
                self.dispatch(identity, frames)
            else:
                self.queue.append((identity, frames))
        # Judged after reading what arrived during the batch, so a batch longer than the lease does not count.
        if self.current is not None and self.ownership.lapsed():
            # The controller of this request went silent (killed, or its machine lost): stop computing for it.
            log.warning("the owner's lease lapsed; cancelling %s", self.current.type)
            self.current.cancelled = True

    def _receive(self) -> tuple[bytes, list[bytes]]:
        identity, *frames = self.socket.recv_multipart(copy=True)
        return identity, frames

    def _admitted(self, identity: bytes, frames: list[bytes]) -> bool:
        """Renew the owner's lease; answer another controller's valid request with runtime.busy at once (never
        queued). A malformed or unknown request is let through: its own error reply says more than busy."""
        try:
            request_id, request_type, params = self._envelope(wire.decode(frames))
            if request_type not in self.handlers:
                return True
            parse_params(request_type, params)
        except (wire.FrameError, BadRequest, BadParams):
            return True
        try:
            self.ownership.admit(identity, request_type, params)
        except Busy as err:
            self.send(identity, {"id": request_id, "kind": "error", "type": request_type, "error": _error_body(err)})
            return False
        return True

    @staticmethod
    def _peek_type(frames: list[bytes]) -> str | None:
        try:
            message = wire.decode(frames)
        except wire.FrameError:
            return None
        return message.get("type") if isinstance(message, dict) else None

    def dispatch(self, identity: bytes, frames: list[bytes]) -> None:
        request_id, request_type = "", ""
        try:
            message = wire.decode(frames)
            request_id, request_type, params = self._envelope(message)
            handler = self.handlers.get(request_type)
            if handler is None:
                raise UnknownType(f"unknown request type {request_type!r}; known: {sorted(self.handlers)}")
            try:
                parsed = parse_params(request_type, params)
            except BadParams as err:
                raise BadParamsFault(str(err)) from err
            ctx = RequestContext(self, identity, request_id, request_type)
            result = self._run(ctx, handler, parsed)
            self.send(identity, {"id": request_id, "kind": "result", "type": request_type, "result": result})
        except Exception as err:  # every failure becomes exactly one error reply
            self.send(identity, {"id": request_id, "kind": "error", "type": request_type, "error": _error_body(err)})

    def _run(self, ctx: RequestContext, handler: Handler, params: Any) -> dict:
        if ctx.type in self.control_types:
            return handler(ctx, params)
        previous, self.current = self.current, ctx
        try:
            return handler(ctx, params)
        finally:
            self.current = previous

    @staticmethod
    def _envelope(message: Any) -> tuple[str, str, dict]:
        if not isinstance(message, dict):
            raise BadRequest("message header must be a map with id, type and params")
        request_id, request_type, params = message.get("id"), message.get("type"), message.get("params")
        if not isinstance(request_id, str) or not isinstance(request_type, str) or not isinstance(params, dict):
            raise BadRequest("message header needs id (string), type (string) and params (map)")
        unknown = set(message) - {"id", "type", "params"}
        if unknown:
            raise BadRequest(f"unknown envelope key(s) {sorted(unknown)}")
        return request_id, request_type, params


def _current_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_initialized() else torch.device("cpu")


def _error_body(err: Exception) -> dict:
    if isinstance(err, wire.FrameError):
        code, tb = "runtime.bad_request", None
    elif oom.is_oom(err):  # outside the guarded training loops (oom.guard_oom), e.g. building a network
        code, tb = "runtime.oom", None
        message = f"out of memory ({oom.describe(err)}); {oom.device_memory(_current_device())}"
        return {"code": code, "message": message, "ename": type(err).__name__, "traceback": tb}
    elif isinstance(err, RuntimeFault):
        code, tb = err.code, None
    else:
        code, tb = "runtime.internal", traceback.format_exc()
        log.error("internal error: %s", tb)
    return {"code": code, "message": str(err) or type(err).__name__, "ename": type(err).__name__, "traceback": tb}
