"""Binary step + STE derivative (SPEC §3.1) and the per-node connectivity guard (SPEC §3.2)."""
import pytest
import torch

from mgdarts_runtime.masks import binary_step, guarded_op_masks, node_edge_slices, ste_derivative

STE_CASES = [(0.0, 2.0), (0.3, 0.8), (-0.3, 0.8), (0.4, 0.4), (-0.4, 0.4), (0.7, 0.4), (-0.7, 0.4), (1.2, 0.0),
             (-1.2, 0.0)]  # fmt: skip
E, K = 14, 7


@pytest.mark.parametrize("x,expected", STE_CASES)
def test_ste_derivative_values(x: float, expected: float, device: torch.device) -> None:
    assert ste_derivative(torch.tensor(x, device=device)).item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("x,expected", STE_CASES)
def test_binary_step_autograd_reaches_score_and_threshold(x: float, expected: float, device: torch.device) -> None:
    score = torch.tensor(x + 0.25, device=device, requires_grad=True)
    threshold = torch.tensor(0.25, device=device, requires_grad=True)
    binary_step(score - threshold).backward()
    assert score.grad.item() == pytest.approx(expected, abs=1e-5)
    assert threshold.grad.item() == pytest.approx(-expected, abs=1e-5)


def test_binary_step_forward(device: torch.device) -> None:
    x = torch.tensor([-1.0, -1e-6, 0.0, 1e-6, 3.0], device=device)
    assert binary_step(x).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_node_edge_slices() -> None:
    assert node_edge_slices() == [slice(0, 2), slice(2, 5), slice(5, 9), slice(9, 14)]
    assert node_edge_slices(2) == [slice(0, 2), slice(2, 5)]


def _last_positions(committed: torch.Tensor) -> list[tuple[int, int]]:
    """Reference loop: the last live (edge, op) of each node in edge-major order."""
    out = []
    for sl in node_edge_slices():
        live = [(e, k) for e in range(sl.start, sl.stop) for k in range(K) if committed[e, k] > 0]
        out.append(live[-1])
    return out


@pytest.mark.parametrize("prune_last", [False, True])
def test_guard_keeps_last_live_op_per_node(prune_last: bool, device: torch.device) -> None:
    torch.manual_seed(0)
    weights = torch.rand(E, K, device=device) * 0.5
    thresholds = torch.ones(E, K, device=device)  # above every score: nothing passes on its own
    committed = torch.ones(E, K, device=device)
    if prune_last:  # kill the tail of every node so the guard must look further back
        committed[[1, 4, 8, 13], 4:] = 0
        committed[[8], :] = 0
    mask = guarded_op_masks(weights, thresholds, committed)
    for sl, (e, k) in zip(node_edge_slices(), _last_positions(committed)):
        assert mask[sl].sum().item() == 1.0
        assert mask[e, k].item() == 1.0


def test_guard_inactive_when_a_node_keeps_an_op(device: torch.device) -> None:
    weights = torch.full((E, K), 0.5, device=device)
    thresholds = torch.ones(E, K, device=device)
    thresholds[0, 0] = 0.0  # node 2 keeps (0, 0) by itself
    mask = guarded_op_masks(weights, thresholds, torch.ones(E, K, device=device))
    assert mask[0:2].sum().item() == 1.0 and mask[0, 0].item() == 1.0
    assert mask[1, K - 1].item() == 0.0


def test_guard_batched_over_cells_matches_per_cell(device: torch.device) -> None:
    torch.manual_seed(1)
    weights = torch.rand(3, E, K, device=device)
    thresholds = torch.rand(3, E, K, device=device)
    committed = (torch.rand(3, E, K, device=device) > 0.3).float()
    batched = guarded_op_masks(weights, thresholds, committed)
    for i in range(3):
        assert torch.equal(batched[i], guarded_op_masks(weights[i], thresholds[i], committed[i]))
    assert torch.all(batched <= committed)


def test_gradient_reaches_alpha_and_thresholds_through_mask(device: torch.device) -> None:
    alphas = torch.zeros(E, K, device=device, requires_grad=True)
    thresholds = torch.full((E, K), 0.6, device=device, requires_grad=True)  # every op masked → guard acts
    mask = guarded_op_masks(torch.sigmoid(alphas), thresholds, torch.ones(E, K, device=device))
    (mask * torch.arange(E * K, device=device).view(E, K)).sum().backward()
    assert alphas.grad is not None and thresholds.grad is not None
    assert torch.all(alphas.grad[:, 1:] != 0)  # x = -0.1 → STE 1.6, times sigmoid' 0.25
    assert torch.allclose(thresholds.grad, -alphas.grad / 0.25)
