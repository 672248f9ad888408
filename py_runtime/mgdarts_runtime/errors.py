"""Expected runtime faults, each with the wire error code the server replies with."""
from __future__ import annotations


class RuntimeFault(Exception):
    code = "runtime.internal"


class NotReady(RuntimeFault):
    code = "runtime.not_ready"


class Cancelled(RuntimeFault):
    code = "runtime.cancelled"


class NanLoss(RuntimeFault):
    """A non-finite loss or gradient, found before the optimizer step of that batch."""

    code = "runtime.nan_loss"


class DataNotFound(RuntimeFault):
    code = "runtime.data_not_found"


class BadRequest(RuntimeFault):
    code = "runtime.bad_request"


class UnknownType(RuntimeFault):
    code = "runtime.unknown_type"


class BadParamsFault(RuntimeFault):
    code = "runtime.bad_params"


class Busy(RuntimeFault):
    code = "runtime.busy"


class OutOfMemory(RuntimeFault):
    """The device ran out of memory in a request; what the request held has been freed (oom.py)."""

    code = "runtime.oom"


class WriteFailed(RuntimeFault):
    """A file the controller asked for could not be written (disk full, no permission); nothing half-written stays."""

    code = "runtime.write_failed"
