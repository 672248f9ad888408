"""Checkpoints of the runtime's half of a run: the supernet (its shapes after pruning, regrowth and shrinks, every
parameter and buffer) or the evaluation network, the momentum of every optimizer keyed by parameter name, and the
global torch RNG. Written atomically (temporary file, fsync, rename) and identified by the file's SHA-256; a file
whose hash differs from the one the controller recorded is refused, never loaded."""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import BadParamsFault, WriteFailed
from .optim import build_search_optimizers
from .spaces import space_of
from .state import RuntimeState

FORMAT = 1


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(payload: dict[str, Any], path: str) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except (OSError, RuntimeError) as err:  # torch.save reports a full disk as a RuntimeError from its zip writer
        free = _free_bytes(target.parent)
        raise WriteFailed(
            f"cannot write checkpoint {target}: {err}"
            + (f" ({free / 2**20:.0f} MiB free on that filesystem)" if free is not None else "")
        ) from err
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def _free_bytes(directory: Path) -> int | None:
    try:
        st = os.statvfs(directory)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _momentum(optimizers: list[torch.optim.Optimizer], net: nn.Module) -> dict[str, torch.Tensor]:
    """Momentum buffers by parameter name: a rebuilt net orders its parameters differently."""
    names = {id(p): name for name, p in net.named_parameters()}
    out = {}
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                buf = opt.state.get(p, {}).get("momentum_buffer")
                if buf is not None and id(p) in names:
                    out[names[id(p)]] = buf.detach().cpu().clone()
    return out


def _restore_momentum(optimizers: list[torch.optim.Optimizer], net: nn.Module, saved: dict[str, torch.Tensor]) -> None:
    params = dict(net.named_parameters())
    owners = {id(p): opt for opt in optimizers for group in opt.param_groups for p in group["params"]}
    for name, buf in saved.items():
        p = params.get(name)
        if p is None or id(p) not in owners or p.shape != buf.shape:
            raise BadParamsFault(f"checkpoint momentum for {name!r} does not fit the rebuilt network")
        owners[id(p)].state[p]["momentum_buffer"] = buf.to(p.device, p.dtype).clone()


def _rng_state() -> dict[str, Any]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {"cpu": torch.get_rng_state(), "cuda": cuda}


def _set_rng_state(rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["cpu"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def _shapes(net: nn.Module) -> dict[str, Any]:
    """What rebuilds the net's modules at their current shapes: the committed op mask, and per cell its width and the
    inner width of each live op with one (the keys of the space's shrink statistics)."""
    cells = space_of(net).shrink_statistics(net)["cells"]
    return {
        "committed": net.committed.detach().cpu().clone(),
        "cells": [{"cell": c["cell"], "width": c["width"], "sep_mid": dict(c["sep_mid"])} for c in cells],
    }


def save_checkpoint(state: RuntimeState, model: str, path: str) -> dict[str, Any]:
    if model == "supernet":
        net = state.require_supernet()
        opts: list[torch.optim.Optimizer] = state.search_opt.all()
        space = getattr(net, "space", "darts_like")
        payload = {"format": FORMAT, "model": model, "space": space, "shapes": _shapes(net)}
    else:
        net = state.require_evalnet()
        opts = [state.eval_opt]
        payload = {"format": FORMAT, "model": model}
    payload |= {"state": net.state_dict(), "momentum": _momentum(opts, net), "rng": _rng_state()}
    write_atomic(payload, path)
    return {"path": path, "bytes": os.path.getsize(path), "sha256": sha256_of(path)}


def _read(path: str, sha256: str, model: str) -> dict[str, Any]:
    try:
        actual = sha256_of(path)
    except OSError as err:
        raise BadParamsFault(f"cannot read checkpoint {path}: {err}") from err
    if actual != sha256:
        raise BadParamsFault(
            f"checkpoint {path} is corrupt: its SHA-256 is {actual[:12]}…, the record says {sha256[:12]}…"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise BadParamsFault(f"cannot load checkpoint {path}: {err}") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("model") != model:
        raise BadParamsFault(f"{path} is not a checkpoint of the {model} network (format {FORMAT})")
    return payload


def load_checkpoint(state: RuntimeState, model: str, path: str, sha256: str) -> dict[str, Any]:
    """Into the network that build_supernet / build_eval just made with the run's parameters: the supernet is first
    pruned and shrunk to the recorded shapes, so that every tensor loads strictly."""
    payload = _read(path, sha256, model)
    if model == "supernet":
        net = state.require_supernet()
        if payload["space"] != getattr(net, "space", "darts_like"):
            raise BadParamsFault(f"checkpoint {path} is of space {payload['space']}, the supernet of {net.space}")
        _reshape(net, payload["shapes"])
        net.to(state.device, memory_format=state.memory_format())
        net.load_state_dict(payload["state"])
        net.refresh_op_sizes()
        state.search_opt = build_search_optimizers(net, momentum=0.9, weight_decay=3e-4)
        opts = state.search_opt.all()
    else:
        net = state.require_evalnet()
        net.load_state_dict(payload["state"])
        opts = [state.eval_opt]
    _restore_momentum(opts, net, payload["momentum"])
    _set_rng_state(payload["rng"])
    return {"path": path, "bytes": os.path.getsize(path)}


def _reshape(net: nn.Module, shapes: dict[str, Any]) -> None:
    space = space_of(net)
    try:
        net.set_op_mask(shapes["committed"])
        cells = {int(c["cell"]): int(c["width"]) for c in shapes["cells"]}
        mids = {
            (int(c["cell"]), *(int(v) for v in key.split(","))): int(m)
            for c in shapes["cells"] for key, m in c["sep_mid"].items()
        }
        space.shrink(net, cells, mids)
    except (ValueError, KeyError) as err:  # a checkpoint of another config
        raise BadParamsFault(f"the checkpoint's shapes do not fit this supernet: {err}") from err

