"""Evaluation helpers of the training loop."""
import torch
from torch import nn

from mgdarts_runtime.training import batch_statistics


def test_batch_statistics_normalises_per_batch_and_leaves_running_stats_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    net.eval()
    before = [t.clone() for t in (net[1].running_mean, net[1].running_var, net[1].num_batches_tracked)]
    x = torch.randn(8, 1, 6, 6) * 5 + 3
    with torch.no_grad(), batch_statistics(net):
        y = net(x)
    # Normalised with the batch's own statistics: per-channel mean 0, variance 1 (BN's affine is identity).
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(4), atol=1e-3)
    after = (net[1].running_mean, net[1].running_var, net[1].num_batches_tracked)
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert not net.training and not net[1].training
    with torch.no_grad():
        assert not torch.allclose(net(x), y)  # outside the context: running statistics again
