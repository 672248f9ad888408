"""Ties the runtime's life to its controller: it exits by itself when the process that started it dies."""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


class ParentWatch:
    def __init__(self, parent_pid: int | None) -> None:
        self.parent_pid = parent_pid
        if parent_pid is None:
            return
        if sys.platform.startswith("linux"):
            # The kernel sends SIGTERM the moment the parent dies; the handler installed by __main__
            # exits cleanly (socket closed, ipc file removed) as soon as the current torch op returns.
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        self.check()  # the parent may have died before prctl took effect

    def check(self) -> None:
        """Polling fallback (and the only watch off Linux): exit when the parent is gone."""
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            log.warning("controller (pid %d) is gone; runtime exits", self.parent_pid)
            raise SystemExit(0)
