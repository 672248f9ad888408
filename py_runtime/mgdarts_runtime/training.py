"""The hot loops: one search epoch, one retraining epoch, and evaluation, each over all its batches."""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from . import faults
from .augment import AugmentConfig, augment_batch, normalize_batch
from .batches import epoch_batches
from .sources import source_of
from .errors import BadParamsFault, NanLoss
from .optim import clear_pruned_momentum, rebuild_after_change, set_lr, set_sgd
from .memory import peak_memory_bytes, reset_peak_memory
from .oom import guard_oom
from .state import RuntimeState
from .params import net_sizes


@dataclass
class EpochMeter:
    """Sums kept on the device; read back (one sync) only when progress is reported and at the end."""

    loss: torch.Tensor
    correct: torch.Tensor
    samples: int = 0

    @classmethod
    def on(cls, device: torch.device) -> "EpochMeter":
        return cls(torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long))

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        n = labels.numel()
        self.loss += loss.detach() * n
        self.correct += (logits.detach().argmax(1) == labels).sum()
        self.samples += n

    def mean_loss(self) -> float:
        return float(self.loss) / max(self.samples, 1)

    def accuracy(self) -> float:
        return float(self.correct) / max(self.samples, 1)


def _batches(state: RuntimeState, indices: torch.Tensor, batch_size: int, seed: int, max_batches: int | None):
    generator = torch.Generator().manual_seed(seed)
    batches = epoch_batches(indices, batch_size, generator, shuffle=True)
    return batches[:max_batches] if max_batches else batches


def _train_inputs(state: RuntimeState, images_u8: torch.Tensor, augment: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    data = state.require_data()
    return augment_batch(images_u8, augment, data.mean, data.std, generator, memory_format=state.memory_format())


def _grad_norm(params: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """The 2-norm of all gradients present: NaN or inf when any of them is."""
    grads = [p.grad for p in params if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=device)


def _require_finite(model: torch.nn.Module, loss: torch.Tensor, grad_norm: torch.Tensor, where: str, batch: int, batches: int) -> None:
    """Called after backward and before the optimizer step, so a non-finite loss or gradient is never
    applied: parameters and optimizer state stay those after the last good batch. This is the loop's one
    device sync per batch (the loss is read back otherwise only for progress)."""
    if bool(torch.isfinite(loss) & torch.isfinite(grad_norm)):
        return
    value, norm = float(loss.detach()), float(grad_norm)
    model.zero_grad(set_to_none=True)
    what = f"the loss is {value}" if not math.isfinite(value) else f"the loss is {value:.4g} but its gradient norm is {norm}"
    kept = f"those after batch {batch - 1}" if batch > 1 else "those before this epoch"
    raise NanLoss(
        f"{what} in {where}, batch {batch} of {batches}; no optimizer step was taken for it: the parameters "
        f"and optimizer state are {kept}"
    )


def search_epoch(ctx, state: RuntimeState, p: Any) -> dict:
    return guard_oom(state, f"stage {p.stage!r} ({p.phase}), epoch {p.epoch}", p.batch_size, lambda: _search_epoch(ctx, state, p))


def _search_epoch(ctx, state: RuntimeState, p: Any) -> dict:
    """SPEC §2.1 single-level step on every batch; warm-up steps the weights only with the
    architecture tensors frozen (§8.2); a commit on the last batch when asked (§3.2)."""
    net, opts = state.require_supernet(), state.search_opt
    search = p.phase == "search"
    for params in net.arch_parameter_groups().values():
        for param in params:
            param.requires_grad_(search)
    set_lr(opts.weights, p.lr["weights"])
    set_sgd(opts.weights, p.sgd["momentum"], p.sgd["weight_decay"])
    for name, opt in opts.arch.items():
        set_lr(opt, p.lr[name])
        set_sgd(opt, p.sgd["momentum"], 0.0)
    cells = range(p.reg_cells["from"], p.reg_cells["to"] + 1) if p.reg_cells else None
    run_cells = range(0, (net.config.layers - 1 if p.last_cell is None else p.last_cell) + 1)
    batches = _batches(state, state.train_idx, p.batch_size, p.seed, p.max_batches)
    generator = torch.Generator(device=state.device).manual_seed(p.seed)
    augment = AugmentConfig(**p.augment)
    meter, reg_sum, thr_sum = EpochMeter.on(state.device), torch.zeros((), device=state.device), torch.zeros((), device=state.device)
    net.train()
    weights = net.weight_parameters()
    arch = [param for params in net.arch_parameter_groups().values() for param in params] if search else []
    where = f"stage {p.stage!r} ({p.phase}), epoch {p.epoch} (counting from 0)"
    reset_peak_memory(state.device)
    start = time.monotonic()
    for i, (images_u8, y) in enumerate(source_of(state).batches("train", batches, p.seed), start=1):
        x = _train_inputs(state, images_u8, augment, generator)
        logits = net(x, last_cell=p.last_cell)
        ce = faults.maybe_poison(F.cross_entropy(logits, y), i, p.stage, p.epoch)
        loss = ce
        if search:
            r_op, r_thr = net.regularizer(mu=p.mu, cells=cells, thr_cells=run_cells)
            loss = ce + p.reg_lambda * (r_op + r_thr)
            reg_sum += p.reg_lambda * r_op.detach() * y.numel()
            thr_sum += r_thr.detach() * y.numel()
        opts.zero_grad()
        loss.backward()
        faults.maybe_oom(i, p.batch_size, p.stage, p.epoch)
        norm = _grad_norm(weights, state.device)
        _require_finite(net, loss, torch.hypot(norm, _grad_norm(arch, state.device)) if arch else norm, where, i, len(batches))
        if p.sgd["grad_clip"]:
            torch.nn.utils.clip_grads_with_norm_(weights, p.sgd["grad_clip"], norm)
        opts.weights.step()
        if search:
            for opt in opts.arch.values():
                opt.step()
        meter.add(ce, logits, y)
        faults.maybe_crash(i)
        faults.maybe_slow(i)
        if ctx.progress_due(i, len(batches)):
            ctx.progress(i, len(batches), meter.mean_loss(), time.monotonic() - start)
    committed = _commit(state) if p.commit and search else {"operation": 0, "filter": 0, "weight": 0}
    n = max(meter.samples, 1)
    return {
        "batches": len(batches),
        "samples": meter.samples,
        "mean_ce": meter.mean_loss(),
        "mean_reg_op": float(reg_sum) / n,
        "mean_r_thr": float(thr_sum) / n,
        "train_accuracy": meter.accuracy(),
        "ops_pruned": committed["operation"],
        "committed": committed,
        "units": {level: list(counts) for level, counts in net.unit_counts().items()},
        "live_ops": net.live_op_count(),
        **net_sizes(net),
        "op_mask": net.committed.to(torch.uint8),
        "alpha": net.alphas.detach().float(),
        "seconds": time.monotonic() - start,
        "peak_memory_bytes": peak_memory_bytes(state.device),
    }


def _commit(state: RuntimeState) -> dict[str, int]:
    """Commit the masks, prune, and keep every optimizer pointing at live tensors only."""
    net, opts = state.require_supernet(), state.search_opt
    before = net.committed.clone()
    committed = net.commit_masks()
    if committed["operation"]:
        clear_pruned_momentum(opts, net, (before > 0) & (net.committed == 0))
        rebuild_after_change(opts, net)
    return committed


def eval_epoch(ctx, state: RuntimeState, p: Any) -> dict:
    return guard_oom(state, f"stage 'retrain', epoch {p.epoch}", p.batch_size, lambda: _eval_epoch(ctx, state, p))


def _eval_epoch(ctx, state: RuntimeState, p: Any) -> dict:
    """One retraining epoch of the evaluation network (SPEC §5.3): lr given, drop-path, aux loss."""
    net, opt = state.require_evalnet(), state.eval_opt
    set_lr(opt, p.lr)
    set_sgd(opt, p.sgd["momentum"], p.sgd["weight_decay"])
    net.drop_path_prob = p.drop_path_prob
    batches = _batches(state, state.full_train_idx, p.batch_size, p.seed, p.max_batches)
    generator = torch.Generator(device=state.device).manual_seed(p.seed)
    augment = AugmentConfig(**p.augment)
    meter = EpochMeter.on(state.device)
    params = list(net.parameters())
    where = f"stage 'retrain', epoch {p.epoch} (counting from 0)"
    net.train()
    start = time.monotonic()
    for i, (images_u8, y) in enumerate(source_of(state).batches("train", batches, p.seed), start=1):
        x = _train_inputs(state, images_u8, augment, generator)
        logits, aux = net(x)
        loss = faults.maybe_poison(F.cross_entropy(logits, y), i, "retrain", p.epoch)
        total = loss + p.aux_weight * F.cross_entropy(aux, y) if aux is not None and p.aux_weight > 0 else loss
        opt.zero_grad(set_to_none=True)
        total.backward()
        faults.maybe_oom(i, p.batch_size, "retrain", p.epoch)
        norm = _grad_norm(params, state.device)
        _require_finite(net, total, norm, where, i, len(batches))
        if p.sgd["grad_clip"]:
            torch.nn.utils.clip_grads_with_norm_(params, p.sgd["grad_clip"], norm)
        opt.step()
        meter.add(loss, logits, y)
        faults.maybe_crash(i)
        faults.maybe_slow(i)
        if ctx.progress_due(i, len(batches)):
            ctx.progress(i, len(batches), meter.mean_loss(), time.monotonic() - start)
    return {"batches": len(batches), "samples": meter.samples, "loss": meter.mean_loss(), "accuracy": meter.accuracy(), "seconds": time.monotonic() - start}


@contextlib.contextmanager
def batch_statistics(model: torch.nn.Module):
    """BatchNorm normalises with each batch's own statistics and updates nothing. The supernet's running
    statistics lag behind its pruning (a commit removes ops on the epoch's last batch), so evaluating
    it with them measures the lag, not the network."""
    saved = []
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            saved.append((m, m.training, m.running_mean, m.running_var, m.num_batches_tracked))
            m.train()
            m.running_mean = m.running_var = m.num_batches_tracked = None
    try:
        yield
    finally:
        for m, training, mean, var, count in saved:
            m.train(training)
            m.running_mean, m.running_var, m.num_batches_tracked = mean, var, count


def evaluate(ctx, state: RuntimeState, model: torch.nn.Module, split: str, batch_size: int) -> dict:
    return guard_oom(state, f"the evaluation of the {split} split", batch_size, lambda: _evaluate(ctx, state, model, split, batch_size))


@torch.no_grad()
def _evaluate(ctx, state: RuntimeState, model: torch.nn.Module, split: str, batch_size: int) -> dict:
    source = source_of(state)
    indices = source.test_indices() if split == "test" else state.valid_idx
    if len(indices) == 0:
        raise BadParamsFault(f"the {split} split is empty: nothing to evaluate")
    meter = EpochMeter.on(state.device)
    model.eval()
    with batch_statistics(model) if model is state.supernet else contextlib.nullcontext():
        _evaluate_batches(ctx, state, model, source, "test" if split == "test" else "valid", indices, batch_size, meter)
    return {"loss": meter.mean_loss(), "accuracy": meter.accuracy(), "samples": meter.samples}


def _evaluate_batches(ctx, state, model, source, split, indices, batch_size, meter) -> None:
    data = state.require_data()
    chunks = list(torch.split(indices, batch_size))
    for i, (images_u8, labels) in enumerate(source.batches(split, chunks), start=1):
        x = normalize_batch(images_u8, data.mean, data.std, memory_format=state.memory_format())
        out = model(x)
        faults.maybe_oom(i, batch_size)
        logits = out[0] if isinstance(out, tuple) else out
        meter.add(F.cross_entropy(logits, labels), logits, labels)
        ctx.checkpoint()
