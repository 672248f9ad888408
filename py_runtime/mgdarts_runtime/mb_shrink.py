"""Physical shrink of the MobileNet-like supernet (SPEC §4.5 carried over): each live block's expanded width goes to
the width the controller decided; layer input/output widths are fixed by the space, so one kept index set per block
slices its expand rows, both BNs (affine parameters and running statistics), its gate, the depthwise and the
projection's input columns. Reuses the channel choice and the rebuilder of `shrink.py`."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .mb_ops import InvertedResidual
from .mb_supernet import MobileNetSupernet, expanded_ops
from .ops import live_weights
from .shrink import ParamMap, _memory_format, _Rebuilder, _rows_l1, _top

__all__ = ["mb_shrink", "mb_shrink_statistics"]


@torch.no_grad()
def mb_shrink_statistics(net: MobileNetSupernet) -> dict[str, Any]:
    """The `shrink_statistics` reply for this space: per layer its fixed width, and for each live block ("0,op") its
    live expanded filters (`sep_mid_live`, all when the filter level is off) and current expanded width (`sep_mid`).
    The DARTS-only fields are empty."""
    cells = []
    for c, layer in enumerate(net.cells):
        blocks = [(k, op) for _, k, op in layer.unit_ops() if isinstance(op, InvertedResidual)]
        live = {f"0,{k}": op.gate.committed.sum() if op.gate is not None else op.mid for k, op in blocks}
        cells.append({
            "cell": c, "width": layer.channels, "nominal": layer.channels,
            "preprocess_live": [0, 0], "node_out_live": [],
            "sep_mid_live": live, "sep_mid": {f"0,{k}": op.mid for k, op in blocks},
        })
    tensors = [v for cell in cells for v in cell["sep_mid_live"].values() if isinstance(v, Tensor)]
    values = iter(torch.stack(tensors).tolist()) if tensors else iter(())  # one host sync
    for cell in cells:
        cell["sep_mid_live"] = {key: int(next(values)) if isinstance(v, Tensor) else int(v)
                                for key, v in cell["sep_mid_live"].items()}  # fmt: skip
    return {"cells": cells}


def _kept(op: InvertedResidual, width: int, use_scores: bool) -> Tensor:
    """Live expanded channels first, then by sigmoid(p) (or the expand rows' L1 norm without the filter level)."""
    if use_scores and op.gate is not None:
        return _top(torch.sigmoid(op.gate.score.detach()).cpu(), op.gate.committed.cpu(), width)
    rows = _rows_l1(op.expand).cpu()
    return _top(rows, torch.ones_like(rows, dtype=torch.bool), width)


def _rebuild(rb: _Rebuilder, old: InvertedResidual, keep: Tensor) -> InvertedResidual:
    out = torch.arange(old.project.out_channels)
    new = InvertedResidual(old.expand.in_channels, len(keep), old.project.out_channels, old.kernel, old.dw.stride[0],
                           old.bn1.affine, old.units)  # fmt: skip
    new = rb.new(new, old)
    rb.conv(new.expand, old.expand, keep, None)
    rb.bn(new.bn1, old.bn1, keep)
    rb.gate(new.gate, old.gate, keep)  # scores sliced; the filter mask restarts at all ones (SPEC §4.5 step 3)
    rb.conv(new.dw, old.dw, keep, None)
    rb.bn(new.bn2, old.bn2, keep)
    rb.conv(new.project, old.project, out, keep)
    rb.bn(new.bn3, old.bn3, out)
    return new


@torch.no_grad()
def mb_shrink(
    net: MobileNetSupernet, cell_widths: dict[int, int], mid_widths: dict[tuple[int, int, int], int] | None = None
) -> ParamMap:
    """Shrink each block named in `mid_widths` {(layer, 0, op): expanded width} to that width. Layer widths are
    fixed: `cell_widths` may only repeat them. Raises ValueError before changing anything."""
    mid_widths = dict(mid_widths or {})
    for c, w in cell_widths.items():
        if not 0 <= c < len(net.cells) or int(w) != net.cells[c].channels:
            raise ValueError(f"layer {c}: mobilenet_like layer widths are fixed; shrink sets expanded widths")
    blocks = {(c, 0, k): op for c, k, op in expanded_ops(net)}
    for key, m in mid_widths.items():
        if key not in blocks:
            raise ValueError(f"expanded width for {key}: not a live inverted-residual block")
        if not 1 <= int(m) <= blocks[key].mid:
            raise ValueError(f"expanded width for {key}: {m} not in [1, {blocks[key].mid}] (shrink never widens)")
    use_scores = net.config.units().filter
    ref = net.stem[0].weight
    rb = _Rebuilder(ref.device, ref.dtype, _memory_format(net))
    for (c, e, k), m in mid_widths.items():
        old = blocks[(c, e, k)]
        if int(m) == old.mid:
            continue
        net.cells[c].edges[e][k] = _rebuild(rb, old, _kept(old, int(m), use_scores))
        net.op_sizes[c, e, k] = float(live_weights(net.cells[c].edges[e][k]))
    return rb.mapping
