"""The builder registry keyed by search-space name: how each space builds its supernet and evaluation network and
how it shrinks. Handlers look a space up here and never branch on its name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from torch import Tensor, nn

from .evalnet import EvalNetwork
from .mb_evalnet import MobileNetEvalNetwork
from .mb_shrink import mb_shrink, mb_shrink_statistics
from .mb_supernet import MobileNetConfig, MobileNetSupernet
from .shrink import shrink, shrink_statistics
from .supernet import Supernet, SupernetConfig


@dataclass(frozen=True)
class SpaceRuntime:
    build_supernet: Callable[[Any, int, int], nn.Module]  # (build_supernet params, in_channels, num_classes)
    build_eval: Callable[..., nn.Module]  # (architecture, auxiliary=, weight_masks=)
    shrink: Callable[..., Any]  # (net, cell_widths, mid_widths) -> ParamMap
    shrink_statistics: Callable[[nn.Module], dict]


def _darts_supernet(p: Any, in_channels: int, num_classes: int) -> nn.Module:
    return Supernet(SupernetConfig(
        in_channels=in_channels, num_classes=num_classes, channels=p.channels, layers=p.layers,
        stem_stride=p.stem_stride, nodes=p.nodes, ops=tuple(p.ops), reductions=tuple(p.reduction_cells),
        granularities=frozenset(p.granularities), stage_heads=p.stage_heads,
    ))  # fmt: skip


def _mobilenet_supernet(p: Any, in_channels: int, num_classes: int) -> nn.Module:
    m = p.mobilenet
    if m is None:
        raise ValueError("space mobilenet_like needs the `mobilenet` field (layers, head_channels, stage_ends)")
    layers = m["layers"]
    if len(layers) != p.layers:
        raise ValueError(f"layers is {p.layers} but mobilenet.layers lists {len(layers)}")
    return MobileNetSupernet(MobileNetConfig(
        in_channels=in_channels, num_classes=num_classes, stem_channels=p.channels, stem_stride=p.stem_stride,
        layer_channels=tuple(int(x["channels"]) for x in layers), layer_strides=tuple(int(x["stride"]) for x in layers),
        head_channels=int(m["head_channels"]), stages=tuple(int(e) for e in m["stage_ends"]), ops=tuple(p.ops),
        granularities=frozenset(p.granularities), stage_heads=p.stage_heads, aux_channels=int(m["aux_channels"]),
    ))  # fmt: skip


SPACES: dict[str, SpaceRuntime] = {
    "darts_like": SpaceRuntime(_darts_supernet, EvalNetwork, shrink, shrink_statistics),
    "mobilenet_like": SpaceRuntime(_mobilenet_supernet, MobileNetEvalNetwork, mb_shrink, mb_shrink_statistics),
}


def space_named(name: str) -> SpaceRuntime:
    try:
        return SPACES[name]
    except KeyError:
        raise ValueError(f"unknown search space {name!r}; known: {', '.join(SPACES)}") from None


def space_of(net: nn.Module) -> SpaceRuntime:
    """The space a supernet was built in (its `space` class attribute)."""
    return space_named(getattr(net, "space", "darts_like"))


def build_eval_network(arch: dict[str, Any], *, auxiliary: bool, weight_masks: dict[str, Tensor] | None) -> nn.Module:
    """The evaluation network of architecture.json's `search_space` (darts_like when absent)."""
    return space_named(str(arch.get("search_space", "darts_like"))).build_eval(
        arch, auxiliary=auxiliary, weight_masks=weight_masks
    )
