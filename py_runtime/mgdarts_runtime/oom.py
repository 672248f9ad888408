"""Out of device memory: the runtime.oom message (the request, its batch size, the device's memory) and
freeing what the failed request held, so that the runtime takes the next request."""
from __future__ import annotations

import gc
import os
import re
from typing import Callable, TypeVar

import torch

from .errors import OutOfMemory
from .memory import peak_memory_bytes
from .state import RuntimeState

T = TypeVar("T")


def is_oom(err: BaseException) -> bool:
    """CUDA's allocator raises torch.OutOfMemoryError; the CPU allocator a RuntimeError that says so."""
    if isinstance(err, torch.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "DefaultCPUAllocator" in str(err) and "allocate memory" in str(err)


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def device_memory(device: torch.device) -> str:
    """What the device reports: the allocator's figures on CUDA, the process and the machine on CPU."""
    if device.type == "cuda":
        try:
            free, total = torch.cuda.mem_get_info(device)
        except RuntimeError as err:  # a device in a bad state: the error reply must still go out
            return f"{device}: no memory figures ({_first_line(err)})"
        return (f"{device}: {_gib(torch.cuda.memory_allocated(device))} allocated, "
                f"{_gib(torch.cuda.memory_reserved(device))} reserved, peak {_gib(torch.cuda.max_memory_allocated(device))} "
                f"allocated, {_gib(free)} free of {_gib(total)} total")  # fmt: skip
    text = f"{device}: peak resident {_gib(peak_memory_bytes(device))}"
    names = getattr(os, "sysconf_names", {})
    if all(n in names for n in ("SC_PAGE_SIZE", "SC_AVPHYS_PAGES", "SC_PHYS_PAGES")):  # Linux; not macOS, Windows
        page = os.sysconf("SC_PAGE_SIZE")
        text += f", {_gib(os.sysconf('SC_AVPHYS_PAGES') * page)} free of {_gib(os.sysconf('SC_PHYS_PAGES') * page)} total"
    return text


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0][:200]


def describe(err: BaseException) -> str:
    """The allocation that failed, from torch's message ("Tried to allocate 2.00 GiB"), else its first line."""
    found = re.search(r"tried to allocate [\d.]+ ?\w+", str(err), re.IGNORECASE)
    return found.group(0) if found else _first_line(err)


def free_after_oom(state: RuntimeState) -> None:
    """Gradients to None, unreachable tensors collected, cached blocks handed back to the driver."""
    for net in (state.supernet, state.evalnet):
        if net is not None:
            net.zero_grad(set_to_none=True)
    gc.collect()
    if state.device.type == "cuda":
        torch.cuda.empty_cache()


def guard_oom(state: RuntimeState, where: str, batch_size: int, run: Callable[[], T]) -> T:
    """Run one request's loop; on out-of-memory raise OutOfMemory naming where it ran (the reply's type
    names the request), the batch size and the device memory at the failure, after freeing what the loop
    held."""
    try:
        return run()
    except RuntimeError as err:
        if not is_oom(err):
            raise
        memory, failed = device_memory(state.device), describe(err)
    # Outside the except block: the exception, its traceback and with them the failed loop's frame (its
    # batch, activations and graph) are released, so the memory they held can be freed now.
    free_after_oom(state)
    raise OutOfMemory(
        f"out of memory in {where} with batch size {batch_size} ({failed}); at the failure {memory}. "
        "Its batch, activations and gradients were freed: the runtime takes the next request"
    )
