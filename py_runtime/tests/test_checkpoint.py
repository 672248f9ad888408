"""Tests for the runtime's checkpoints: a supernet pruned, regrown and shrunk comes back into a freshly built one
with the same outputs, the same momentum and the same next step; a file whose SHA-256 differs from the record,
or a checkpoint of the other model, is refused and changes nothing."""
import pytest
import torch
import torch.nn.functional as F

from mgdarts_runtime.checkpoint import load_checkpoint, save_checkpoint, sha256_of
from mgdarts_runtime.errors import BadParamsFault, WriteFailed
from mgdarts_runtime.optim import build_search_optimizers
from mgdarts_runtime.regrow import regrow
from mgdarts_runtime.shrink import shrink
from mgdarts_runtime.state import RuntimeState
from mgdarts_runtime.supernet import Supernet, SupernetConfig

OPS = ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3")
SEP = OPS.index("sep_conv_3x3")
CFG = SupernetConfig(in_channels=3, num_classes=5, channels=4, layers=3, ops=OPS, stage_heads=True,
                     granularities=frozenset({"operation", "filter", "weight"}))  # fmt: skip
X, Y = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1)), torch.arange(4) % 5


def _fresh_state() -> RuntimeState:
    state = RuntimeState(device=torch.device("cpu"))
    torch.manual_seed(0)
    state.supernet = Supernet(CFG)
    state.search_opt = build_search_optimizers(state.supernet, momentum=0.9, weight_decay=3e-4)
    return state


def _step(state: RuntimeState) -> float:
    for opt in state.search_opt.all():
        for g in opt.param_groups:
            g["lr"] = 0.05
    state.search_opt.zero_grad()
    loss = F.cross_entropy(state.supernet(X), Y)
    loss.backward()
    for opt in state.search_opt.all():
        opt.step()
    return loss.item()


def _searched_state() -> RuntimeState:
    state = _fresh_state()
    net = state.supernet
    _step(state)
    mask = net.committed.clone()
    mask[:, ::2, SEP] = 0
    net.set_op_mask(mask, shift_alphas=True)
    regrow(net, [(0, 0, SEP)])
    shrink(net, {0: 2, 1: 6}, {(0, 0, SEP): 3})
    state.search_opt = build_search_optimizers(net, momentum=0.9, weight_decay=3e-4)
    _step(state)
    _step(state)
    return state


def test_a_shrunk_supernet_resumes_into_a_fresh_one_with_the_same_next_step(tmp_path) -> None:
    state = _searched_state()
    saved = save_checkpoint(state, "supernet", str(tmp_path / "c.pt"))
    assert saved["sha256"] == sha256_of(tmp_path / "c.pt") and saved["bytes"] > 0
    rng_after_save = torch.get_rng_state()
    expected_draw = torch.rand(3)

    other = _fresh_state()  # as resume builds it: the run's build parameters, nothing else
    torch.manual_seed(123)  # whatever the global RNG did meanwhile
    load_checkpoint(other, "supernet", saved["path"], saved["sha256"])
    assert torch.equal(torch.rand(3), expected_draw)  # the torch RNG is the checkpoint's
    torch.set_rng_state(rng_after_save)
    assert other.supernet.cells[0].channels == 2 and other.supernet.cells[0].edges[0][SEP].pw1.out_channels == 3
    assert torch.equal(other.supernet.committed, state.supernet.committed)
    state.supernet.eval(), other.supernet.eval()
    torch.testing.assert_close(other.supernet(X), state.supernet(X), rtol=0, atol=0)
    state.supernet.train(), other.supernet.train()
    assert _step(other) == _step(state)  # momentum restored: the next step lands on the same loss
    assert _step(other) == _step(state)


def test_a_corrupt_file_or_the_wrong_model_is_refused_and_changes_nothing(tmp_path) -> None:
    state = _searched_state()
    saved = save_checkpoint(state, "supernet", str(tmp_path / "c.pt"))
    other = _fresh_state()
    before = {k: v.clone() for k, v in other.supernet.state_dict().items()}
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "c.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadParamsFault, match="corrupt: its SHA-256"):
        load_checkpoint(other, "supernet", saved["path"], saved["sha256"])
    (tmp_path / "c.pt").write_bytes(data)
    with pytest.raises(BadParamsFault, match="not a checkpoint of the eval network"):
        load_checkpoint(other, "eval", saved["path"], saved["sha256"])
    after = other.supernet.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not list(tmp_path.glob(".*.tmp-*"))  # no temporary file left beside the checkpoint


def test_a_failed_write_names_the_file_and_leaves_the_previous_checkpoint(tmp_path, monkeypatch) -> None:
    state = _searched_state()
    path = tmp_path / "c.pt"
    first = save_checkpoint(state, "supernet", str(path))

    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 11376256 vs 11376144")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(WriteFailed, match=r"cannot write checkpoint .*c\.pt: .*unexpected pos .*MiB free"):
        save_checkpoint(state, "supernet", str(path))
    assert sha256_of(path) == first["sha256"]  # the file already there is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]  # and no temporary file is left
