"""Physical shrink with coherent node-level channel sets (SPEC §4.5, §7.4 items 9 and 12, §8.1 item 8)."""
import io
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mgdarts_runtime.ops import DilConv, FactorizedReduce, ReLUConvBN, SepConv, Zero
from mgdarts_runtime.regrow import regrow
from mgdarts_runtime.shrink import (
    build_at_widths, migrate_optimizer, rebuild_optimizer, shrink, shrink_statistics, widths_record,
)
from mgdarts_runtime.supernet import Supernet, SupernetConfig

ALL = frozenset({"operation", "filter", "weight"})
OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3")  # K = 4
SKIP, SEP, DIL, POOL = 0, 1, 2, 3
E, K = 14, 4


def config(granularities=ALL, **kw) -> SupernetConfig:
    """L = 3: C = 4, 8, 16; cells 1 and 2 reduce (cell 2's preprocess0 is a FactorizedReduce)."""
    return SupernetConfig(in_channels=3, num_classes=5, channels=4, layers=3, ops=OPS,
                          granularities=frozenset(granularities), stage_heads=True, **kw)  # fmt: skip


def _x(seed: int = 0) -> torch.Tensor:
    return torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def _loss(net: Supernet, x: torch.Tensor, last_cell=None) -> torch.Tensor:
    return F.cross_entropy(net(x, last_cell), torch.arange(x.shape[0]) % 5)


def _warm_bn(net: Supernet) -> None:
    """A few train-mode forwards so every BN has non-default running statistics."""
    net.train()
    with torch.no_grad():
        for s in range(2):
            net(_x(10 + s))


def _randomise_scores(net: Supernet, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for gate in net.filter_gates():
            gate.score.copy_(torch.randn(gate.score.shape, generator=g))


def _edges_of_node(cell, n: int) -> list[tuple[int, int]]:
    """(edge, source node) of intermediate node n (2-based)."""
    s = cell.node_slices[n - 2]
    return [(e, e - s.start) for e in range(s.start, s.stop)]


# -- statistics ---------------------------------------------------------------------------------------------
def test_shrink_statistics_count_committed_filters() -> None:
    torch.manual_seed(0)
    net = Supernet(config())
    cell = net.cells[1]
    with torch.no_grad():
        cell.preprocess_gates[0].committed[:3] = False
        cell.edges[2][SEP].gate2.committed[:5] = False
        cell.edges[2][SEP].gate1.committed[:2] = False
        cell.edges[3][DIL].gate.committed[:1] = False
    mask = net.committed.clone()
    mask[1, 4, DIL] = 0
    net.set_op_mask(mask)
    stats = shrink_statistics(net)["cells"][1]
    assert stats["width"] == 8 and stats["nominal"] == 8
    assert stats["preprocess_live"] == [5, 8]
    # node 3 = edges 2, 3, 4: sep, dil on edges 2 and 3; sep only on edge 4 (its dil is pruned)
    assert stats["node_out_live"][1] == [3, 8, 8, 7, 8]
    assert stats["sep_mid_live"]["2,1"] == 6 and stats["sep_mid"]["2,1"] == 8
    assert len(stats["node_out_live"][3]) == 2 * 5


# -- function is preserved on the kept channels ---------------------------------------------------------------
def _mask_to(gate, keep: torch.Tensor) -> None:
    gate.committed.zero_()
    gate.committed[keep] = True


def _prepare_exact(net: Supernet, widths: dict[int, int], seed: int) -> dict[int, list[torch.Tensor]]:
    """Every writer of node n of the listed cells commits exactly the same W filters S_n (mid gates a random
    subset), so the channels a shrink drops are exactly zero before it; pools and skips are pruned except a
    max_pool node 0 → node 2 that is node 2's only op in cell 0 (node 2 then shares node 0's set)."""
    g = torch.Generator().manual_seed(seed)
    mask = net.committed.clone()
    for c in widths:
        mask[c, :, SKIP] = 0
        mask[c, :, POOL] = 0
    mask[0, 0, :] = 0
    mask[0, 1, :] = 0
    mask[0, 0, POOL] = 1  # node 2 of cell 0: only a pool from node 0
    net.set_op_mask(mask, shift_alphas=True)
    sets = {}
    with torch.no_grad():
        for c, w in widths.items():
            cell = net.cells[c]
            s = [torch.randperm(cell.channels, generator=g)[:w].sort().values for _ in range(6)]
            if c == 0:
                s[2] = s[0]
            for j in range(2):
                _mask_to(cell.preprocess_gates[j], s[j])
            for n in range(2, 6):
                for e, _ in _edges_of_node(cell, n):
                    for k in cell.live_ops[e]:
                        op = cell.edges[e][k]
                        if isinstance(op, SepConv):
                            _mask_to(op.gate2, s[n])
                            _mask_to(op.gate1, torch.randperm(cell.channels, generator=g)[: w + 1])
                        elif isinstance(op, DilConv):
                            _mask_to(op.gate, s[n])
            for _, _, op in cell.unit_ops():
                for name in ("dw1", "pw1", "dw2", "pw2", "dw", "pw"):
                    conv = getattr(op, name, None)
                    if conv is not None:
                        conv.committed &= torch.rand(conv.weight.shape, generator=g) > 0.2
            sets[c] = s
    return sets


def test_shrink_preserves_the_function_on_kept_channels() -> None:
    """Eval mode: when the dropped channels were exactly zero, the logits of the classifier and both stage heads
    are unchanged by the shrink (weights, BN running stats, weight masks and scores all sliced coherently),
    and a node fed only by a pool from the preprocess output equals the old node on the kept channels."""
    torch.manual_seed(1)
    net = Supernet(config())
    _randomise_scores(net, 1)
    widths = {0: 2, 1: 6}
    sets = _prepare_exact(net, widths, seed=2)
    _warm_bn(net)
    net.eval()
    x = _x()
    cell0 = net.cells[0]
    with torch.no_grad():
        before = [net(x, lc) for lc in (0, 1, None)]
        stem = net.stem(x)
        pre0_before = cell0.preprocess_gates[0](cell0.preprocess0(stem))  # (N, 4, H, W), no threshold: committed
        out0_before = cell0(stem, stem, net.op_weights()[0], net.op_masks()[0], *net._cell_thresholds(0))
    shrink(net, widths, {(c, e, k): w + 1 for c, w in widths.items() for e in range(E) for k in
                         net.cells[c].live_ops[e] if isinstance(net.cells[c].edges[e][k], SepConv)})  # fmt: skip
    assert [cell.channels for cell in net.cells] == [2, 6, 16]
    with torch.no_grad():
        after = [net(x, lc) for lc in (0, 1, None)]
        pre0_after = cell0.preprocess_gates[0](cell0.preprocess0(stem))
        out0_after = cell0(stem, stem, net.op_weights()[0], net.op_masks()[0], *net._cell_thresholds(0))
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(pre0_after, pre0_before[:, sets[0][0]])
    # node 2 of cell 0 (only a pool from node 0) is the pooled node 0, on the same channels
    torch.testing.assert_close(out0_after[:, :2], out0_before[:, sets[0][2]])
    gate = net.op_weights()[0, 0, POOL].detach()  # the node sums sigmoid(α)·op
    torch.testing.assert_close(out0_after[:, :2], gate * F.max_pool2d(pre0_after, 3, 1, 1))
    cols = torch.cat([(n - 2) * 4 + sets[0][n] for n in range(2, 6)])
    torch.testing.assert_close(out0_after, out0_before[:, cols], rtol=1e-5, atol=1e-5)


def test_bn_affine_parameters_running_stats_masks_and_scores_are_sliced() -> None:
    torch.manual_seed(3)
    net = Supernet(config())
    _randomise_scores(net, 3)
    cell = net.cells[1]
    with torch.no_grad():  # an affine preprocess BN (as in evaluation) to check that beta is sliced too
        cell.preprocess1 = ReLUConvBN(cell.preprocess1.conv.in_channels, 8, 1, 1, 0, affine=True)
        cell.preprocess1.bn.weight.uniform_(0.5, 1.5)
        cell.preprocess1.bn.bias.uniform_(-1, 1)
    sets = _prepare_exact(net, {1: 6}, seed=4)
    _warm_bn(net)
    old_pre1, old_sep = cell.preprocess1, cell.edges[2][SEP]  # node 3, reads node 0
    old_gate0 = cell.preprocess_gates[0]
    mapping = shrink(net, {1: 6})
    new_pre1, new_sep = cell.preprocess1, cell.edges[2][SEP]
    k1, k3, k0 = sets[1][1], sets[1][3], sets[1][0]
    for name in ("weight", "bias", "running_mean", "running_var"):
        assert torch.equal(getattr(new_pre1.bn, name), getattr(old_pre1.bn, name)[k1]), name
    assert not torch.equal(old_pre1.bn.running_var[k1], torch.ones(6))  # the stats were not the defaults
    assert torch.equal(new_sep.bn2.running_mean, old_sep.bn2.running_mean[k3])
    assert torch.equal(new_sep.bn2.running_var, old_sep.bn2.running_var[k3])
    assert torch.equal(new_sep.dw1.weight, old_sep.dw1.weight[k0])
    assert torch.equal(new_sep.dw1.committed, old_sep.dw1.committed[k0])
    mid = mapping[old_sep.pw1.weight][1][0]
    assert len(mid) == 8  # default rule: max(ceil_even(live mid 7), ceil_even((6 + 6) / 2)), capped at 8
    assert torch.equal(new_sep.pw1.weight, old_sep.pw1.weight[mid][:, k0])
    assert torch.equal(new_sep.pw2.weight, old_sep.pw2.weight[k3][:, mid])
    assert torch.equal(new_sep.pw2.committed, old_sep.pw2.committed[k3][:, mid])
    assert torch.equal(new_sep.gate2.score, old_sep.gate2.score[k3])
    assert torch.equal(new_sep.gate1.score, old_sep.gate1.score[mid])
    assert bool(new_sep.gate2.committed.all()) and bool(new_sep.gate1.committed.all())  # reset to ones
    assert torch.equal(cell.preprocess_gates[0].score, old_gate0.score[k0])
    assert bool(cell.preprocess_gates[0].committed.all()) and int(old_gate0.committed.sum()) == 6


# -- coherence with every op live (identity/pool ties), FactorizedReduce halves, mixed widths ------------------
def _rows(mapping, param) -> torch.Tensor:
    return mapping[param][1][0]


def _cols(mapping, param) -> torch.Tensor:
    return mapping[param][1][1]


def test_mixed_width_shrink_is_coherent_and_trains() -> None:
    torch.manual_seed(5)
    net = Supernet(config())
    _randomise_scores(net, 5)
    mask = net.committed.clone()
    mask[0, 9:14, :] = 0  # cell 0: node 5 loses every op (an empty node)
    mask[1, 2:5, SKIP] = 0  # cell 1: node 3 is not tied to its sources by identities
    mask[1, 2:5, POOL] = 0
    mask[2, 5, :] = 0  # a few Zero ops in the last cell
    net.set_op_mask(mask, shift_alphas=True)
    _warm_bn(net)
    old = {c: ([list(ops) for ops in cell.edges], cell.preprocess0, cell.preprocess1) for c, cell in
           enumerate(net.cells)}  # fmt: skip
    widths = {0: 2, 1: 6, 2: 10}
    mapping = shrink(net, widths)
    for c, w in widths.items():
        cell, (edges, pre0, pre1) = net.cells[c], old[c]
        sets: dict[int, torch.Tensor] = {}
        for j, pre in enumerate((pre0, pre1)):
            conv = pre.conv_1 if isinstance(pre, FactorizedReduce) else pre.conv
            rows = _rows(mapping, conv.weight)
            if isinstance(pre, FactorizedReduce):
                rows2 = _rows(mapping, pre.conv_2.weight) + pre.conv_1.out_channels
                assert len(rows) == len(rows2) == w // 2  # balanced halves
                rows = torch.cat([rows, rows2])
            sets[j] = rows
        for n in range(2, 6):
            writers, readers = [], []
            for e, src in _edges_of_node(cell, n):
                for k in cell.live_ops[e]:
                    op = edges[e][k]
                    if isinstance(op, SepConv):
                        writers.append(_rows(mapping, op.pw2.weight))
                        readers += [(src, _rows(mapping, op.dw1.weight)), (src, _cols(mapping, op.pw1.weight))]
                    elif isinstance(op, DilConv):
                        writers.append(_rows(mapping, op.pw.weight))
                        readers += [(src, _rows(mapping, op.dw.weight)), (src, _cols(mapping, op.pw.weight))]
                    elif isinstance(op, FactorizedReduce):
                        h = op.conv_1.out_channels
                        r1, r2 = _rows(mapping, op.conv_1.weight), _rows(mapping, op.conv_2.weight)
                        assert len(r1) == len(r2) == w // 2
                        writers.append(torch.cat([r1, r2 + h]))
                        readers.append((src, _cols(mapping, op.conv_1.weight)))
                    else:  # identity / pool: the node shares its source's set
                        assert not isinstance(op, Zero)
                        readers.append((src, None))
            for r in writers:  # one set for every writer of the node
                assert torch.equal(r, writers[0])
            sets[n] = writers[0] if writers else sets.get(n)
            for src, r in readers:  # ... and every reader of a node uses that node's set
                if r is not None:
                    assert torch.equal(r, sets[src]), (c, n, src)
            for src, r in readers:
                if r is None and sets[n] is not None:
                    assert torch.equal(sets[n], sets[src]), (c, n, src)
            assert sets[n] is None or len(sets[n]) == w
    # the next cells read the concat of the node sets; cell 2's FactorizedReduce preprocess0 reads cell 0
    assert torch.equal(_cols(mapping, old[2][2].conv.weight)[:6], _rows(mapping, old[1][0][0][SEP].pw2.weight))
    assert torch.equal(_cols(mapping, old[2][1].conv_1.weight), _cols(mapping, old[1][2].conv.weight))
    assert net.cells[2].preprocess0.conv_1.in_channels == 4 * 2
    assert net.classifier.in_features == 40 and net.aux_head1.features[0].in_channels == 8
    # Zero ops stay Zero, at the new width
    assert isinstance(net.cells[2].edges[5][SEP], Zero)
    assert net.cells[2].edges[5][SEP](torch.zeros(1, 10, 4, 4)).shape[1] == 10
    # forward and backward through every head; every live weight gets a gradient
    net.train()
    x = _x()
    feats = net.stem(x)
    s0 = s1 = feats
    for i, cell in enumerate(net.cells):
        s0, s1 = s1, cell(s0, s1, net.op_weights()[i], net.op_masks()[i], *net._cell_thresholds(i))
        assert s1.shape[1] == 4 * widths[i]
    loss = sum(_loss(net, x, lc) for lc in (0, 1, None))
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
               and "thresholds" not in n]  # fmt: skip
    assert missing == []
    # a second shrink of a shrunk cell
    shrink(net, {1: 4})
    _loss(net, x).backward()


# -- optimizers -----------------------------------------------------------------------------------------------
def _step(net: Supernet, opts) -> None:
    for o in opts:
        o.zero_grad(set_to_none=True)
    sum(_loss(net, _x(), lc) for lc in (0, 1, None)).backward()  # the classifier and both stage heads
    for o in opts:
        o.step()


def test_momentum_is_migrated_with_the_same_slices() -> None:
    torch.manual_seed(6)
    net = Supernet(config())
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    scores = torch.optim.SGD(net.arch_parameter_groups()["filter_score"], lr=0.1, momentum=0.9)
    _step(net, [opt, scores])
    old_params = list(net.weight_parameters())
    old_state = {p: opt.state[p]["momentum_buffer"].clone() for p in old_params if "momentum_buffer" in opt.state[p]}
    assert len(old_state) == len(old_params)
    mapping = shrink(net, {0: 2, 1: 4})
    new_opt = migrate_optimizer(opt, mapping)
    rebuilt = rebuild_optimizer(opt, net.weight_parameters(), mapping)
    new_scores = migrate_optimizer(scores, mapping)
    assert len(new_opt.param_groups[0]["params"]) == len(net.weight_parameters())
    assert {id(p) for p in new_opt.param_groups[0]["params"]} == {id(p) for p in net.weight_parameters()}
    moved = 0
    for p in old_state:
        if p in mapping:
            q, idx = mapping[p]
            expected = old_state[p]
            for d, ix in enumerate(idx):
                if ix is not None:
                    expected = expected.index_select(d, ix)
            assert torch.equal(new_opt.state[q]["momentum_buffer"], expected)
            assert torch.equal(rebuilt.state[q]["momentum_buffer"], expected)
            assert q.shape == expected.shape
            moved += 1
        else:
            assert torch.equal(new_opt.state[p]["momentum_buffer"], old_state[p])
    assert moved > 0
    gate = net.cells[0].preprocess_gates[0].score
    assert gate in new_scores.state and new_scores.state[gate]["momentum_buffer"].shape == (2,)
    _step(net, [new_opt, new_scores])


def test_after_prune_regrow_shrink_one_step_moves_every_live_parameter_only() -> None:
    torch.manual_seed(7)
    net = Supernet(config())
    groups = net.arch_parameter_groups()
    weights = torch.optim.SGD(net.weight_parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    alpha = torch.optim.SGD(groups["alpha"], lr=0.05, momentum=0.9)
    thresholds = torch.optim.SGD([p for name in ("op_threshold", "filter_threshold", "weight_threshold")
                                  for p in groups[name]], lr=0.05, momentum=0.9)  # fmt: skip
    scores = torch.optim.SGD(groups["filter_score"], lr=0.05, momentum=0.9)
    _step(net, [weights, alpha, thresholds, scores])
    mask = net.committed.clone()
    mask[:, ::2, SEP] = 0
    mask[:, 1::3, POOL] = 0
    mask[:, 3, SKIP] = 0
    net.set_op_mask(mask, shift_alphas=True)
    alpha.state[net.alphas]["momentum_buffer"][net.committed == 0] = 0.0  # as the trainer does at a prune
    regrown = [(0, 0, SEP), (1, 4, SEP), (2, 3, SKIP)]
    regrow(net, regrown)
    mapping = shrink(net, {0: 2, 1: 6})
    still_pruned = net.committed == 0
    weights = rebuild_optimizer(weights, net.weight_parameters(), mapping)
    scores = rebuild_optimizer(scores, net.arch_parameter_groups()["filter_score"], mapping)
    removed = [(p, p.detach().clone()) for p in mapping]
    live = [(n, p, p.detach().clone()) for n, p in net.named_parameters() if "thresholds" not in n]
    alpha_before = net.alphas.detach().clone()
    _step(net, [weights, alpha, thresholds, scores])
    frozen = [n for n, p, before in live if n != "alphas" and torch.equal(p, before)]
    assert frozen == []
    assert torch.equal(net.alphas[still_pruned], alpha_before[still_pruned])
    assert not torch.equal(net.alphas[~still_pruned], alpha_before[~still_pruned])
    for p, before in removed:
        assert torch.equal(p, before)


# -- reload from the recorded widths ----------------------------------------------------------------------------
def test_state_dict_after_shrink_loads_into_a_model_built_at_the_recorded_widths() -> None:
    torch.manual_seed(8)
    cfg = config()
    net = Supernet(cfg)
    _randomise_scores(net, 8)
    mask = net.committed.clone()
    mask[:, 1::2, DIL] = 0
    mask[1, 0, :] = 0
    mask[1, 0, SEP] = 1
    net.set_op_mask(mask, shift_alphas=True)
    regrow(net, [(1, 1, DIL)])
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    _step(net, [opt])
    mapping = shrink(net, {0: 2, 1: 6, 2: 12}, {(1, 0, SEP): 3})
    opt = migrate_optimizer(opt, mapping)
    _step(net, [opt])
    record = json.loads(json.dumps(widths_record(net)))
    buffer = io.BytesIO()  # a checkpoint on disk: nothing shared with the running model
    torch.save({"model": net.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    state, opt_state = saved["model"], saved["opt"]

    fresh = build_at_widths(cfg, record)
    fresh.load_state_dict(state)  # strict: no missing keys, no size mismatch
    fresh.refresh_op_sizes()
    assert torch.equal(fresh.op_sizes, net.op_sizes)
    assert fresh.cells[1].edges[0][SEP].pw1.out_channels == 3
    fresh_opt = torch.optim.SGD(fresh.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    fresh_opt.load_state_dict(opt_state)
    for a, b in ((net, opt), (fresh, fresh_opt)):
        _step(a, [b])
    torch.testing.assert_close(_loss(fresh, _x(3)), _loss(net, _x(3)), rtol=0, atol=0)


# -- validation -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("widths, mids", [({0: 6}, {}), ({0: 0}, {}), ({5: 2}, {}), ({0: 2}, {(1, 0, SEP): 2}),
                                          ({0: 2}, {(0, 0, DIL): 2}), ({0: 2}, {(0, 0, SEP): 9})])  # fmt: skip
def test_shrink_rejects_bad_widths(widths, mids) -> None:
    net = Supernet(config())
    with pytest.raises(ValueError):
        shrink(net, widths, mids)


def test_filter_level_off_uses_weight_norms() -> None:
    torch.manual_seed(9)
    net = Supernet(config({"operation"}))
    with torch.no_grad():  # node 0 of cell 0: rows 1 and 3 have the largest L1 norms
        w = net.cells[0].preprocess0.conv.weight
        w.mul_(0.01)
        w[1] += 1.0
        w[3] += 2.0
    mask = net.committed.clone()
    mask[0, :, SKIP] = 0
    mask[0, :, POOL] = 0
    net.set_op_mask(mask)
    old = net.cells[0].preprocess0.conv.weight
    mapping = shrink(net, {0: 2})
    assert _rows(mapping, old).tolist() == [1, 3]
    _loss(net, _x()).backward()
    assert isinstance(net.cells[0].preprocess0, nn.Module)
