"""Nothing deep-copies a masked model (issue: a copy of a supernet doubles its memory and detaches its masks from
the optimizers): prune, regrow, shrink, optimizer migration, mask export and reload all run with deepcopy of any
module, parameter or tensor made to fail."""
import copy
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mgdarts_runtime.export import save_weight_masks
from mgdarts_runtime.regrow import regrow
from mgdarts_runtime.shrink import build_at_widths, migrate_optimizer, shrink, widths_record
from mgdarts_runtime.supernet import Supernet, SupernetConfig

OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3")
SEP, DIL = 1, 2


class DeepCopied(AssertionError):
    pass


def _refuse(self, memo):
    raise DeepCopied(f"deepcopy of a {type(self).__name__}")


@pytest.fixture
def no_deepcopy(monkeypatch):
    for cls in (nn.Module, nn.Parameter, torch.Tensor):
        monkeypatch.setattr(cls, "__deepcopy__", _refuse, raising=False)
    yield


def test_the_fixture_refuses_deepcopy(no_deepcopy) -> None:
    # Otherwise the cycle test below would prove nothing.
    with pytest.raises(DeepCopied):
        copy.deepcopy(nn.Linear(2, 2))
    with pytest.raises(DeepCopied):
        copy.deepcopy(torch.zeros(2))


def test_search_cycle_never_deep_copies_the_masked_model(no_deepcopy, tmp_path) -> None:
    torch.manual_seed(0)
    cfg = SupernetConfig(in_channels=3, num_classes=5, channels=4, layers=3, ops=OPS, stage_heads=True,
                         granularities=frozenset({"operation", "filter", "weight"}))  # fmt: skip
    net = Supernet(cfg)
    x = torch.randn(4, 3, 16, 16)
    y = torch.arange(4) % 5
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    step()
    with torch.no_grad():
        net.weight_thresholds.fill_(0.05)
        for i, cell in enumerate(net.cells):
            cell.commit_units(None, net.weight_thresholds[i], None)
    mask = net.committed.clone()
    mask[:, ::2, SEP] = 0
    net.set_op_mask(mask, shift_alphas=True)
    regrow(net, [(0, 0, SEP)])
    mapping = shrink(net, {0: 2, 1: 6}, {(0, 0, SEP): 3})
    opt = migrate_optimizer(opt, mapping)
    step()
    saved = save_weight_masks(net, str(tmp_path / "weight_masks.pt"))
    assert saved["total"] > 0
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    fresh = build_at_widths(cfg, widths_record(net))
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    torch.testing.assert_close(fresh(x), net(x))
