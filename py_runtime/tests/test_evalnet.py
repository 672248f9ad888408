"""The evaluation network from an architecture dict (SPEC §5), drop-path, aux head, parameter counting."""
import copy
from typing import Any

import pytest
import torch

from mgdarts_runtime.evalnet import AuxiliaryHead, EvalCell, EvalNetwork
from mgdarts_runtime.params import count_parameters

EDGE = {(0, 2): 0, (1, 2): 1, (0, 3): 2, (1, 3): 3, (2, 3): 4, (0, 4): 5, (1, 4): 6, (2, 4): 7, (3, 4): 8,
        (0, 5): 9, (1, 5): 10, (2, 5): 11, (3, 5): 12, (4, 5): 13}  # fmt: skip


def op(name: str, source: int, target: int, *widths: int) -> dict[str, Any]:
    return {"op": name, "edge": EDGE[(source, target)], "from": source, "to": target, "widths": list(widths)}


def cell(index: int, reduction: bool, c: int, inputs: list[int], nodes: list[int], ops: list[dict]) -> dict:
    return {"index": index, "reduction": reduction, "channels": c, "input_widths": inputs, "node_widths": nodes,
            "ops": ops}  # fmt: skip


ARCH: dict[str, Any] = {
    "format": "mgdarts.architecture/1", "search_space": "darts_like", "in_channels": 1, "num_classes": 10,
    "channels": 4, "stem_stride": 1, "layers": 3, "nodes": 4,
    "cells": [
        # node 3 is wider (6) and node 4 has no ops: it must still be in the concat (SPEC §7.4 bug 11)
        cell(0, False, 4, [4, 4], [4, 6, 4, 4], [
            op("sep_conv_3x3", 0, 2, 4, 4, 4), op("sep_conv_3x3", 0, 3, 4, 5, 6), op("dil_conv_3x3", 2, 3, 4, 6),
            op("skip_connect", 1, 5, 4), op("max_pool_3x3", 4, 5, 4)]),
        cell(1, True, 8, [8, 8], [8, 8, 8, 8], [
            op("skip_connect", 0, 2, 8), op("avg_pool_3x3", 1, 2, 8), op("sep_conv_5x5", 2, 3, 8, 8, 8),
            op("dil_conv_5x5", 0, 4, 8, 8), op("skip_connect", 3, 5, 8), op("max_pool_3x3", 1, 5, 8)]),
        cell(2, True, 16, [6, 6], [6, 6, 6, 6], [
            op("sep_conv_3x3", 0, 2, 6, 6, 6), op("skip_connect", 1, 2, 6), op("skip_connect", 2, 3, 6),
            op("avg_pool_3x3", 3, 4, 6), op("dil_conv_3x3", 4, 5, 6, 6)]),
    ],
}  # fmt: skip


def test_forward_backward_shapes(device: torch.device) -> None:
    torch.manual_seed(0)
    net = EvalNetwork(ARCH).to(device)
    assert [c.out_channels for c in net.cells] == [18, 32, 24]
    logits, aux = net(torch.randn(2, 1, 8, 8, device=device))
    assert logits.shape == (2, 10) and aux is None
    logits.sum().backward()
    assert all(p.grad is not None for p in net.cells[0].ops.parameters())


def test_empty_node_is_zeros_in_concat() -> None:
    c0 = EvalCell(ARCH["cells"][0], 12, 12, False, 4).eval()
    out = c0(torch.randn(2, 12, 8, 8), torch.randn(2, 12, 8, 8))
    assert out.shape == (2, 18, 8, 8)
    assert not out[:, 10:14].any()  # node 4: channels 4 + 6 .. 4 + 6 + 4


def test_drop_path_changes_train_outputs_only(device: torch.device) -> None:
    torch.manual_seed(0)
    net = EvalNetwork(ARCH).to(device)
    x = torch.randn(4, 1, 8, 8, device=device)
    clean, _ = net(x)
    net.drop_path_prob = 0.5
    torch.manual_seed(1)
    dropped, _ = net(x)
    assert not torch.allclose(clean, dropped)
    net.eval()
    with_drop = net(x)[0]
    net.drop_path_prob = 0.0
    assert torch.equal(net(x)[0], with_drop)


def test_drop_path_never_touches_identity_ops() -> None:
    spec = cell(0, False, 4, [4, 4], [4, 4, 4, 4], [op("skip_connect", 1, 2, 4), op("sep_conv_3x3", 0, 3, 4, 4, 4),
                                                    op("skip_connect", 2, 4, 4), op("avg_pool_3x3", 0, 5, 4)])
    c0 = EvalCell(spec, 4, 4, False, 4).train()
    s0, s1 = torch.randn(4, 4, 8, 8), torch.randn(4, 4, 8, 8)
    clean = c0(s0, s1, 0.0)
    torch.manual_seed(0)
    dropped = c0(s0, s1, 0.9)
    assert torch.equal(dropped[:, :4], clean[:, :4]) and torch.equal(dropped[:, 8:12], clean[:, 8:12])
    assert not torch.allclose(dropped[:, 4:8], clean[:, 4:8])


def test_aux_head_and_parameter_count(device: torch.device) -> None:
    torch.manual_seed(0)
    net = EvalNetwork(ARCH, auxiliary=True).to(device)
    logits, aux = net(torch.randn(2, 1, 8, 8, device=device))
    assert logits.shape == (2, 10) and aux is not None and aux.shape == (2, 10)
    (logits.sum() + aux.sum()).backward()
    assert net.eval()(torch.randn(2, 1, 8, 8, device=device))[1] is None
    plain = EvalNetwork(ARCH)
    aux_params = sum(p.numel() for p in net.aux_head.parameters())
    assert count_parameters(net) == count_parameters(plain)
    assert count_parameters(net, exclude_prefixes=()) == count_parameters(plain) + aux_params
    assert count_parameters(plain) == sum(p.numel() for p in plain.parameters())


@pytest.mark.parametrize("size", [8, 3, 1])
def test_aux_head_map_sizes(size: int) -> None:
    head = AuxiliaryHead(6, 7).train()
    assert head(torch.randn(2, 6, size, size)).shape == (2, 7)


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda a: a["cells"][0]["ops"][0].update(widths=[4, 4, 5]), "widths must"),
        (lambda a: a["cells"][0]["ops"][0].update(edge=3), "does not join"),
        (lambda a: a.update(format="other/1"), "expected"),
        (lambda a: a["cells"].pop(), "cells for"),
    ],
)
def test_invalid_architectures_raise(change: Any, match: str) -> None:
    arch = copy.deepcopy(ARCH)
    change(arch)
    with pytest.raises(ValueError, match=match):
        EvalNetwork(arch)


def _random_masks(net: EvalNetwork, keep: float, seed: int) -> dict[str, torch.Tensor]:
    """A weight-mask file's content for ARCH: one bool tensor per sep/dil conv, keyed "cell,edge,op.conv"."""
    g = torch.Generator().manual_seed(seed)
    masks = {}
    for i, spec in enumerate(ARCH["cells"]):
        for entry, module in zip(spec["ops"], net.cells[i].ops):
            for name in ("dw1", "pw1", "dw2", "pw2", "dw", "pw"):
                if entry["op"].startswith(("sep", "dil")) and hasattr(module, name):
                    w = getattr(module, name).weight
                    masks[f"{i},{entry['edge']},{entry['op']}.{name}"] = torch.rand(w.shape, generator=g) < keep
    return masks


def test_weight_masks_hold_masked_weights_at_zero_in_every_forward() -> None:
    torch.manual_seed(0)
    plain = EvalNetwork(ARCH)
    masks = _random_masks(plain, keep=0.6, seed=1)
    torch.manual_seed(0)
    masked = EvalNetwork(ARCH, weight_masks=masks)
    assert count_parameters(masked) == count_parameters(plain)  # masks are buffers, not parameters
    assert masked.masked_weights == sum(int((~m).sum()) for m in masks.values()) > 0
    # The same function as the plain network with the masked weights zeroed by hand.
    with torch.no_grad():
        for i, spec in enumerate(ARCH["cells"]):
            for entry, module in zip(spec["ops"], plain.cells[i].ops):
                for name in ("dw1", "pw1", "dw2", "pw2", "dw", "pw"):
                    key = f"{i},{entry['edge']},{entry['op']}.{name}"
                    if key in masks:
                        getattr(module, name).weight.mul_(masks[key])
    x = torch.randn(2, 1, 16, 16)
    plain.eval()
    masked.eval()
    torch.testing.assert_close(masked(x)[0], plain(x)[0])
    # Training cannot revive a masked weight: its effective value stays 0 after a step.
    masked.train()
    opt = torch.optim.SGD(masked.parameters(), lr=0.5)
    masked(x)[0].sum().backward()
    opt.step()
    conv = masked.cells[0].ops[0].dw1
    assert bool(((conv.weight * conv.committed)[~conv.committed] == 0).all())


def test_weight_masks_must_match_the_architecture() -> None:
    masks = _random_masks(EvalNetwork(ARCH), keep=0.5, seed=2)
    missing = dict(masks)
    missing.pop(next(iter(missing)))
    with pytest.raises(ValueError, match="missing"):
        EvalNetwork(ARCH, weight_masks=missing)
    extra = {**masks, "9,0,sep_conv_3x3.dw1": torch.ones(1, dtype=torch.bool)}
    with pytest.raises(ValueError, match="unexpected"):
        EvalNetwork(ARCH, weight_masks=extra)
    key = next(iter(masks))
    wrong = {**masks, key: torch.ones(3, 3, dtype=torch.bool)}
    with pytest.raises(ValueError, match="shape"):
        EvalNetwork(ARCH, weight_masks=wrong)
