"""Regrowth execution (SPEC §4.3): revived ops are fresh, at the cell's current widths, with α restored."""
import pytest
import torch
import torch.nn.functional as F

from mgdarts_runtime.ops import DilConv, FactorizedReduce, SepConv, Zero
from mgdarts_runtime.regrow import regrow, regrow_statistics
from mgdarts_runtime.shrink import shrink
from mgdarts_runtime.supernet import Supernet, SupernetConfig

ALL = frozenset({"operation", "filter", "weight"})
OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3")
SKIP, SEP, DIL, POOL = 0, 1, 2, 3


def _net(seed: int = 0) -> Supernet:
    torch.manual_seed(seed)
    return Supernet(SupernetConfig(in_channels=3, num_classes=5, channels=4, layers=3, ops=OPS, granularities=ALL))


def _loss(net: Supernet) -> torch.Tensor:
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    return F.cross_entropy(net(x), torch.arange(4) % 5)


def _prune(net: Supernet) -> torch.Tensor:
    mask = net.committed.clone()
    mask[:, 0::2, SEP] = 0
    mask[:, 1::2, DIL] = 0
    mask[:, 0:2, SKIP] = 0  # the stride-2 skips (FactorizedReduce) of the reduction cells
    net.set_op_mask(mask, shift_alphas=True)
    return mask


def test_regrow_revives_fresh_ops_at_the_current_widths() -> None:
    net = _net()
    with torch.no_grad():
        net.alphas.uniform_(-1, 1)
    alpha0 = net.alphas.detach().clone()
    _prune(net)
    shrink(net, {0: 2, 1: 6})
    with torch.no_grad():  # a later commit masked filters of a live op: the revived one must not inherit this
        net.cells[1].edges[1][SEP].gate2.committed[:2] = False
    targets = [(0, 0, SEP), (1, 1, DIL), (1, 0, SKIP), (2, 2, SEP)]
    built = regrow(net, targets)
    widths = {0: 2, 1: 6, 2: 16}
    for (c, e, k), op in zip(targets, built):
        cell = net.cells[c]
        assert cell.edges[e][k] is op and k in cell.live_ops[e] and cell.live_ops[e] == sorted(cell.live_ops[e])
        assert net.committed[c, e, k] == 1
        assert abs(float(net.alphas.detach()[c, e, k] - alpha0[c, e, k])) < 1e-3  # the value from before pruning
        assert net.op_sizes[c, e, k] > 0
        w = widths[c]
        if isinstance(op, SepConv):
            assert (op.dw1.in_channels, op.pw1.out_channels, op.pw2.out_channels) == (w, w, w)
        elif isinstance(op, DilConv):
            assert (op.dw.in_channels, op.pw.out_channels) == (w, w)
        else:
            assert isinstance(op, FactorizedReduce) and op.bn.num_features == w
        for gate in [m for m in op.modules() if hasattr(m, "score")]:
            assert bool((gate.score == 0).all()) and bool(gate.committed.all())
        for conv in [m for m in op.modules() if hasattr(m, "committed") and not hasattr(m, "score")]:
            assert bool(conv.committed.all())
        for bn in [m for m in op.modules() if isinstance(m, torch.nn.BatchNorm2d)]:
            assert bool((bn.running_mean == 0).all()) and bool((bn.running_var == 1).all())
    assert net.live_op_count() == int(net.committed.sum())
    loss = _loss(net)
    loss.backward()
    for op in built:
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in op.parameters())


def test_regrow_rejects_live_duplicate_or_out_of_range_ops_without_changing_anything() -> None:
    net = _net(1)
    _prune(net)
    before = net.committed.clone()
    for bad in ([(0, 1, SEP)], [(0, 0, SEP), (0, 0, SEP)], [(0, 0, SEP), (3, 0, SEP)], [(0, 0, SEP), (0, 1, SEP)]):
        with pytest.raises(ValueError):
            regrow(net, bad)
        assert torch.equal(net.committed, before) and isinstance(net.cells[0].edges[0][SEP], Zero)


def test_regrow_statistics_report_weights_and_alpha_momentum() -> None:
    net = _net(2)
    stats = regrow_statistics(net)
    assert stats["weights"].shape == stats["momentum"].shape == (3, 14, 4)
    assert stats["weights"].dtype == torch.float32 and bool((stats["momentum"] == 0).all())
    opt = torch.optim.SGD([net.alphas], lr=0.1, momentum=0.9)
    _loss(net).backward()
    opt.step()
    stats = regrow_statistics(net, opt)
    assert torch.equal(stats["momentum"], opt.state[net.alphas]["momentum_buffer"])
    assert torch.equal(stats["weights"], torch.sigmoid(net.alphas.detach()))
    assert torch.equal(stats["committed"], net.committed)
