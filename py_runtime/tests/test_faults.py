"""Numerical and memory faults in the real training loops, driven by the MGDARTS_FAULT switches: a
non-finite loss or gradient stops the epoch before its optimizer step (the parameters and optimizer state
stay the last good ones); out of memory names the batch size and the memory, frees what the request held,
and the next, smaller request runs."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest
import torch

from mgdarts_runtime import oom
from mgdarts_runtime.errors import NanLoss, OutOfMemory
from mgdarts_runtime.handlers import make_handlers
from mgdarts_runtime.protocol import parse_params, spec
from mgdarts_runtime.server import DetachedContext, _error_body
from mgdarts_runtime.state import RuntimeState
from test_evalnet import ARCH

SAMPLE = str(Path(__file__).resolve().parents[2] / "data" / "fashion-mnist-sample")
NO_AUGMENT = {"crop_padding": 0, "flip": False, "cutout": 0, "auto_augment": False}
SGD = {"momentum": 0.9, "weight_decay": 3e-4, "grad_clip": 5}
LR = {"weights": 0.05, "alpha": 1, "op_threshold": 0.1, "filter_score": 1, "filter_threshold": 0.1, "weight_threshold": 0.001}


class Runtime:
    """The handler table over one state, called with wire-shaped params."""

    def __init__(self, device: torch.device) -> None:
        self.state = RuntimeState(device=device)
        self.handlers = make_handlers(self.state)

    def __call__(self, request: str, **params):
        return self.handlers[request](DetachedContext(), parse_params(request, params))

    def search_net(self, granularities=("operation", "filter", "weight")) -> "Runtime":
        self("load_data", dataset="fashion-mnist-sample", data_dir=None, sample_dir=SAMPLE, valid_fraction=0.1, seed=1,
             train_limit=200)
        self("build_supernet", channels=2, layers=3, nodes=4, reduction_cells=[1, 2], stem_stride=2, ops=list(spec()["op_vocabulary"]),
             granularities=list(granularities), stage_heads=False, seed=3, channels_last=False)  # fmt: skip
        return self

    def train(self, **overrides):
        params = {"phase": "warmup", "stage": "stage1", "epoch": 0, "batch_size": 16, "reg_lambda": 0.01, "mu": 0.5, "lr": LR,
                  "sgd": SGD, "commit": False, "augment": NO_AUGMENT, "max_batches": 3, "seed": 5, "last_cell": None,
                  "reg_cells": None, **overrides}  # fmt: skip
        return self("train_epoch", **params)

    def retrain(self, **overrides):
        params = {"epoch": 0, "batch_size": 16, "lr": 0.05, "sgd": SGD, "drop_path_prob": 0.0, "aux_weight": 0.0,
                  "augment": NO_AUGMENT, "max_batches": 3, "seed": 7, **overrides}  # fmt: skip
        return self("train_eval_epoch", **params)


def snapshot(net: torch.nn.Module, opts: list[torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
    """Every parameter and every momentum buffer, copied."""
    out = {f"param:{name}": p.detach().clone() for name, p in net.named_parameters()}
    for k, opt in enumerate(opts):
        for group in opt.param_groups:
            for j, p in enumerate(group["params"]):
                buf = opt.state.get(p, {}).get("momentum_buffer")
                if buf is not None:
                    out[f"momentum:{k}:{j}:{tuple(p.shape)}"] = buf.clone()
    return out


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    changed = [k for k in a if not torch.equal(a[k], b[k])]
    assert not changed, f"{len(changed)} of {len(a)} tensors changed, e.g. {changed[:3]}"


def search_snapshot(rt: Runtime) -> dict[str, torch.Tensor]:
    return snapshot(rt.state.supernet, rt.state.search_opt.all())


@pytest.mark.parametrize("fault", ["nan_loss", "inf_loss"])
@pytest.mark.parametrize("phase", ["warmup", "search"])
def test_a_non_finite_loss_stops_the_search_epoch_before_its_step(monkeypatch, device, fault: str, phase: str) -> None:
    # Reference: the same runtime, seeds and first batch, stopped after batch 1 by max_batches.
    good = Runtime(device).search_net()
    good.train(phase=phase, epoch=4, max_batches=1)
    expected = search_snapshot(good)

    monkeypatch.setenv("MGDARTS_FAULT", fault)
    bad = Runtime(device).search_net()
    before = search_snapshot(bad)
    with pytest.raises(NanLoss) as caught:
        bad.train(phase=phase, epoch=4, max_batches=3)
    message = str(caught.value)
    assert f"stage 'stage1' ({phase}), epoch 4" in message and "batch 2 of 3" in message
    assert ("nan" if fault == "nan_loss" else "inf") in message and "after batch 1" in message
    after = search_snapshot(bad)
    assert_same(after, expected)  # batch 1 was applied, batch 2 was not
    assert any(not torch.equal(before[k], after[k]) for k in before)  # (and batch 1 did change something)
    assert all(p.grad is None for p in bad.state.supernet.parameters())


def test_a_finite_loss_with_a_non_finite_gradient_is_not_applied(device) -> None:
    rt = Runtime(device).search_net()
    rt.train(max_batches=1)  # momentum buffers exist
    before = search_snapshot(rt)
    weight = rt.state.supernet.weight_parameters()[0]
    handle = weight.register_hook(lambda g: g * float("inf"))
    with pytest.raises(NanLoss, match=r"the loss is [\d.]+ but its gradient norm is (nan|inf) in stage 'stage1' \(warmup\), "
                                      r"epoch 0 \(counting from 0\), batch 1 of 3; .* those before this epoch"):  # fmt: skip
        rt.train(max_batches=3)
    assert_same(search_snapshot(rt), before)
    handle.remove()
    assert rt.train(max_batches=2)["batches"] == 2  # the same runtime trains on


def test_a_non_finite_retraining_loss_names_retrain_and_its_epoch(monkeypatch, device) -> None:
    rt = Runtime(device).search_net(granularities=("operation",))
    rt("build_eval", architecture=ARCH, weight_masks=None, auxiliary=True, seed=1, channels_last=False)
    monkeypatch.setenv("MGDARTS_FAULT", "nan_loss")
    monkeypatch.setenv("MGDARTS_FAULT_STAGE", "retrain")
    monkeypatch.setenv("MGDARTS_FAULT_EPOCH", "1")
    monkeypatch.setenv("MGDARTS_FAULT_BATCH", "1")
    assert rt.retrain(epoch=0, aux_weight=0.4)["batches"] == 3  # another epoch: not poisoned
    before = snapshot(rt.state.evalnet, [rt.state.eval_opt])
    with pytest.raises(NanLoss, match=r"the loss is nan in stage 'retrain', epoch 1 \(counting from 0\), batch 1 of 3"):
        rt.retrain(epoch=1, aux_weight=0.4)
    assert_same(snapshot(rt.state.evalnet, [rt.state.eval_opt]), before)


def _batch_tensors(size: int) -> list[torch.Tensor]:
    """Live tensors whose first dimension is `size` (a batch, its activations, its logits), parameters aside."""
    gc.collect()
    return [t for t in gc.get_objects()
            if type(t) is torch.Tensor and t.dim() >= 1 and t.shape[0] == size]  # type(): no __class__ lookups  # fmt: skip


def test_oom_names_batch_size_and_memory_frees_the_request_and_the_next_one_runs(monkeypatch, device) -> None:
    rt = Runtime(device).search_net()
    rt.train(max_batches=1)
    monkeypatch.setenv("MGDARTS_FAULT", "oom")
    monkeypatch.setenv("MGDARTS_FAULT_OOM_BATCH_SIZE", "24")
    assert _batch_tensors(24) == []
    with pytest.raises(OutOfMemory) as caught:
        rt.train(phase="search", stage="stage2", epoch=3, batch_size=24)
    message = str(caught.value)
    assert "out of memory in stage 'stage2' (search), epoch 3 with batch size 24" in message
    assert "Tried to allocate 1.00 GiB" in message
    assert f"{device.type}" in message and "free of" in message and "total" in message
    assert caught.value.code == "runtime.oom"
    del caught
    assert all(p.grad is None for p in rt.state.supernet.parameters())
    assert _batch_tensors(24) == []  # the batch, its activations and graph were released

    ok = rt.train(phase="search", stage="stage2", epoch=3, batch_size=16)
    assert ok["batches"] == 3 and torch.isfinite(torch.tensor(ok["mean_ce"]))
    monkeypatch.setenv("MGDARTS_FAULT_BATCH", "1")  # the held-out split is one batch
    with pytest.raises(OutOfMemory, match="out of memory in the evaluation of the valid split with batch size 24"):
        rt("evaluate", model="supernet", split="valid", batch_size=24)
    assert rt("evaluate", model="supernet", split="valid", batch_size=8)["samples"] == len(rt.state.valid_idx)


def test_the_batch_check_can_see_a_leak(monkeypatch, device) -> None:
    """The control for the test above: an OOM caught and kept inside the loop's call keeps its batch alive."""
    from mgdarts_runtime import training

    rt = Runtime(device).search_net()
    monkeypatch.setenv("MGDARTS_FAULT", "oom")
    params = parse_params("train_epoch", {"phase": "warmup", "stage": "s", "epoch": 0, "batch_size": 24, "reg_lambda": 0.0,
                                          "mu": 0.0, "lr": LR, "sgd": SGD, "commit": False, "augment": NO_AUGMENT,
                                          "max_batches": 3, "seed": 5, "last_cell": None, "reg_cells": None})  # fmt: skip
    try:
        training._search_epoch(DetachedContext(), rt.state, params)
    except torch.OutOfMemoryError as err:
        kept = err
    assert _batch_tensors(24) != []
    del kept


def test_a_cpu_allocation_failure_is_an_oom_and_a_raw_one_names_the_memory() -> None:
    try:
        torch.empty(2**50, dtype=torch.uint8)
    except RuntimeError as err:
        failure = err
    assert oom.is_oom(failure) and oom.is_oom(torch.OutOfMemoryError("CUDA out of memory"))
    assert not oom.is_oom(RuntimeError("shape mismatch")) and not oom.is_oom(ValueError("can't allocate memory"))
    body = _error_body(failure)
    assert body["code"] == "runtime.oom" and body["traceback"] is None
    assert "tried to allocate 1125899906842624 bytes" in body["message"] and "free of" in body["message"]
    guarded = _error_body(OutOfMemory("out of memory in x with batch size 3"))
    assert guarded == {"code": "runtime.oom", "message": "out of memory in x with batch size 3", "ename": "OutOfMemory", "traceback": None}
