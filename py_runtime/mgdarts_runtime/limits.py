"""The largest message the runtime accepts: protocol.json's max_message_bytes, or MGDARTS_MAX_MESSAGE_BYTES."""
from __future__ import annotations

import os

from .protocol import spec

ENV = "MGDARTS_MAX_MESSAGE_BYTES"


def max_message_bytes(env: dict[str, str] | None = None) -> int:
    """A bigger message makes ZeroMQ drop the sender's connection before the runtime sees it (no reply);
    the controller refuses to send one, with the same limit from the same variable."""
    raw = (os.environ if env is None else env).get(ENV)
    if raw is None or raw == "":
        return int(spec()["max_message_bytes"])
    value = int(raw) if raw.isascii() and raw.isdigit() else 0  # digits only, as the controller reads it
    if value < 1024:
        raise ValueError(f"{ENV} must be a whole number of bytes ≥ 1024, got {raw!r}; unset it for the default")
    return value
