"""Fault switches for tests (MGDARTS_FAULT): make the real runtime exit on start, hang, crash mid-epoch,
produce a NaN or infinite loss, or run out of device memory. Unset in normal use; every check is a cheap
dictionary lookup.

Where a loss or memory fault fires: at batch MGDARTS_FAULT_BATCH (default 2) of an epoch, and, where set,
only in stage MGDARTS_FAULT_STAGE (`retrain` for retraining epochs) and epoch MGDARTS_FAULT_EPOCH.
oom fires only in loops whose batch size is at least MGDARTS_FAULT_OOM_BATCH_SIZE (default 1), like a
device that fits smaller batches only."""
from __future__ import annotations

import os
import signal
import time

import torch


def _fault() -> str:
    return os.environ.get("MGDARTS_FAULT", "")


def _fires_at(batch: int, stage: str | None = None, epoch: int | None = None) -> bool:
    env = os.environ
    if batch != int(env.get("MGDARTS_FAULT_BATCH", "2")):
        return False
    if env.get("MGDARTS_FAULT_STAGE") and stage is not None and env["MGDARTS_FAULT_STAGE"] != stage:
        return False
    return not (env.get("MGDARTS_FAULT_EPOCH") and epoch is not None and int(env["MGDARTS_FAULT_EPOCH"]) != epoch)


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


def maybe_poison(loss: torch.Tensor, batch: int, stage: str | None = None, epoch: int | None = None) -> torch.Tensor:
    """nan_loss / inf_loss: the loss of the chosen batch becomes NaN / +inf (its gradients follow)."""
    fault = _fault()
    if fault in ("nan_loss", "inf_loss") and _fires_at(batch, stage, epoch):
        return loss * float("nan") if fault == "nan_loss" else loss + float("inf")
    return loss


def maybe_oom(batch: int, batch_size: int, stage: str | None = None, epoch: int | None = None) -> None:
    """oom: torch.OutOfMemoryError (what the CUDA allocator raises) at the chosen batch, after its forward
    and backward passes, so that the failed request holds a batch, a graph and gradients to free."""
    if _fault() == "oom" and batch_size >= int(os.environ.get("MGDARTS_FAULT_OOM_BATCH_SIZE", "1")) and _fires_at(batch, stage, epoch):
        raise torch.OutOfMemoryError(
            f"MGDARTS_FAULT=oom: out of memory. Tried to allocate 1.00 GiB (batch {batch}, batch size {batch_size})"
        )
