"""The search super-net: forward, masks, commit/prune, regulariser, size counter (SPEC §1.1, §2, §3)."""
import math

import pytest
import torch

from mgdarts_runtime.masks import node_edge_slices
from mgdarts_runtime.ops import Zero
from mgdarts_runtime.supernet import Supernet, SupernetConfig

E, K = 14, 7


def tiny(stem_stride: int = 2, layers: int = 3) -> SupernetConfig:
    return SupernetConfig(in_channels=1, num_classes=5, channels=4, layers=layers, stem_stride=stem_stride)


@pytest.fixture(scope="module")
def base_net() -> Supernet:
    torch.manual_seed(0)
    return Supernet(tiny())


def test_config_reductions_and_channels() -> None:
    assert tiny(layers=3).reduction_cells() == (1, 2)
    assert tiny(layers=8).reduction_cells() == (2, 5)
    assert tiny(layers=2).reduction_cells() == (0, 1)
    assert tiny(layers=1).reduction_cells() == (0,)
    assert tiny(layers=8).cell_channels() == (4, 4, 8, 8, 8, 16, 16, 16)


@pytest.mark.parametrize("stem_stride", [1, 2])
def test_forward_shape(stem_stride: int, device: torch.device) -> None:
    net = Supernet(tiny(stem_stride)).to(device)
    assert net(torch.randn(2, 1, 16, 16, device=device)).shape == (2, 5)


def test_parameter_groups(base_net: Supernet) -> None:
    groups = base_net.arch_parameter_groups()
    assert groups == {
        "alpha": [base_net.alphas], "op_threshold": [base_net.op_thresholds],
        "filter_score": [], "filter_threshold": [], "weight_threshold": [],
    }
    weight_ids = {id(p) for p in base_net.weight_parameters()}
    assert id(base_net.alphas) not in weight_ids and id(base_net.op_thresholds) not in weight_ids
    assert len(weight_ids) == len(list(base_net.parameters())) - 2


def test_commit_prunes_all_but_one_op_per_node(device: torch.device) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny()).to(device)
    with torch.no_grad():
        net.op_thresholds.fill_(2.0)
    alphas_before = net.alphas.detach().clone()
    assert net.commit_op_masks() == 3 * (E * K - 4)
    assert net.live_op_count() == 3 * 4
    committed = net.committed.cpu()
    for sl in node_edge_slices():
        assert torch.all(committed[:, sl].sum(dim=(1, 2)) == 1)
        assert torch.all(committed[:, sl.stop - 1, K - 1] == 1)  # the last op of the last edge survives
    shift = (net.alphas.detach() - alphas_before).cpu()
    assert torch.all(shift[committed == 0] == -10000) and torch.all(shift[committed == 1] == 0)
    for layer, cell in enumerate(net.cells):
        for e, ops in enumerate(cell.edges):
            for k, op in enumerate(ops):
                assert isinstance(op, Zero) == (committed[layer, e, k] == 0)
                if isinstance(op, Zero):
                    assert not list(op.parameters())
    net(torch.randn(2, 1, 16, 16, device=device)).sum().backward()
    assert net.alphas.grad is not None and net.op_thresholds.grad is not None
    assert net.commit_op_masks() == 0


def test_regularizer_finite_and_differentiable(base_net: Supernet) -> None:
    base_net.zero_grad(set_to_none=True)
    r_op, r_thr = base_net.regularizer(mu=1e-4, reg=1.0)
    assert math.isfinite(r_op.item()) and math.isfinite(r_thr.item())
    assert r_thr.item() == pytest.approx(3 * E * K)
    (r_op + r_thr).backward()
    assert base_net.alphas.grad is not None and base_net.op_thresholds.grad is not None
    assert torch.isfinite(base_net.alphas.grad).all()


def _r_op_by_hand(alphas: torch.Tensor, committed: torch.Tensor, cells: range) -> float:
    total = 0.0
    for c in cells:
        for sl in node_edge_slices():
            s_n = sum(torch.sigmoid(alphas[c, e, k]).item() for e in range(sl.start, sl.stop) for k in range(K))
            n_n = sum(committed[c, e, k].item() for e in range(sl.start, sl.stop) for k in range(K))
            for e in range(sl.start, sl.stop):
                for k in range(K):
                    if committed[c, e, k] > 0:
                        total += math.log(1 + n_n * torch.sigmoid(alphas[c, e, k]).item() / s_n)
    return total


def test_regularizer_uses_each_nodes_own_live_count() -> None:
    torch.manual_seed(3)
    net = Supernet(tiny())
    with torch.no_grad():
        net.alphas.normal_()
    mask = torch.ones(3, E, K)
    mask[:, 2:5, 2:] = 0  # node 3: 6 live ops; node 4 (edges 5-8): 28 live ops
    mask[:, 6, :3] = 0  # node 4: 25 live ops
    net.set_op_mask(mask, shift_alphas=True)
    alphas = net.alphas.detach()
    r_op, r_thr = net.regularizer(cells=range(1, 3))
    assert r_op.item() == pytest.approx(_r_op_by_hand(alphas, mask, range(1, 3)), rel=1e-5)
    assert r_thr.item() == pytest.approx(2 * mask[0].sum().item())


def _counted_by_hand(c: int) -> int:
    sep = lambda k: 2 * (c * k * k + c * c)  # noqa: E731  dw1 + pw1 + dw2 + pw2
    dil = lambda k: c * k * k + c * c  # noqa: E731  dw + pw
    return E * (sep(3) + sep(5) + dil(3) + dil(5))


def test_size_counted_matches_hand_count() -> None:
    net = Supernet(tiny())  # cells: C = 4, 8 (reduction), 16 (reduction)
    fr = 8 * (8 * 8 + 16 * 16)  # 8 stride-2 skip edges per real reduction cell, c² each
    assert net.size_counted() == _counted_by_hand(4) + _counted_by_hand(8) + _counted_by_hand(16) + fr
    mask = torch.ones(3, E, K)
    mask[1, 0, 0] = 0  # a FactorizedReduce skip of cell 1
    mask[0, 3, 1] = 0  # a sep_conv_3x3 of cell 0
    net.set_op_mask(mask)
    assert net.size_counted() == _counted_by_hand(4) + _counted_by_hand(8) + _counted_by_hand(16) + fr - 64 - 2 * (
        4 * 9 + 16
    )


def test_reset_thresholds_and_last_cell(base_net: Supernet) -> None:
    with torch.no_grad():
        base_net.op_thresholds.fill_(0.3)
    base_net.reset_thresholds()
    assert not base_net.op_thresholds.any()
    with pytest.raises(ValueError, match="without stage_heads"):
        base_net(torch.randn(2, 1, 16, 16), last_cell=1)
    assert base_net(torch.randn(2, 1, 16, 16), last_cell=2).shape == (2, 5)


def test_channels_last_forward(device: torch.device) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny(stem_stride=1)).to(device)
    x = torch.randn(2, 1, 8, 8, device=device)
    net.eval()
    expected = net(x)
    net = net.to(memory_format=torch.channels_last)
    y = net(x.to(memory_format=torch.channels_last))
    assert torch.allclose(y, expected, atol=1e-5)
    net.train()
    net(x.to(memory_format=torch.channels_last)).sum().backward()
