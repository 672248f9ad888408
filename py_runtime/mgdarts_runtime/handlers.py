"""One small function per request type. Handlers raise; only the server turns exceptions into replies."""
from __future__ import annotations

import os
import pickle
import platform
import time
from typing import Any, Callable

import torch

from . import __version__, training
from .checkpoint import load_checkpoint as load_ckpt
from .checkpoint import save_checkpoint as save_ckpt
from .device import visible_devices
from .errors import BadParamsFault
from .export import save_weight_masks as save_masks
from .loading import load_data as load_into_state
from .portable import export_model as export_portable
from .optim import build_search_optimizers, make_sgd, rebuild_after_change
from .regrow import regrow as regrow_ops
from .regrow import regrow_statistics as regrow_stats
from .params import count_parameters, net_sizes
from .protocol import spec
from .state import RuntimeState
from .spaces import build_eval_network, space_named, space_of


def make_handlers(state: RuntimeState) -> dict[str, Callable[[Any, Any], dict]]:
    started = time.monotonic()

    def hello(ctx, p) -> dict:
        ours = spec()
        if p.protocol_version.split(".")[0] != ours["protocol_version"].split(".")[0]:
            raise BadParamsFault(f"client speaks protocol {p.protocol_version}, runtime {ours['protocol_version']}")
        if p.claim:
            ctx.server.ownership.claim(ctx.identity, p.client)
        return {
            "protocol_version": ours["protocol_version"],
            "runtime_version": __version__,
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "device": str(state.device),
            "devices": visible_devices(),
            "op_vocab_hash": ours["op_vocab_hash"],
            "pid": os.getpid(),
            "threads": torch.get_num_threads(),
            "uptime_s": time.monotonic() - started,
        }

    def status(ctx, p) -> dict:
        current = ctx.server.current
        return {
            "state": "busy" if current else "idle",
            "request_id": current.id if current else None,
            "request_type": current.type if current else None,
            "batches_done": current.batches_done if current else None,
            "batches_total": current.batches_total if current else None,
            "uptime_s": time.monotonic() - started,
            "owner": ctx.server.ownership.describe(),
        }

    def release(ctx, p) -> dict:
        released = ctx.server.ownership.release(ctx.identity)
        if released and ctx.server.current is not None:
            ctx.server.current.cancelled = True  # only the owner runs requests: this one is the leaver's
        return {"released": released}

    def cancel(ctx, p) -> dict:
        current = ctx.server.current
        hit = current is not None and current.id == p.target
        if hit:
            current.cancelled = True
        return {"cancelled": hit}

    def shutdown(ctx, p) -> dict:
        ctx.server.stopping = True
        if ctx.server.current is not None:
            ctx.server.current.cancelled = True
        return {}

    def echo(ctx, p) -> dict:
        return {"value": p.value}

    def load_data(ctx, p) -> dict:
        return load_into_state(state, p)

    def build_supernet(ctx, p) -> dict:
        data = state.require_data()
        _determinism(p.deterministic)
        torch.manual_seed(p.seed)
        try:
            net = space_named(p.space).build_supernet(p, data.train_images.shape[1], data.num_classes)
        except ValueError as err:  # a space description that does not fit (ops, layers, stage ends)
            raise BadParamsFault(f"cannot build the {p.space} supernet: {err}") from err
        state.channels_last = p.channels_last
        net = net.to(state.device, memory_format=state.memory_format())
        # Momentum, weight decay and learning rates are set from every train_epoch request.
        state.supernet, state.search_opt = net, build_search_optimizers(net, momentum=0.9, weight_decay=3e-4)
        state.evalnet = state.eval_opt = None
        return {
            **net_sizes(net),
            "live_ops": net.live_op_count(),
            "units": {level: list(counts) for level, counts in net.unit_counts().items()},
            "op_mask": net.committed.to(torch.uint8),
        }

    def begin_stage(ctx, p) -> dict:
        net = state.require_supernet()
        if p.reset_thresholds:
            net.reset_thresholds()
        rebuild_after_change(state.search_opt, net)
        return {**net_sizes(net), "units": {level: list(counts) for level, counts in net.unit_counts().items()}}

    def regrow_statistics(ctx, p) -> dict:
        net = state.require_supernet()
        stats = regrow_stats(net, state.search_opt.arch.get("alpha"))
        return {"weights": stats["weights"], "momentum": stats["momentum"], "op_mask": stats["committed"].to(torch.uint8)}

    def regrow(ctx, p) -> dict:
        net = state.require_supernet()
        try:
            revived = regrow_ops(net, [tuple(op) for op in p.ops])
        except ValueError as err:  # a live, duplicate or out-of-range op: nothing was changed
            raise BadParamsFault(str(err)) from err
        rebuild_after_change(state.search_opt, net)
        return {"revived": len(revived), "live_ops": net.live_op_count(), "op_mask": net.committed.to(torch.uint8)}

    def shrink_statistics(ctx, p) -> dict:
        net = state.require_supernet()
        return space_of(net).shrink_statistics(net)

    def shrink(ctx, p) -> dict:
        net = state.require_supernet()
        try:
            mapping = space_of(net).shrink(
                net,
                {int(c["cell"]): int(c["width"]) for c in p.cell_widths},
                {(int(m["cell"]), int(m["edge"]), int(m["op"])): int(m["width"]) for m in p.mid_widths},
            )
        except ValueError as err:  # a width that would grow, or a mid width for no live sep op
            raise BadParamsFault(str(err)) from err
        rebuild_after_change(state.search_opt, net, mapping)
        return {**net_sizes(net), "widths": [cell["width"] for cell in space_of(net).shrink_statistics(net)["cells"]]}

    def train_epoch(ctx, p) -> dict:
        return training.search_epoch(ctx, state, p)

    def evaluate(ctx, p) -> dict:
        model = state.require_supernet() if p.model == "supernet" else state.require_evalnet()
        return training.evaluate(ctx, state, model, p.split, p.batch_size)

    def build_eval(ctx, p) -> dict:
        state.require_data()
        _determinism(p.deterministic)
        torch.manual_seed(p.seed)
        state.channels_last = p.channels_last
        masks = _read_masks(p.weight_masks) if p.weight_masks else None
        try:
            net = build_eval_network(p.architecture, auxiliary=p.auxiliary, weight_masks=masks)
        except (ValueError, KeyError, TypeError) as err:  # an architecture or mask file that does not fit
            raise BadParamsFault(f"cannot build the evaluation network: {err}") from err
        net = net.to(state.device, memory_format=state.memory_format())
        state.evalnet, state.eval_opt = net, make_sgd(list(net.parameters()), momentum=0.9, weight_decay=3e-4)
        state.supernet = state.search_opt = None  # the search is over; free its memory
        return {
            "params": count_parameters(net),
            "params_with_aux": count_parameters(net, exclude_prefixes=()),
            "masked_weights": net.masked_weights,
        }

    def _read_masks(path: str) -> dict:
        try:
            masks = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
            raise BadParamsFault(f"cannot read the weight-mask file {path}: {err}") from err
        if not isinstance(masks, dict) or not all(isinstance(m, torch.Tensor) for m in masks.values()):
            raise BadParamsFault(f"{path} is not a weight-mask file (a dict of tensors written by save_weight_masks)")
        return masks

    def save_weight_masks(ctx, p) -> dict:
        return save_masks(state.require_supernet(), p.path)

    def train_eval_epoch(ctx, p) -> dict:
        return training.eval_epoch(ctx, state, p)

    def save_model(ctx, p) -> dict:
        net = state.require_evalnet()
        torch.save(net.state_dict(), p.path)
        return {"path": p.path, "bytes": os.path.getsize(p.path)}

    def save_checkpoint(ctx, p) -> dict:
        return save_ckpt(state, p.model, p.path)

    def load_checkpoint(ctx, p) -> dict:
        return load_ckpt(state, p.model, p.path, p.sha256)

    def export_model(ctx, p) -> dict:
        net, data = state.require_evalnet(), state.require_data()
        return export_portable(net, data.mean, data.std, data.test_images[:8], p.torchscript_path, p.onnx_path)

    return {
        "hello": hello, "status": status, "cancel": cancel, "shutdown": shutdown, "release": release, "echo": echo,
        "load_data": load_data, "build_supernet": build_supernet, "train_epoch": train_epoch, "evaluate": evaluate,
        "build_eval": build_eval, "train_eval_epoch": train_eval_epoch, "save_model": save_model, "export_model": export_model,
        "begin_stage": begin_stage, "regrow_statistics": regrow_statistics, "regrow": regrow,
        "shrink_statistics": shrink_statistics, "shrink": shrink, "save_weight_masks": save_weight_masks,
        "save_checkpoint": save_checkpoint, "load_checkpoint": load_checkpoint,
    }


def _determinism(on: bool) -> None:
    """Deterministic kernels where torch has them (an op without one raises, naming itself); cuDNN autotuning off."""
    torch.use_deterministic_algorithms(on)
    torch.backends.cudnn.benchmark = False
