"""Bridge benchmark, Python side: the same search epochs as bench/bridge.mjs, called in-process
(handlers invoked directly, no sockets). Prints one JSON line with the per-epoch seconds."""
from __future__ import annotations

import json
import sys
import time

import torch

from mgdarts_runtime.handlers import make_handlers
from mgdarts_runtime.protocol import parse_params
from mgdarts_runtime.server import DetachedContext
from mgdarts_runtime.state import RuntimeState


def main() -> None:
    plan = json.loads(sys.argv[1])
    torch.set_num_threads(plan["threads"])
    handlers = make_handlers(RuntimeState(device=torch.device("cpu")))
    ctx = DetachedContext()
    for name in ("load_data", "build_supernet"):
        handlers[name](ctx, parse_params(name, plan[name]))
    seconds = []
    for epoch in range(plan["epochs"]):
        params = parse_params("train_epoch", {**plan["train_epoch"], "epoch": epoch})
        start = time.perf_counter()
        handlers["train_epoch"](ctx, params)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
