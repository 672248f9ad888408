"""Shapes and structure of every candidate op, search and eval variants (SPEC §1.1)."""
import pytest
import torch
from torch import nn

from mgdarts_runtime.ops import OPS, PRIMITIVES, FactorizedReduce, Identity, PoolBN, Zero, build_op, op_spec

C = 4


@pytest.mark.parametrize("search", [True, False])
@pytest.mark.parametrize("size", [8, 7])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("name", PRIMITIVES)
def test_op_output_shape(name: str, stride: int, size: int, search: bool, device: torch.device) -> None:
    op = build_op(name, C, stride, search=search).to(device)
    y = op(torch.randn(2, C, size, size, device=device))
    out = -(-size // stride)  # ⌈size / stride⌉
    assert y.shape == (2, C, out, out)


@pytest.mark.parametrize("name", PRIMITIVES)
def test_spec_declarations_match_modules(name: str) -> None:
    spec = OPS[name]
    for stride in (1, 2):
        for search in (True, False):
            module = build_op(name, C, stride, search=search)
            assert spec.has_params(stride, search=search) == any(True for _ in module.parameters())
        assert spec.is_identity(stride) == isinstance(build_op(name, C, stride, search=True), Identity)


def test_search_pool_has_no_bn_eval_pool_has_affine_bn() -> None:
    search, evaluation = build_op("avg_pool_3x3", C, 1, search=True), build_op("avg_pool_3x3", C, 1, search=False)
    assert isinstance(search, PoolBN) and isinstance(search.bn, nn.Identity)
    assert isinstance(evaluation, PoolBN) and isinstance(evaluation.bn, nn.BatchNorm2d) and evaluation.bn.affine


def test_search_conv_bn_is_not_affine() -> None:
    op = build_op("sep_conv_3x3", C, 1, search=True)
    assert not op.bn1.affine and not op.bn2.affine
    assert build_op("sep_conv_3x3", C, 1, search=False).bn2.affine


def test_skip_is_factorized_reduce_on_stride_2() -> None:
    assert isinstance(build_op("skip_connect", C, 2, search=True), FactorizedReduce)


@pytest.mark.parametrize("size,out", [(7, 4), (8, 4), (5, 3)])
def test_factorized_reduce_odd_sizes(size: int, out: int, device: torch.device) -> None:
    fr = FactorizedReduce(3, 5, affine=True).to(device)  # odd c_out too
    assert fr(torch.randn(2, 3, size, size, device=device)).shape == (2, 5, out, out)


@pytest.mark.parametrize(
    "name,widths,stride,out_c",
    [("sep_conv_5x5", (4, 6, 3), 2, 3), ("dil_conv_3x3", (4, 5), 1, 5), ("max_pool_3x3", (4,), 2, 4)],
)
def test_eval_widths(name: str, widths: tuple[int, ...], stride: int, out_c: int, device: torch.device) -> None:
    op = build_op(name, 4, stride, search=False, widths=widths).to(device)
    assert op(torch.randn(2, 4, 8, 8, device=device)).shape == (2, out_c, 8 // stride, 8 // stride)


def test_wrong_width_count_and_unknown_op_raise() -> None:
    with pytest.raises(ValueError, match="takes 3 widths"):
        build_op("sep_conv_3x3", 4, 1, search=False, widths=(4, 4))
    with pytest.raises(ValueError, match="unknown op"):
        op_spec("none")


@pytest.mark.parametrize("stride", [1, 2])
def test_zero_shape(stride: int) -> None:
    y = Zero(stride)(torch.randn(2, 3, 7, 7))
    assert y.shape == (2, 3, -(-7 // stride), -(-7 // stride)) and not y.any()
