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
