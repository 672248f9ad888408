"""Filter and weight granularities (SPEC §2, §3): gates, masked convs, their ops, and the supernet around them."""
import math

import pytest
import torch
import torch.nn.functional as F
from legacy_supernet import LegacySupernet
from torch import nn

from mgdarts_runtime.ops import FactorizedReduce, SepConv, build_op, counted_weights
from mgdarts_runtime.supernet import Supernet, SupernetConfig
from mgdarts_runtime.units import FilterGate, MaskedConv2d, Units

ALL = frozenset({"operation", "filter", "weight"})
OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3")  # K = 4: one of each kind
E, K = 14, 4
SEP, DIL = 1, 2


def small(granularities=ALL, layers: int = 3, **kw) -> SupernetConfig:
    """C = 4, 8, 16 for L = 3 (cells 1 and 2 reduce)."""
    return SupernetConfig(
        in_channels=1, num_classes=5, channels=4, layers=layers, stem_stride=1, ops=OPS,
        granularities=frozenset(granularities), **kw,
    )


def _loss(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on fixed labels: a plain logits.sum() has ~0 gradient through batch-statistics BNs."""
    return F.cross_entropy(net(x), torch.arange(x.shape[0]) % 5)


# -- gates and masked convs ---------------------------------------------------------------------------------
def test_masked_conv_zeroes_exactly_the_small_weights(device: torch.device) -> None:
    conv = MaskedConv2d(2, 3, 1, bias=False).to(device)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([0.1, -0.3, 0.25, -0.05, 0.5, -0.15], device=device).view(3, 2, 1, 1))
    t = torch.tensor(0.2, device=device)
    kept = conv.mask(t).flatten().tolist()
    assert kept == [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    x = torch.randn(2, 2, 3, 3, device=device)
    expected = F.conv2d(x, conv.weight * conv.mask(t))
    assert torch.equal(conv(x, t), expected)
    assert conv.commit(t).item() == 3
    assert conv.mask(torch.tensor(0.0, device=device)).flatten().tolist() == kept  # committed zeros stay zero
    assert conv.commit(t).item() == 0


def test_masked_conv_has_conv2d_parameters_and_init() -> None:
    torch.manual_seed(5)
    plain = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    torch.manual_seed(5)
    masked = MaskedConv2d(3, 4, 3, padding=1, bias=False)
    assert [n for n, _ in masked.named_parameters()] == ["weight"] and torch.equal(masked.weight, plain.weight)
    x = torch.randn(1, 3, 5, 5)
    assert torch.equal(masked(x), plain(x))  # no threshold: committed mask of ones


@pytest.mark.parametrize("x_offset", [0.3, -0.3, 0.7])
def test_ste_reaches_score_threshold_and_weight(x_offset: float) -> None:
    gate = FilterGate(3)
    t = torch.tensor(0.5 - x_offset, requires_grad=True)  # sigmoid(0) - t = x_offset
    (gate(torch.ones(1, 3, 2, 2), t) * torch.arange(3.0).view(1, 3, 1, 1)).sum().backward()
    assert gate.score.grad is not None and t.grad is not None and t.grad.item() != 0.0
    conv = MaskedConv2d(1, 1, 1, bias=False)
    tw = torch.tensor(0.0, requires_grad=True)
    conv(torch.ones(1, 1, 2, 2), tw).sum().backward()
    assert tw.grad is not None and tw.grad.item() != 0.0 and conv.weight.grad is not None


def test_filter_below_threshold_is_zero_and_stays_zero_after_commit(device: torch.device) -> None:
    torch.manual_seed(0)
    op = build_op("sep_conv_3x3", 4, 1, search=True, units=Units(filter=True, weight=True)).to(device)
    with torch.no_grad():
        op.gate2.score[1] = -3.0  # sigmoid ≈ 0.047 < t
        op.gate1.score[2] = -3.0  # a mid filter
    t_f, t_w = torch.tensor(0.1, device=device), torch.tensor(0.0, device=device)
    x = torch.randn(2, 4, 6, 6, device=device)
    y = op(x, t_f, t_w)
    assert not y[:, 1].any() and y[:, 0].abs().sum() > 0
    filters, weights = op.commit_units(t_f, t_w)
    assert [int(n) for n in filters] == [1, 1] and sum(int(n) for n in weights) == 0
    with torch.no_grad():
        op.gate2.score[1] = op.gate1.score[2] = 5.0
        op.pw2.weight[:, 2] = 100.0  # would leak mid filter 2 into every output if it were not zero
    y = op(x, torch.tensor(0.0, device=device), t_w)
    assert not y[:, 1].any()
    y_no_leak = op(x, torch.tensor(0.0, device=device), t_w)
    with torch.no_grad():
        op.pw2.weight[:, 2] = -100.0
    assert torch.equal(op(x, torch.tensor(0.0, device=device), t_w), y_no_leak)


def test_factorized_reduce_is_gated_before_bn_and_never_thresholded(device: torch.device) -> None:
    fr = build_op("skip_connect", 4, 2, search=True, units=Units(filter=True)).to(device)
    assert isinstance(fr, FactorizedReduce) and fr.gate is not None and not fr.gate.thresholded
    seen = {}
    fr.bn.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    with torch.no_grad():
        fr.gate.score.fill_(-20.0)  # sigmoid ≈ 2e-9: the BN input is scaled down by that much
    fr(torch.randn(2, 4, 8, 8, device=device))
    assert seen["x"].abs().max() < 1e-6
    assert fr.gate.commit(torch.tensor(0.9, device=device)).item() == 0 and bool(fr.gate.committed.all())


@pytest.mark.parametrize("units", [Units(), Units(filter=True), Units(weight=True)])
def test_unit_switches_build_only_their_parts(units: Units) -> None:
    op = build_op("sep_conv_5x5", 4, 1, search=True, units=units)
    assert isinstance(op, SepConv)
    assert (op.gate1 is not None) == units.filter and (op.gate2 is not None) == units.filter
    assert isinstance(op.dw1, MaskedConv2d) == units.weight and isinstance(op.pw2, MaskedConv2d) == units.weight
    assert op(torch.randn(1, 4, 5, 5)).shape == (1, 4, 5, 5)


def test_counted_weights_follow_committed_filters() -> None:
    op = build_op("sep_conv_3x3", 4, 1, search=True, units=Units(filter=True, weight=True))
    dense = 2 * (4 * 9 + 4 * 4)
    assert counted_weights(op) == dense
    op.gate1.committed[:2] = False  # 2 mid filters: pw1 rows (4 each) and dw2 filters (9 each)
    op.gate2.committed[3] = False  # 1 out filter: a pw2 row of c_mid = 4 weights (weight masks ignored)
    op.pw2.committed.fill_(False)
    assert int(counted_weights(op)) == dense - 2 * 4 - 2 * 9 - 4


# -- the supernet with units -------------------------------------------------------------------------------
@pytest.mark.parametrize("explicit", [False, True])
def test_operation_only_is_bit_identical_to_the_op_level_supernet(explicit: bool) -> None:
    cfg = SupernetConfig(in_channels=1, num_classes=5, channels=4, layers=3, stem_stride=2)
    if explicit:
        cfg = SupernetConfig(**{**cfg.__dict__, "granularities": frozenset({"operation"})})
    torch.manual_seed(4)
    legacy = LegacySupernet(cfg)
    torch.manual_seed(4)
    net = Supernet(cfg)
    assert [(n, p.shape) for n, p in net.named_parameters()] == [(n, p.shape) for n, p in legacy.named_parameters()]
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), legacy.parameters()))
    g = torch.Generator().manual_seed(4)
    for m in (net, legacy):
        with torch.no_grad():
            m.alphas.copy_(torch.randn(m.alphas.shape, generator=torch.Generator().manual_seed(1)))
            m.op_thresholds.copy_(torch.rand(m.alphas.shape, generator=torch.Generator().manual_seed(2)) * 0.6)
    x = torch.randn(2, 1, 12, 12, generator=g)
    assert torch.equal(net(x), legacy(x))
    assert net.commit_masks() == {"operation": legacy.commit_op_masks(), "filter": 0, "weight": 0}
    assert torch.equal(net(x), legacy(x))


GROUPS = ("alpha", "op_threshold", "filter_score", "filter_threshold", "weight_threshold")
LEVEL_OF = {"alpha": "operation", "op_threshold": "operation", "filter_score": "filter",
            "filter_threshold": "filter", "weight_threshold": "weight"}  # fmt: skip
SUBSETS = [{"operation"}, {"filter"}, {"weight"}, {"operation", "filter"}, {"operation", "weight"},
           {"filter", "weight"}, set(ALL)]  # fmt: skip


@pytest.mark.parametrize("granularities", SUBSETS, ids=lambda s: "+".join(sorted(s)))
def test_parameter_groups_per_granularity(granularities: set[str]) -> None:
    net = Supernet(small(granularities, layers=2))
    groups = net.arch_parameter_groups()
    assert tuple(groups) == GROUPS
    for name, params in groups.items():
        assert bool(params) == (LEVEL_OF[name] in granularities), name
    if "filter" in granularities:  # 2 preprocess gates per cell, 2 gates per sep, 1 per dil, 1 per stride-2 skip
        assert len(groups["filter_score"]) == 2 * 2 + 2 * E * (2 + 1) + 2 * 8  # L = 2: both cells reduce
        assert groups["filter_threshold"] == [net.filter_thresholds, net.preprocess_thresholds]
    arch = {id(p) for params in groups.values() for p in params} | {id(net.alphas), id(net.op_thresholds)}
    weights = {id(p) for p in net.weight_parameters()}
    assert not arch & weights and len(arch) + len(weights) == len(list(net.parameters()))
    assert (net.weight_thresholds is None) == ("weight" not in granularities)
    assert (net.filter_thresholds is None) == ("filter" not in granularities)


def test_all_levels_forward_backward_reach_every_score_and_threshold(device: torch.device) -> None:
    torch.manual_seed(0)
    net = Supernet(small()).to(device)
    x = torch.randn(4, 1, 8, 8, device=device)
    (_loss(net, x) + sum(net.regularizer())).backward()
    groups = net.arch_parameter_groups()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for ps in groups.values() for p in ps)
    units = net.has_units.bool()  # (L, E, K) sep/dil positions
    assert net.filter_thresholds.grad[units].ne(0).all() and net.weight_thresholds.grad[units].ne(0).all()
    assert net.preprocess_thresholds.grad.ne(0).all()
    assert all(g.score.grad.ne(0).any() for g in net.filter_gates() if g.thresholded)


def test_frozen_arch_groups_leave_forward_unchanged_and_get_no_gradient() -> None:
    torch.manual_seed(0)
    net = Supernet(small())
    x = torch.randn(4, 1, 8, 8)
    expected = net(x).detach()
    for params in net.arch_parameter_groups().values():
        for p in params:
            p.requires_grad_(False)
    y = net(x)
    assert torch.equal(y, expected)
    F.cross_entropy(y, torch.arange(4) % 5).backward()
    assert all(p.grad is None for ps in net.arch_parameter_groups().values() for p in ps)
    assert all(p.grad is not None for p in net.stem.parameters())


def test_commit_masks_counts_and_persistence() -> None:
    torch.manual_seed(0)
    net = Supernet(small())
    sep, dil = net.cells[0].edges[0][SEP], net.cells[1].edges[3][DIL]
    with torch.no_grad():
        sep.gate1.score[:2] = -10.0  # 2 mid filters below t_filter = 0.1
        sep.gate2.score[3] = -10.0  # 1 out filter
        net.filter_thresholds[0, 0, SEP] = 0.1
        dil.gate.score[0] = -10.0
        net.filter_thresholds[1, 3, DIL] = 0.1
        dil.dw.weight.copy_(torch.tensor([0.1, 0.3]).repeat(36)[:72].view(8, 1, 3, 3))
        dil.pw.weight.fill_(0.3)
        net.weight_thresholds[1, 3, DIL] = 0.2  # masks the 36 dw weights of 0.1
        net.preprocess_thresholds[2, 1] = 0.6  # every filter of cell 2's preprocess1 (sigmoid 0.5)
        net.op_thresholds[2, 13, 0] = 0.9  # one op below its threshold; its node keeps others
    assert net.commit_masks() == {"operation": 1, "filter": 2 + 1 + 1 + 16, "weight": 36}
    assert net.unit_counts()["operation"] == (3 * E * K - 1, 3 * E * K)
    net.reset_thresholds()
    assert net.commit_masks() == {"operation": 0, "filter": 0, "weight": 0}
    with torch.no_grad():
        sep.gate2.score.fill_(5.0)
    x = torch.randn(2, 4, 8, 8)
    assert not sep(x, torch.tensor(0.0), torch.tensor(0.0))[:, 3].any()  # stays zero under t = 0
    assert int(dil.dw.mask(torch.tensor(0.0)).sum()) == 36


def test_regularizer_counts_exactly_the_listed_thresholds() -> None:
    net = Supernet(small())
    mask = torch.ones(3, E, K)
    mask[0, 0, SEP] = mask[1, 5, DIL] = mask[2, 9, 0] = mask[2, 9, 3] = 0  # 1 sep, 1 dil, a skip and a pool pruned
    net.set_op_mask(mask)
    with torch.no_grad():  # exp(-t): op 1, filter 1/2, weight 1/4, preprocess 1/8; dead entries 1000
        net.op_thresholds.fill_(-math.log(1000.0))
        net.op_thresholds[mask > 0] = 0.0
        live_units = (mask > 0) & net.has_units.bool()
        for t, value in ((net.filter_thresholds, 2.0), (net.weight_thresholds, 4.0)):
            t.fill_(-math.log(1000.0))
            t[live_units] = math.log(value)
        net.preprocess_thresholds.fill_(math.log(8.0))
    live_ops = 3 * E * K - 4
    live_sep_dil = 3 * E * 2 - 2
    _, r_thr = net.regularizer()
    assert r_thr.item() == pytest.approx(live_ops + live_sep_dil * (0.5 + 0.25) + 3 * 2 / 8)
    _, r_thr = net.regularizer(cells=range(1, 3))  # cells 1-2: a dil and the two ops of cell 2 pruned
    assert r_thr.item() == pytest.approx(2 * E * K - 3 + (2 * E * 2 - 1) * 0.75 + 2 * 2 / 8)


@pytest.mark.parametrize("granularities", [{"operation", "weight"}, {"filter"}], ids=["op+weight", "filter"])
def test_regularizer_leaves_out_levels_that_are_off(granularities: set[str]) -> None:
    net = Supernet(small(granularities))
    r_op, r_thr = net.regularizer()
    op_terms = 3 * E * K if "operation" in granularities else 0
    unit_terms = 3 * E * 2 * len(granularities - {"operation"})
    assert r_thr.item() == pytest.approx(op_terms + unit_terms + (3 * 2 if "filter" in granularities else 0))
    assert (r_op.item() == 0.0) == ("operation" not in granularities)


def _dense_counted(c: int) -> int:
    return E * (2 * (c * 9 + c * c) + (c * 9 + c * c))  # one sep_conv_3x3 and one dil_conv_3x3 per edge


def test_size_counted_with_committed_filters() -> None:
    net = Supernet(small())
    fr = 8 * (8 * 8 + 16 * 16)  # stride-2 skips of the two reduction cells, c² each
    dense = _dense_counted(4) + _dense_counted(8) + _dense_counted(16) + fr
    assert net.size_counted() == dense
    sep, dil = net.cells[0].edges[0][SEP], net.cells[1].edges[3][DIL]
    sep.gate1.committed[:2] = False  # pw1: 2 filters × c_in 4; dw2: 2 filters × 9
    sep.gate2.committed[3] = False  # pw2: 1 filter × c_mid 4
    dil.gate.committed[:3] = False  # pw: 3 filters × c_in 8
    dil.pw.committed.fill_(False)  # weight masks are ignored
    assert net.size_counted() == dense - (8 + 18 + 4) - 24
    live, total = net.unit_counts()["filter"]
    pre = 2 * (4 + 8 + 16)
    assert total == pre + E * (3 * 4 + 3 * 8 + 3 * 16) and live == total - 2 - 1 - 3


def test_unit_counts_and_op_sizes_follow_commits() -> None:
    net = Supernet(small({"operation", "weight"}))
    counts = net.unit_counts()
    convs = E * (2 * (4 * 9 + 16) + 4 * 9 + 16) + E * (3 * (8 * 9 + 64)) + E * (3 * (16 * 9 + 256))
    assert counts["weight"] == (convs, convs) and counts["filter"][0] == counts["filter"][1]
    assert net.op_sizes[0, 0, SEP].item() == 2 * (4 * 9 + 16)
    with torch.no_grad():
        net.weight_thresholds[0, 0, SEP] = 10.0  # every weight of that op
    assert net.commit_masks()["weight"] == 2 * (4 * 9 + 16)
    assert net.unit_counts()["weight"] == (convs - 2 * (4 * 9 + 16), convs)
    assert net.op_sizes[0, 0, SEP].item() == 0.0


def test_reset_thresholds_zeroes_every_level() -> None:
    net = Supernet(small())
    thresholds = [net.op_thresholds, net.filter_thresholds, net.preprocess_thresholds, net.weight_thresholds]
    with torch.no_grad():
        for t in thresholds:
            t.fill_(0.3)
    net.reset_thresholds()
    assert not any(t.any() for t in thresholds)


def test_without_the_operation_level_alpha_and_op_thresholds_are_inert() -> None:
    net = Supernet(small({"filter"}))
    assert not net.alphas.requires_grad and not net.op_thresholds.requires_grad
    with torch.no_grad():
        net.op_thresholds.fill_(5.0)  # ignored: no op level
    _loss(net, torch.randn(2, 1, 8, 8)).backward()
    assert net.commit_masks()["operation"] == 0 and net.alphas.grad is None


@pytest.mark.parametrize("bad", [frozenset(), frozenset({"kernel"})])
def test_config_rejects_bad_granularities(bad: frozenset) -> None:
    with pytest.raises(ValueError, match="granularities"):
        small(bad)


def test_config_accepts_a_list_of_granularities() -> None:
    cfg = SupernetConfig(in_channels=1, num_classes=5, channels=4, layers=2, granularities=["filter", "operation"])
    assert cfg.granularities == frozenset({"filter", "operation"})


def test_channels_last_with_all_levels(device: torch.device) -> None:
    torch.manual_seed(0)
    net = Supernet(small(layers=2)).to(device)
    x = torch.randn(2, 1, 8, 8, device=device)
    net.eval()
    expected = net(x)
    net = net.to(memory_format=torch.channels_last)
    assert torch.allclose(net(x.to(memory_format=torch.channels_last)), expected, atol=1e-5)
    net.train()
    _loss(net, x.to(memory_format=torch.channels_last)).backward()
