"""The weight-mask file beside architecture.json (SPEC §5.1) and the per-cell size counter stages sum (§3.4, §4.1)."""
import math

import torch

from mgdarts_runtime.export import save_weight_masks, weight_masks
from mgdarts_runtime.supernet import Supernet, SupernetConfig
from mgdarts_runtime.units import MaskedConv2d

OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3")


def net_with(granularities: set[str]) -> Supernet:
    torch.manual_seed(0)
    return Supernet(SupernetConfig(in_channels=1, num_classes=5, channels=4, layers=3, stem_stride=1, ops=OPS,
                                   granularities=frozenset(granularities)))  # fmt: skip


def test_mask_file_holds_every_live_masked_conv_keyed_by_cell_edge_op_and_conv(tmp_path) -> None:
    net = net_with({"operation", "weight"})
    net.cells[1].prune(3, 1)  # a sep_conv that must not appear
    with torch.no_grad():
        net.weight_thresholds.fill_(0.2)
        for cell in net.cells:
            cell.commit_units(None, net.weight_thresholds[0], None)
    masks = weight_masks(net)
    assert "1,3,sep_conv_3x3.dw1" not in masks
    assert {"0,0,sep_conv_3x3.dw1", "0,0,sep_conv_3x3.pw2", "2,13,dil_conv_3x3.pw"} <= set(masks)
    convs = sum(1 for c in net.cells for _, _, op in c.unit_ops() for m in op.modules() if isinstance(m, MaskedConv2d))
    assert len(masks) == convs
    saved = save_weight_masks(net, str(tmp_path / "weight_masks.pt"))
    loaded = torch.load(saved["path"], weights_only=True)
    assert set(loaded) == set(masks)
    assert saved["masked"] == sum(int((~m).sum()) for m in masks.values()) > 0
    assert saved["total"] == sum(m.numel() for m in masks.values())
    assert not (tmp_path / "weight_masks.pt.tmp").exists()


def test_no_weight_level_no_masks() -> None:
    assert weight_masks(net_with({"operation", "filter"})) == {}


def test_cell_sizes_sum_to_the_counter_and_follow_pruning() -> None:
    net = net_with({"operation"})
    sizes = net.cell_sizes()
    assert len(sizes) == 3 and sum(sizes) == net.size_counted()
    net.cells[2].prune(0, 1)
    after = net.cell_sizes()
    assert after[:2] == sizes[:2] and after[2] < sizes[2]


def test_r_thr_covers_the_cells_run_while_r_op_covers_the_stage() -> None:
    net = net_with({"operation"})
    r_op_stage, r_thr_run = net.regularizer(cells=range(1, 2), thr_cells=range(0, 2))
    r_op_1, r_thr_1 = net.regularizer(cells=range(1, 2))
    _, r_thr_0 = net.regularizer(cells=range(0, 1))
    assert r_op_stage.item() == r_op_1.item()
    assert math.isclose(r_thr_run.item(), r_thr_0.item() + r_thr_1.item(), rel_tol=1e-6)
