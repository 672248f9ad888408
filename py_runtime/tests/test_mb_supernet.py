"""The MobileNet-like space: supernet forward/backward per stage, the one-op guard, candidates, commit, shrink of
expanded widths with momentum migration, regrowth, weight-mask export into the evaluation network."""
import pytest
import torch
import torch.nn.functional as F

from mgdarts_runtime.export import weight_masks
from mgdarts_runtime.mb_evalnet import MobileNetEvalNetwork
from mgdarts_runtime.mb_ops import MB_PRIMITIVES, InvertedResidual
from mgdarts_runtime.mb_shrink import mb_shrink, mb_shrink_statistics
from mgdarts_runtime.mb_supernet import MobileNetConfig, MobileNetSupernet, expanded_ops
from mgdarts_runtime.optim import build_search_optimizers, rebuild_after_change
from mgdarts_runtime.params import count_parameters
from mgdarts_runtime.protocol import spec
from mgdarts_runtime.regrow import regrow

ALL = frozenset({"operation", "filter", "weight"})
SKIP = MB_PRIMITIVES.index("skip")
K = len(MB_PRIMITIVES)


def config(granularities=ALL) -> MobileNetConfig:
    """Layers 8→8 (s1), 8→16 (s2), 16→16 (s1), 16→24 (s2): skip is a candidate in layers 0 and 2 only."""
    return MobileNetConfig(in_channels=1, num_classes=5, stem_channels=8, layer_channels=(8, 16, 16, 24),
                           layer_strides=(1, 2, 1, 2), head_channels=16, stages=(0, 2, 3),
                           granularities=granularities, stage_heads=True, aux_channels=8)  # fmt: skip


def net_and_x(granularities=ALL, seed=0):
    torch.manual_seed(seed)
    x = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    return MobileNetSupernet(config(granularities)), x


def loss_of(net, x, last_cell=None):
    return F.cross_entropy(net(x, last_cell), torch.arange(x.shape[0]) % 5)


def test_vocabulary_matches_the_protocol():
    assert list(MB_PRIMITIVES) == spec()["mobilenet_op_vocabulary"]


def test_skip_is_a_candidate_only_where_shapes_allow():
    net, _ = net_and_x()
    assert net.committed[:, 0, SKIP].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert [len(layer.live_ops[0]) for layer in net.cells] == [K, K - 1, K, K - 1]
    assert net.unit_counts()["operation"] == (4 * K - 2, 4 * K - 2)


@pytest.mark.parametrize("last_cell", [0, 2, None])
def test_forward_backward_at_each_stage(last_cell):
    net, x = net_and_x()
    r_op, r_thr = net.regularizer()
    (loss_of(net, x, last_cell) + r_op + r_thr).backward()
    end = 3 if last_cell is None else last_cell
    for i, layer in enumerate(net.cells):
        grads = [p.grad for op in layer.edges[0] for p in op.parameters()]
        ran = any(g is not None and bool(g.abs().sum() > 0) for g in grads)
        assert ran == (i <= end), f"layer {i}"
    assert bool(net.alphas.grad[: end + 1].abs().sum() > 0)
    assert bool(net.alphas.grad[end + 1 :].abs().sum() == 0)
    gate = net.cells[0].edges[0][0].gate
    assert gate.score.grad is not None and bool(gate.score.grad.abs().sum() > 0)


def test_guard_keeps_one_op_per_layer():
    net, x = net_and_x()
    with torch.no_grad():
        net.op_thresholds.fill_(0.9)  # above every sigmoid(α) = 0.5: the step alone would drop every op
    masks = net.op_masks()
    assert masks.sum(dim=(1, 2)).tolist() == [1.0, 1.0, 1.0, 1.0]
    pruned = net.commit_masks()["operation"]
    assert pruned == 4 * K - 2 - 4
    assert [len(layer.live_ops[0]) for layer in net.cells] == [1, 1, 1, 1]
    loss_of(net, x).backward()  # still connected


def test_shrink_keeps_widths_consistent_and_migrates_momentum():
    net, x = net_and_x()
    opts = build_search_optimizers(net, momentum=0.9, weight_decay=0.0)
    for opt in opts.all():
        for g in opt.param_groups:
            g["lr"] = 0.01
    opts.zero_grad()
    loss_of(net, x).backward()
    for opt in opts.all():
        opt.step()
    layer, k = 1, 0
    old = net.cells[layer].edges[0][k]
    with torch.no_grad():
        old.gate.score[:5] = -10.0  # five expanded channels fall below the threshold
        net.filter_thresholds[layer, 0, k] = 0.3
    net.commit_masks()
    stats = mb_shrink_statistics(net)["cells"][layer]
    assert stats["sep_mid_live"][f"0,{k}"] == old.mid - 5 and stats["sep_mid"][f"0,{k}"] == old.mid
    old_expand, old_buf = old.expand.weight, opts.weights.state[old.expand.weight]["momentum_buffer"].clone()
    width = 2 * ((old.mid - 5 + 1) // 2)
    mapping = mb_shrink(net, {}, {(layer, 0, k): width})
    rebuild_after_change(opts, net, mapping)
    new = net.cells[layer].edges[0][k]
    assert isinstance(new, InvertedResidual) and new is not old
    assert new.mid == width
    assert (new.expand.out_channels, new.bn1.num_features, new.dw.in_channels, new.dw.out_channels,
            new.bn2.num_features, new.project.in_channels, new.gate.score.numel()) == (width,) * 7  # fmt: skip
    assert new.expand.committed.shape == new.expand.weight.shape
    assert new.project.committed.shape == new.project.weight.shape
    kept = mapping[old_expand][1][0]
    assert int((kept >= 5).sum()) == old.mid - 5  # every live channel is kept; rounding up to even adds masked ones
    assert torch.equal(opts.weights.state[new.expand.weight]["momentum_buffer"], old_buf[kept])
    assert torch.equal(new.bn1.running_mean, old.bn1.running_mean[kept])
    # forward/backward still run and one step moves every live parameter that got a gradient
    before = {id(p): p.detach().clone() for p in net.weight_parameters()}
    opts.zero_grad()
    loss_of(net, x).backward()
    for opt in opts.all():
        opt.step()
    for p in net.weight_parameters():
        if p.grad is not None and bool(p.grad.abs().sum() > 0):
            assert not torch.equal(before[id(p)], p.detach())
    assert not torch.equal(before[id(new.expand.weight)], new.expand.weight.detach())
    with pytest.raises(ValueError, match="never widens"):
        mb_shrink(net, {}, {(layer, 0, k): width + 2})
    with pytest.raises(ValueError, match="fixed"):
        mb_shrink(net, {layer: 8}, {})


def test_regrow_revives_fresh_blocks_and_refuses_non_candidates():
    net, x = net_and_x()
    with torch.no_grad():
        net.op_thresholds[2, 0, :3] = 0.9
    net.commit_masks()
    assert net.cells[2].live_ops[0] == list(range(3, K))
    regrow(net, [(2, 0, 1)])
    op = net.cells[2].edges[0][1]
    assert isinstance(op, InvertedResidual) and op.mid == 16 * 6  # mb_k3_e6 at its nominal expansion
    assert net.committed[2, 0, 1] == 1 and abs(float(net.alphas.detach()[2, 0, 1])) < 1.0
    with pytest.raises(ValueError, match="not a candidate"):
        regrow(net, [(1, 0, SKIP)])
    loss_of(net, x).backward()


def _architecture(net: MobileNetSupernet) -> dict:
    """architecture.json as the controller derives it: one one-edge cell per layer."""
    cfg = net.config
    cells = []
    for c, layer in enumerate(net.cells):
        ops = []
        for k in layer.live_ops[0]:
            op = layer.edges[0][k]
            block = isinstance(op, InvertedResidual)
            widths = [op.expand.in_channels, op.mid, op.project.out_channels] if block else [layer.c_in]
            ops.append({"op": cfg.ops[k], "edge": 0, "from": 0, "to": 1, "widths": widths})
        cells.append({"index": c, "reduction": layer.stride == 2, "stride": layer.stride, "channels": layer.channels,
                      "input_widths": [layer.c_in], "node_widths": [layer.channels], "ops": ops})  # fmt: skip
    return {"format": "mgdarts.architecture/1", "search_space": "mobilenet_like", "in_channels": 1, "num_classes": 5,
            "channels": cfg.stem_channels, "stem_stride": cfg.stem_stride, "head_channels": cfg.head_channels,
            "layers": cfg.layers, "nodes": 1, "cells": cells}  # fmt: skip


def test_eval_network_takes_the_shrunk_widths_and_the_weight_masks():
    net, x = net_and_x()
    with torch.no_grad():
        net.weight_thresholds.fill_(0.05)
        net.op_thresholds[:, 0, 2:] = 0.9
    net.commit_masks()
    k = net.cells[1].live_ops[0][0]
    mb_shrink(net, {}, {(1, 0, k): 20})
    masks = weight_masks(net)
    assert masks and all("," in key and "." in key for key in masks)
    evalnet = MobileNetEvalNetwork(_architecture(net), weight_masks=masks)
    assert evalnet.masked_weights == sum(int((~m).sum()) for m in masks.values()) > 0
    assert evalnet.layers[1].ops[0].expand.out_channels == 20
    dense = MobileNetEvalNetwork(_architecture(net))
    assert count_parameters(dense) == count_parameters(evalnet)  # masks hold weights at zero, they remove none
    logits, aux = evalnet(x)
    assert logits.shape == (4, 5) and aux is None
    with pytest.raises(ValueError, match="auxiliary"):
        MobileNetEvalNetwork(_architecture(net), auxiliary=True)


def test_operation_only_runs_without_units():
    net, x = net_and_x(frozenset({"operation"}))
    assert net.filter_thresholds is None and net.cells[0].edges[0][0].gate is None
    loss_of(net, x, 0).backward()
    assert net.unit_counts()["filter"][0] == net.unit_counts()["filter"][1]
