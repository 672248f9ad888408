"""Process flags only: `python -m mgdarts_runtime --endpoint ipc://... [--device cpu] [--threads 1] [--keys DIR]`."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

import torch

from . import faults
from .device import pick_device
from .handlers import make_handlers
from .limits import max_message_bytes
from .parent import ParentWatch
from .security import InsecureBind, check_bind
from .server import Server
from .state import RuntimeState


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Unwinds through the server's cleanup; a torch op stuck for 10 s more does not keep us alive.
    timer = threading.Timer(10.0, os._exit, args=(1,))
    timer.daemon = True
    timer.start()
    raise SystemExit(0)


def main() -> None:
    # cuBLAS needs this before its first call to have deterministic kernels (build_supernet's `deterministic`)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    parser = argparse.ArgumentParser(prog="mgdarts_runtime", description="mgdarts PyTorch runtime")
    parser.add_argument("--endpoint", required=True, help="ZeroMQ endpoint to bind, e.g. ipc:///tmp/x.sock")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when available)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process dies")
    parser.add_argument("--keys", default=None, help="CURVE key directory (mgdarts runtime keygen); needed off loopback")
    parser.add_argument("--lease-seconds", type=float, default=30.0, help="a silent controller loses the runtime after this")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    try:
        check_bind(args.endpoint, args.keys)  # before a device is picked or anything binds
    except InsecureBind as err:
        print(f"mgdarts_runtime: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        max_message_bytes()
    except ValueError as err:
        print(f"mgdarts_runtime: {err}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=args.log_level, format="[runtime] %(levelname)s %(name)s: %(message)s")
    # Ctrl-C in a terminal reaches the whole process group; the controller decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parent = ParentWatch(args.parent_pid)
    faults.on_start()
    if args.threads:
        torch.set_num_threads(args.threads)
    state = RuntimeState(device=pick_device(args.device))
    try:
        server = Server(args.endpoint, make_handlers(state), parent, args.keys, args.lease_seconds)
    except InsecureBind as err:
        print(f"mgdarts_runtime: {err}", file=sys.stderr)
        sys.exit(2)
    server.serve_forever()


if __name__ == "__main__":
    main()
