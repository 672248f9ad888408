"""The retrained model for plain PyTorch: a TorchScript file (weight masks folded into the weights, aux head
dropped, eval mode, input normalisation built in) and an ONNX file where the `onnx` package is installed."""
from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import warnings
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn

from .units import MaskedConv2d

# The legacy (TorchScript-based) exporter needs only `onnx`; torch's default exporter also needs `onnxscript`.
ONNX_MISSING = "skipped: the runtime's Python has no `onnx` package (install it into the runtime's environment to get model.onnx)"


class _FoldedConv(nn.Conv2d):
    """A plain conv standing in for a MaskedConv2d whose mask is already multiplied into its weight."""

    def forward(self, x: Tensor, threshold: Tensor | None = None) -> Tensor:  # type: ignore[override]
        return super().forward(x)


class PortableModel(nn.Module):
    """Images in [0, 1], (N, C, H, W) float → logits (N, classes): the runtime's normalisation, then the network."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))  # (1, C, 1, 1)
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))  # (1, C, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        out = self.net((x - self.mean) / self.std)
        return out[0] if isinstance(out, tuple) else out  # networks that return (logits, aux)


@torch.no_grad()
def fold_masks(net: nn.Module) -> nn.Module:
    """A CPU copy of `net` in eval mode with every MaskedConv2d replaced by a plain conv of weight × mask,
    and without its auxiliary head (whatever kind of network it is: only the module types matter)."""
    folded = copy.deepcopy(net).cpu().to(memory_format=torch.contiguous_format).eval()
    if getattr(folded, "aux_head", None) is not None:
        folded.aux_head = None
    for parent in list(folded.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, MaskedConv2d):
                setattr(parent, name, _plain_conv(child))
    return folded


def _plain_conv(conv: MaskedConv2d) -> _FoldedConv:
    plain = _FoldedConv(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
        conv.groups, conv.bias is not None, conv.padding_mode,
    )
    plain.weight.copy_(conv.weight * conv.committed.to(conv.weight.dtype))  # (C_out, C_in/g, k, k)
    if conv.bias is not None:
        plain.bias.copy_(conv.bias)
    return plain.eval()


def portable_model(net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> PortableModel:
    return PortableModel(fold_masks(net), mean, std).eval()


@torch.no_grad()
def script_model(model: PortableModel, example: Tensor) -> torch.jit.ScriptModule:
    """Traced, not scripted: tracing records the eval-mode graph of any network, whatever Python it is written in."""
    with _jit_deprecation_ignored():
        # Branches on map sizes (odd-size padding) are fixed at the dataset's image size, the size the model is for.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return torch.jit.trace(model, (example,), check_trace=False)


def load_script(path: str) -> torch.jit.ScriptModule:
    with _jit_deprecation_ignored():
        return torch.jit.load(path, map_location="cpu")


@contextlib.contextmanager
def _jit_deprecation_ignored() -> Iterator[None]:
    """torch 2.13 marks torch.jit deprecated; TorchScript is still the file plain PyTorch loads without our code."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


def export_onnx(model: PortableModel, example: Tensor, path: str) -> None:
    tmp = f"{path}.tmp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter announces its deprecation
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # it traces too: map sizes fixed, as above
        torch.onnx.export(
            model, (example,), tmp, dynamo=False, input_names=["images"], output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )
    os.replace(tmp, path)


@torch.no_grad()
def export_model(net: nn.Module, mean: Sequence[float], std: Sequence[float], images_u8: Tensor,
                 torchscript_path: str, onnx_path: str | None) -> dict:
    """Write the TorchScript file (and ONNX where possible), then check the file against the eager network on
    `images_u8` (a batch of real images, uint8 (N, C, H, W)): returns the largest absolute logit difference."""
    model = portable_model(net, mean, std)
    x = images_u8.detach().cpu().to(torch.float32) / 255.0  # (N, C, H, W) in [0, 1]
    scripted = script_model(model, x)
    tmp = f"{torchscript_path}.tmp"
    scripted.save(tmp)
    os.replace(tmp, torchscript_path)
    loaded = load_script(torchscript_path)
    eager = net.eval()
    reference = eager(_normalise(x, mean, std).to(next(eager.parameters()).device))
    reference = (reference[0] if isinstance(reference, tuple) else reference).cpu()
    diff = float((loaded(x) - reference).abs().max())
    onnx_file, note = None, None
    if onnx_path is not None:
        if onnx_available():
            export_onnx(model, x, onnx_path)
            onnx_file = {"path": onnx_path, "bytes": os.path.getsize(onnx_path)}
        else:
            note = ONNX_MISSING
    return {
        "torchscript": {"path": torchscript_path, "bytes": os.path.getsize(torchscript_path)},
        "onnx": onnx_file, "onnx_note": note, "input_shape": list(x.shape[1:]),
        "mean": [float(m) for m in mean], "std": [float(s) for s in std], "max_abs_diff": diff,
    }


def _normalise(x: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    m = torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1)  # (1, C, 1, 1)
    s = torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1)
    return (x - m) / s
