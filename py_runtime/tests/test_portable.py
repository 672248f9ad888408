"""The portable model: TorchScript equals the eager evaluation network, masks folded, aux head dropped, and the
file loads with plain torch.jit.load in a process that cannot import mgdarts_runtime."""
import os
import subprocess
import sys
from pathlib import Path

import torch

from mgdarts_runtime.evalnet import EvalNetwork
from mgdarts_runtime.portable import ONNX_MISSING, export_model, load_script, onnx_available
from test_evalnet import ARCH

MEAN, STD = (0.3,), (0.25,)


def _build_with_random_masks() -> tuple[EvalNetwork, dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    # Masks need the conv shapes, which only a built network knows: build once without masks, then with them.
    shapes = {}
    template = EvalNetwork(ARCH, auxiliary=True)
    for i, (spec, cell) in enumerate(zip(ARCH["cells"], template.cells)):
        for entry, op in zip(spec["ops"], cell.ops):
            for conv in ("dw1", "pw1", "dw2", "pw2", "dw", "pw"):
                if entry["op"].startswith(("sep", "dil")) and hasattr(op, conv):
                    shapes[f"{i},{entry['edge']},{entry['op']}.{conv}"] = getattr(op, conv).weight.shape
    masks = {k: torch.rand(shape, generator=generator) > 0.33 for k, shape in shapes.items()}
    torch.manual_seed(0)
    net = EvalNetwork(ARCH, auxiliary=True, weight_masks=masks)
    net.train()
    with torch.no_grad():  # running statistics that are not the defaults, so eval mode is really tested
        for _ in range(3):
            net(torch.randn(4, 1, 8, 8))
    return net.eval(), masks


def test_torchscript_matches_eager_and_folds_masks(tmp_path: Path) -> None:
    net, masks = _build_with_random_masks()
    assert net.masked_weights > 0
    images = torch.randint(0, 256, (5, 1, 8, 8), dtype=torch.uint8)
    out = export_model(net, MEAN, STD, images, str(tmp_path / "m.pt"), str(tmp_path / "m.onnx"))
    assert out["max_abs_diff"] < 1e-5
    loaded = load_script(str(tmp_path / "m.pt"))
    # Another batch size than the one traced, compared with the eager network on the same normalised input.
    x = torch.rand(3, 1, 8, 8)
    eager, aux = net((x - MEAN[0]) / STD[0])
    assert aux is None
    torch.testing.assert_close(loaded(x), eager, atol=1e-5, rtol=1e-5)
    state = loaded.state_dict()
    assert not any("aux_head" in k for k in state), "the aux head must be dropped"
    assert not any(k.endswith("committed") for k in state), "masks are folded, not carried"
    key = next(iter(masks))
    cell, edge_op = key.split(",", 1)[0], key.split(".")[-1]
    folded = [v for k, v in state.items() if k.startswith(f"net.cells.{cell}.") and k.endswith(f"{edge_op}.weight")]
    assert folded and any((w == 0).any() for w in folded)
    if onnx_available():
        assert out["onnx"]["bytes"] > 0 and out["onnx_note"] is None
    else:
        assert out["onnx"] is None and out["onnx_note"] == ONNX_MISSING
        assert not (tmp_path / "m.onnx").exists()


def test_loads_without_mgdarts_runtime(tmp_path: Path) -> None:
    net, _ = _build_with_random_masks()
    images = torch.randint(0, 256, (2, 1, 8, 8), dtype=torch.uint8)
    export_model(net, MEAN, STD, images, str(tmp_path / "model.torchscript.pt"), None)
    x = torch.rand(4, 1, 8, 8)
    torch.save(x, tmp_path / "x.pt")
    script = (
        "import importlib.util, torch\n"
        "assert importlib.util.find_spec('mgdarts_runtime') is None\n"
        "m = torch.jit.load('model.torchscript.pt')\n"
        "torch.save(m(torch.load('x.pt')), 'y.pt')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, env=env, check=True, timeout=120)
    y = torch.load(tmp_path / "y.pt")
    torch.testing.assert_close(y, net((x - MEAN[0]) / STD[0])[0], atol=1e-5, rtol=1e-5)


def test_any_evaluation_network_exports(tmp_path: Path) -> None:
    """The export knows no network kind: the MobileNet-like evaluation network with weight masks folds the same way."""
    from mgdarts_runtime.export import weight_masks
    from mgdarts_runtime.mb_evalnet import MobileNetEvalNetwork
    from test_mb_supernet import _architecture, net_and_x

    supernet, _ = net_and_x()
    with torch.no_grad():
        supernet.weight_thresholds.fill_(0.05)
    supernet.commit_masks()
    net = MobileNetEvalNetwork(_architecture(supernet), weight_masks=weight_masks(supernet)).eval()
    assert net.masked_weights > 0
    images = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)
    out = export_model(net, MEAN, STD, images, str(tmp_path / "mb.pt"), None)
    assert out["max_abs_diff"] < 1e-5 and out["input_shape"] == [1, 16, 16]
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(load_script(str(tmp_path / "mb.pt"))(x), net((x - MEAN[0]) / STD[0])[0], atol=1e-5, rtol=1e-5)
