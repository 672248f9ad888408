"""Fault switches for tests (MGDARTS_FAULT): make the real runtime exit on start, hang, crash mid-epoch,
or produce a NaN loss. Unset in normal use; every check is a cheap dictionary lookup."""
from __future__ import annotations

import os
import signal
import time

import torch


def _fault() -> str:
    return os.environ.get("MGDARTS_FAULT", "")


def on_start() -> None:
    fault = _fault()
    if fault == "exit_on_start":
        raise SystemExit("MGDARTS_FAULT=exit_on_start: runtime exits before serving")
    if fault == "hang_on_start":
        while True:
            time.sleep(3600)


def maybe_crash(batch: int) -> None:
    """crash_mid_epoch: the process kills itself after the second batch of an epoch."""
    if _fault() == "crash_mid_epoch" and batch == 2:
        os.kill(os.getpid(), signal.SIGKILL)


def maybe_slow(batch: int) -> None:
    if _fault() == "slow_batches":
        time.sleep(0.2)


def maybe_poison(loss: torch.Tensor, batch: int) -> torch.Tensor:
    """nan_loss: the loss of the second batch becomes NaN."""
    if _fault() == "nan_loss" and batch == 2:
        return loss * float("nan")
    return loss
