"""Stage forward with the search-only auxiliary heads (SPEC §1.1, §4.1)."""
import pytest
import torch
import torch.nn.functional as F

from mgdarts_runtime.heads import StageHead, stage_head
from mgdarts_runtime.supernet import Supernet, SupernetConfig

OPS = ("skip_connect", "sep_conv_3x3", "max_pool_3x3")


def staged(layers: int = 3, granularities=frozenset({"operation"}), stage_heads: bool = True) -> SupernetConfig:
    return SupernetConfig(
        in_channels=1, num_classes=5, channels=4, layers=layers, stem_stride=2, ops=OPS,
        granularities=granularities, stage_heads=stage_heads,
    )


@pytest.mark.parametrize("layers,ends", [(14, (3, 8, 13)), (8, (1, 4, 7)), (3, (0, 1, 2)), (2, (-1, 0, 1))])
def test_stage_ends(layers: int, ends: tuple[int, int, int]) -> None:
    assert staged(layers).stage_ends() == ends


@pytest.mark.parametrize("granularities", [frozenset({"operation"}), frozenset({"operation", "filter", "weight"})])
@pytest.mark.parametrize("stage", [0, 1, 2])
def test_stage_forward_uses_its_head_and_skips_later_cells(granularities: frozenset, stage: int) -> None:
    torch.manual_seed(0)
    net = Supernet(staged(3, granularities))
    last = net.config.stage_ends()[stage]
    head = (net.aux_head1, net.aux_head2, net.classifier)[stage]
    used = []
    head.register_forward_hook(lambda m, args, out: used.append(out.shape))
    for later in net.cells[last + 1:]:
        later.register_forward_pre_hook(lambda m, args: pytest.fail("a cell after last_cell was run"))
    x = torch.randn(2, 1, 28, 28)  # stem stride 2: 14×14 at stage 1, 7×7 at stage 2, 4×4 at stage 3
    y = net(x, last_cell=last)
    assert y.shape == (2, 5) and used == [(2, 5)]
    F.cross_entropy(y, torch.tensor([0, 1])).backward()
    assert all(p.grad is None for cell in net.cells[last + 1:] for p in cell.parameters())


def test_last_cell_none_is_the_full_network() -> None:
    torch.manual_seed(0)
    net = Supernet(staged(3)).eval()
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(net(x), net(x, last_cell=2))


@pytest.mark.parametrize("last_cell", [-1, 2, 4])
def test_last_cell_without_a_head_is_rejected(last_cell: int) -> None:
    net = Supernet(staged(4))  # ends (0, 1, 3): cell 2 has no head, -1 and 4 are no cells
    with pytest.raises(ValueError, match="no head after cell"):
        net(torch.randn(2, 1, 16, 16), last_cell=last_cell)


def test_two_layer_net_has_only_head_2() -> None:
    net = Supernet(staged(2))
    assert net.aux_head1 is None and net.aux_head2 is not None
    assert net(torch.randn(2, 1, 16, 16), last_cell=0).shape == (2, 5)


def test_heads_are_weights_and_do_not_disturb_other_parameters() -> None:
    torch.manual_seed(3)
    plain = Supernet(staged(3, stage_heads=False))
    torch.manual_seed(3)
    net = Supernet(staged(3))
    head_ids = {id(p) for h in (net.aux_head1, net.aux_head2) for p in h.parameters()}
    assert head_ids <= {id(p) for p in net.weight_parameters()}
    others = [(n, p) for n, p in net.named_parameters() if not n.startswith("aux_head")]
    assert [n for n, _ in others] == [n for n, _ in plain.named_parameters()]
    assert all(torch.equal(p, q) for (_, p), q in zip(others, plain.parameters()))
    assert net.aux_head1.features[0].in_channels == 4 * 4 and net.aux_head2.features[0].in_channels == 4 * 8


@pytest.mark.parametrize("stage,size,pooled", [(1, 32, "fixed"), (2, 16, "fixed"), (1, 14, "adaptive"),
                                               (2, 7, "adaptive"), (1, 4, "adaptive")])  # fmt: skip
def test_head_pooling_reference_and_small_maps(stage: int, size: int, pooled: str) -> None:
    head = stage_head(stage, 6, 5)
    assert isinstance(head, StageHead) and (head.pool_size, head.kernel) == {1: (11, 8), 2: (7, 4)}[stage]
    seen = []
    head.features[0].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    x = torch.randn(2, 6, size, size)
    assert head(x).shape == (2, 5)
    if pooled == "fixed":  # the reference pooling, pool/3, gives exactly kernel × kernel here
        expected = F.avg_pool2d(F.relu(x), head.pool_size, 3, 0, count_include_pad=False)
    else:
        expected = F.adaptive_avg_pool2d(F.relu(x), head.kernel)
    assert seen[0].shape[-2:] == (head.kernel, head.kernel) and torch.equal(seen[0], expected)


def test_stage_forward_channels_last() -> None:
    torch.manual_seed(0)
    net = Supernet(staged(3)).eval()
    x = torch.randn(2, 1, 28, 28)
    expected = net(x, last_cell=0)
    net = net.to(memory_format=torch.channels_last)
    assert torch.allclose(net(x.to(memory_format=torch.channels_last), last_cell=0), expected, atol=1e-5)
