"""Physical shrink of search cells (SPEC §4.5) with one coherent channel set per node (§7.4 items 9, 12; §8.1 item 8).

The controller picks the widths (`shrink_statistics` feeds its width rule); `shrink` executes them:

* every node of a shrunk cell (the two preprocess outputs and the intermediate nodes) gets the cell's width;
* ONE kept index set per node is used by every op writing it (output rows, BN, gates, masks) and by every op
  reading it (depthwise channels, pointwise input columns). Parameter-free channel-wise ops (identity, pooling)
  tie their source and target nodes to one shared set;
* the cell output (the concat of its nodes' sets) slices the input columns of the next cells' preprocess
  layers, the classifier and the stage heads, whether or not those cells are shrunk themselves;
* weights, BN affine parameters and running statistics, weight masks and filter scores are copied from the kept
  rows and columns; filter masks restart at all ones (SPEC §4.5 step 3).

`shrink` returns {old parameter: (new parameter, per-dim indices)}; `migrate_optimizer` / `rebuild_optimizer`
carry momentum buffers through it. No module is deep-copied.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .heads import StageHead
from .ops import DilConv, FactorizedReduce, Identity, PoolBN, ReLUConvBN, SepConv, Zero, live_weights
from .search_cell import SearchCell
from .supernet import Supernet, SupernetConfig
from .units import FilterGate, MaskedConv2d, UnitOp

__all__ = [
    "ParamMap",
    "build_at_widths",
    "migrate_optimizer",
    "rebuild_optimizer",
    "shrink",
    "shrink_statistics",
    "widths_record",
]

Index = tuple[Tensor | None, ...]  # per dim: kept indices (CPU long) or None (all)
ParamMap = dict[nn.Parameter, tuple[nn.Parameter, Index]]


def ceil_even(x: float) -> int:
    n = int(-(-x // 1))
    return n + (n % 2)


# -- statistics -----------------------------------------------------------------------------------------------
def _node_edges(cell: SearchCell) -> list[tuple[int, int, int]]:
    """(edge, source node, target node) of every edge, nodes numbered 0..nodes+1."""
    return [(e, e - s.start, n + 2) for n, s in enumerate(cell.node_slices) for e in range(s.start, s.stop)]


def _out_gate(op: UnitOp) -> FilterGate | None:
    return getattr(op, op.unit_layers[-1].out_gate)  # gate2 (sep) or gate (dil)


def _out_conv(op: UnitOp) -> nn.Conv2d:
    return getattr(op, op.unit_layers[-1].conv)  # pw2 (sep) or pw (dil)


@torch.no_grad()
def shrink_statistics(net: Supernet) -> dict[str, Any]:
    """Per cell, for the controller's width rule (SPEC §4.5 step 1): `preprocess_live` [p0, p1], `node_out_live`
    (per intermediate node, the committed live out filters of each live sep/dil op feeding it, edge-major),
    `sep_mid_live` {"edge,op": live mid filters}, `width` (current node width), `nominal` (C of the stage),
    `sep_mid` {"edge,op": current mid width}. Filters count as live when their level is off. One host sync."""
    parts: list[Tensor] = []  # 0-d tensors, read back together

    def count(gate: FilterGate | None, channels: int) -> int:
        if gate is None:
            return -channels - 1  # encoded constant, decoded below
        parts.append(gate.committed.sum())
        return len(parts) - 1

    layout = []
    nominal = net.config.cell_channels()
    for i, cell in enumerate(net.cells):
        gates = cell.preprocess_gates
        pre = [count(None if gates is None else gates[j], cell.channels) for j in range(2)]
        nodes: list[list[int]] = [[] for _ in cell.node_slices]
        mids: dict[str, int] = {}
        mid_widths: dict[str, int] = {}
        for e, _, n in _node_edges(cell):
            for k in cell.live_ops[e]:
                op = cell.edges[e][k]
                if isinstance(op, UnitOp):
                    nodes[n - 2].append(count(_out_gate(op), _out_conv(op).out_channels))
                if isinstance(op, SepConv):
                    mids[f"{e},{k}"] = count(op.gate1, op.pw1.out_channels)
                    mid_widths[f"{e},{k}"] = op.pw1.out_channels
        layout.append((i, pre, nodes, mids, mid_widths, cell.channels, nominal[i]))
    values = torch.stack(parts).tolist() if parts else []
    decode = lambda j: int(values[j]) if j >= 0 else -j - 1  # noqa: E731
    cells = []
    for i, pre, nodes, mids, mid_widths, width, nom in layout:
        cells.append({
            "cell": i,
            "width": width,
            "nominal": nom,
            "preprocess_live": [decode(j) for j in pre],
            "node_out_live": [[decode(j) for j in node] for node in nodes],
            "sep_mid_live": {key: decode(j) for key, j in mids.items()},
            "sep_mid": mid_widths,
        })
    return {"cells": cells}


# -- channel choice -------------------------------------------------------------------------------------------
def _top(score: Tensor, live: Tensor, n: int) -> Tensor:
    """n indices: live first, then by score (descending), ties by index; returned sorted ascending."""
    order = torch.argsort(score, descending=True, stable=True)
    order = order[torch.argsort((~live[order]).to(torch.int8), stable=True)]
    return order[:n].sort().values


def _select(score: Tensor, live: Tensor, width: int, split: int | None) -> Tensor:
    """Kept indices (sorted). With `split` (a FactorizedReduce writes the set) width//2 come from [0, split) and
    the rest from [split, C), so every FactorizedReduce keeps its conv_1/conv_2 halves at the new width."""
    if split is None:
        return _top(score, live, width)
    first = _top(score[:split], live[:split], width // 2)
    second = _top(score[split:], live[split:], width - width // 2) + split
    return torch.cat([first, second])


def _rows_l1(*convs: nn.Conv2d) -> Tensor:
    return torch.cat([c.weight.detach().abs().flatten(1).sum(1) for c in convs])  # (C_out,)


def _writer_rows(module: nn.Module) -> Tensor:
    """L1 norm of a writer's output rows (filter level off)."""
    if isinstance(module, FactorizedReduce):
        return _rows_l1(module.conv_1, module.conv_2)
    if isinstance(module, ReLUConvBN):
        return _rows_l1(module.conv)
    return _rows_l1(_out_conv(module))


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            a = self.parent[a]
        return a

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _channelwise(op: nn.Module) -> bool:
    """Parameter-free ops mapping channel j to channel j (they tie source and target node sets)."""
    return isinstance(op, (Identity, PoolBN))


def _node_sets(cell: SearchCell, width: int, use_scores: bool) -> list[Tensor]:
    """One kept index set (sorted, CPU long) per node 0..nodes+1 of `cell` (SPEC §4.5 step 2, coherent).

    Node score: preprocess nodes from their own gate (or conv rows); intermediate nodes the sum over writers of
    sigmoid(p) of their output gates (or the L1 norm of their output rows when the filter level is off). Live =
    committed in any thresholded writer (all live if the set has none). Nodes tied by identity/pooling ops share
    one set, chosen from the sum of their scores."""
    c_old = cell.channels
    count = len(cell.node_slices) + 2
    dev = cell.preprocess1.conv.weight.device
    score = torch.zeros(count, c_old, device=dev)
    live = torch.zeros(count, c_old, dtype=torch.bool, device=dev)
    gated = [False] * count  # has a thresholded writer
    has_fr = [False] * count
    union = _Union(count)
    pre = (cell.preprocess0, cell.preprocess1)
    for n in range(2):
        has_fr[n] = isinstance(pre[n], FactorizedReduce)
        gate = cell.preprocess_gates[n] if cell.preprocess_gates is not None else None
        if use_scores and gate is not None:
            score[n] += torch.sigmoid(gate.score.detach())
            live[n] |= gate.committed
            gated[n] = True
        else:
            score[n] += _writer_rows(pre[n])
    for e, src, n in _node_edges(cell):
        for k in cell.live_ops[e]:
            op = cell.edges[e][k]
            if isinstance(op, UnitOp):
                gate = _out_gate(op)
                if use_scores and gate is not None:
                    score[n] += torch.sigmoid(gate.score.detach())
                    live[n] |= gate.committed
                    gated[n] = True
                else:
                    score[n] += _writer_rows(op)
            elif isinstance(op, FactorizedReduce):
                has_fr[n] = True
                if use_scores and op.gate is not None:
                    score[n] += torch.sigmoid(op.gate.score.detach())  # never thresholded: score only
                else:
                    score[n] += _writer_rows(op)
            elif _channelwise(op):
                union.join(src, n)
            elif not isinstance(op, Zero):
                raise NotImplementedError(f"shrink does not know how to slice {type(op).__name__}")
    score, live = score.cpu(), live.cpu()  # one sync per cell, at shrink time
    sets: dict[int, Tensor] = {}
    out = []
    for n in range(count):
        root = union.find(n)
        if root not in sets:
            members = [m for m in range(count) if union.find(m) == root]
            s = score[members].sum(0)
            lv = live[members].any(0) if any(gated[m] for m in members) else torch.ones(c_old, dtype=torch.bool)
            split = c_old // 2 if any(has_fr[m] for m in members) else None
            sets[root] = _select(s, lv, width, split)
        out.append(sets[root])
    return out


def _mid_set(op: SepConv, mid: int, use_scores: bool) -> Tensor:
    if use_scores and op.gate1 is not None:
        return _top(torch.sigmoid(op.gate1.score.detach()).cpu(), op.gate1.committed.cpu(), mid)
    rows = _rows_l1(op.pw1).cpu()
    return _top(rows, torch.ones_like(rows, dtype=torch.bool), mid)


def _default_mid(op: SepConv, width: int) -> int:
    live = int(op.gate1.committed.sum()) if op.gate1 is not None else op.pw1.out_channels
    return min(max(ceil_even(live), ceil_even((width + width) / 2)), op.pw1.out_channels)


# -- rebuilding -----------------------------------------------------------------------------------------------
def _take(t: Tensor, idx: Index) -> Tensor:
    for d, ix in enumerate(idx):
        if ix is not None:
            t = t.index_select(d, ix.to(t.device))
    return t


class _Rebuilder:
    """Builds new modules at the kept sizes and fills them from the old ones, recording the parameter map."""

    def __init__(self, device: torch.device, dtype: torch.dtype, fmt: torch.memory_format) -> None:
        self.device, self.dtype, self.fmt = device, dtype, fmt
        self.mapping: ParamMap = {}

    def new(self, module: nn.Module, like: nn.Module) -> nn.Module:
        module = module.to(device=self.device, dtype=self.dtype)
        if self.fmt == torch.channels_last:
            module = module.to(memory_format=self.fmt)
        return module.train(like.training)

    def param(self, new: nn.Parameter | None, old: nn.Parameter | None, idx: Index) -> None:
        if new is None or old is None:
            return
        new.copy_(_take(old.detach(), idx))
        self.mapping[old] = (new, idx)

    def conv(self, new: nn.Conv2d, old: nn.Conv2d, rows: Tensor, cols: Tensor | None) -> None:
        """rows: kept output channels; cols: kept input columns (None for depthwise: rows are its channels)."""
        idx: Index = (rows, cols) if old.groups == 1 else (rows,)
        self.param(new.weight, old.weight, idx)
        self.param(new.bias, old.bias, (rows,))
        if isinstance(old, MaskedConv2d) and isinstance(new, MaskedConv2d):
            new.committed.copy_(_take(old.committed, idx))

    def bn(self, new: nn.Module, old: nn.Module, rows: Tensor) -> None:
        if not isinstance(old, nn.BatchNorm2d):
            return
        self.param(new.weight, old.weight, (rows,))
        self.param(new.bias, old.bias, (rows,))
        for name in ("running_mean", "running_var"):
            if getattr(old, name) is not None:
                getattr(new, name).copy_(_take(getattr(old, name), (rows,)))
        if old.num_batches_tracked is not None:
            new.num_batches_tracked.copy_(old.num_batches_tracked)

    def gate(self, new: FilterGate | None, old: FilterGate | None, rows: Tensor) -> None:
        if new is not None and old is not None:
            self.param(new.score, old.score, (rows,))  # committed: the fresh all-ones mask (SPEC §4.5 step 3)

    # -- modules --
    def relu_conv_bn(self, old: ReLUConvBN, rows: Tensor, cols: Tensor) -> ReLUConvBN:
        c = old.conv
        new = ReLUConvBN(len(cols), len(rows), c.kernel_size[0], c.stride[0], c.padding[0], old.bn.affine)
        new = self.new(new, old)
        self.conv(new.conv, c, rows, cols)
        self.bn(new.bn, old.bn, rows)
        return new

    def factorized_reduce(self, old: FactorizedReduce, rows: Tensor, cols: Tensor) -> FactorizedReduce:
        half = old.conv_1.out_channels
        r1, r2 = rows[rows < half], rows[rows >= half] - half
        new = FactorizedReduce(len(cols), len(rows), old.bn.affine, gated=old.gate is not None)
        if (new.conv_1.out_channels, new.conv_2.out_channels) != (len(r1), len(r2)):
            raise AssertionError("FactorizedReduce rows must keep its halves balanced")
        new = self.new(new, old)
        self.conv(new.conv_1, old.conv_1, r1, cols)
        self.conv(new.conv_2, old.conv_2, r2, cols)
        self.bn(new.bn, old.bn, rows)
        self.gate(new.gate, old.gate, rows)
        return new

    def preprocess(self, old: nn.Module, rows: Tensor, cols: Tensor) -> nn.Module:
        if isinstance(old, FactorizedReduce):
            return self.factorized_reduce(old, rows, cols)
        return self.relu_conv_bn(old, rows, cols)

    def sep(self, old: SepConv, src: Tensor, mid: Tensor, dst: Tensor) -> SepConv:
        d = old.dw1
        new = SepConv(len(src), len(mid), len(dst), d.kernel_size[0], d.stride[0], d.padding[0], old.bn1.affine,
                      old.units)  # fmt: skip
        new = self.new(new, old)
        self.conv(new.dw1, old.dw1, src, None)
        self.conv(new.pw1, old.pw1, mid, src)
        self.bn(new.bn1, old.bn1, mid)
        self.conv(new.dw2, old.dw2, mid, None)
        self.conv(new.pw2, old.pw2, dst, mid)
        self.bn(new.bn2, old.bn2, dst)
        self.gate(new.gate1, old.gate1, mid)
        self.gate(new.gate2, old.gate2, dst)
        return new

    def dil(self, old: DilConv, src: Tensor, dst: Tensor) -> DilConv:
        d = old.dw
        new = DilConv(len(src), len(dst), d.kernel_size[0], d.stride[0], d.padding[0], d.dilation[0], old.bn.affine,
                      old.units)  # fmt: skip
        new = self.new(new, old)
        self.conv(new.dw, old.dw, src, None)
        self.conv(new.pw, old.pw, dst, src)
        self.bn(new.bn, old.bn, dst)
        self.gate(new.gate, old.gate, dst)
        return new

    def pool(self, old: PoolBN, rows: Tensor) -> PoolBN:
        if not isinstance(old.bn, nn.BatchNorm2d):
            return old
        new = self.new(PoolBN(old.pool, len(rows), True, old.bn.affine), old)
        self.bn(new.bn, old.bn, rows)
        return new

    def linear(self, old: nn.Linear, cols: Tensor) -> nn.Linear:
        new = self.new(nn.Linear(len(cols), old.out_features, bias=old.bias is not None), old)
        self.param(new.weight, old.weight, (None, cols))
        self.param(new.bias, old.bias, (None,))
        return new

    def head_input(self, head: StageHead, cols: Tensor) -> None:
        old = head.features[0]
        new = self.new(nn.Conv2d(len(cols), old.out_channels, 1, bias=False), old)
        self.conv(new, old, torch.arange(old.out_channels), cols)
        head.features[0] = new


def _memory_format(net: Supernet) -> torch.memory_format:
    w = net.stem[0].weight
    return torch.channels_last if w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous() \
        else torch.contiguous_format  # fmt: skip


@torch.no_grad()
def shrink(
    net: Supernet, cell_widths: dict[int, int], mid_widths: dict[tuple[int, int, int], int] | None = None
) -> ParamMap:
    """Rebuild the cells in `cell_widths` so that all their nodes have that width, and each live sep op of them
    the mid width `mid_widths[(cell, edge, op)]` (default max(ceil_even(live mid), ceil_even(width)), capped at
    its current mid). Cells reading a shrunk cell, the classifier and the stage heads get their input columns
    sliced. Returns {old parameter: (new parameter, per-dim indices)} for `migrate_optimizer`."""
    mid_widths = dict(mid_widths or {})
    cells: list[SearchCell] = list(net.cells)
    for c, w in cell_widths.items():
        if not 0 <= c < len(cells):
            raise ValueError(f"no cell {c}: the net has {len(cells)}")
        if not 1 <= int(w) <= cells[c].channels:
            raise ValueError(f"cell {c}: width {w} must be in [1, {cells[c].channels}] (shrink never widens)")
    for (c, e, k), m in mid_widths.items():
        if c not in cell_widths:
            raise ValueError(f"mid width for ({c},{e},{k}): cell {c} is not being shrunk")
        op = cells[c].edges[e][k] if 0 <= e < len(cells[c].edges) and 0 <= k < cells[c].num_ops else None
        if not isinstance(op, SepConv) or k not in cells[c].live_ops[e]:
            raise ValueError(f"mid width for ({c},{e},{k}): not a live sep_conv")
        if not 1 <= int(m) <= op.pw1.out_channels:
            raise ValueError(f"mid width for ({c},{e},{k}): {m} not in [1, {op.pw1.out_channels}]")
    use_scores = net.config.units().filter
    ref = net.stem[0].weight
    rb = _Rebuilder(ref.device, ref.dtype, _memory_format(net))

    # 1. kept sets of every node of the shrunk cells, and each cell's output columns (None: unchanged)
    node_sets: dict[int, list[Tensor]] = {c: _node_sets(cells[c], int(w), use_scores) for c, w in cell_widths.items()}
    outputs: list[Tensor | None] = []
    for c, cell in enumerate(cells):
        if c in node_sets:
            outputs.append(torch.cat([(n - 2) * cell.channels + s for n, s in enumerate(node_sets[c]) if n >= 2]))
        else:
            outputs.append(None)

    def in_cols(c: int) -> tuple[Tensor | None, Tensor | None]:
        return (outputs[c - 2] if c >= 2 else None), (outputs[c - 1] if c >= 1 else None)

    # 2. rebuild
    for c, cell in enumerate(cells):
        cols0, cols1 = in_cols(c)
        sets = node_sets.get(c)
        if sets is None and cols0 is None and cols1 is None:
            continue
        cols0 = torch.arange(_in_width(cell.preprocess0)) if cols0 is None else cols0
        cols1 = torch.arange(_in_width(cell.preprocess1)) if cols1 is None else cols1
        full = torch.arange(cell.channels)
        rows0, rows1 = (sets[0], sets[1]) if sets is not None else (full, full)
        cell.preprocess0 = rb.preprocess(cell.preprocess0, rows0, cols0)
        cell.preprocess1 = rb.preprocess(cell.preprocess1, rows1, cols1)
        if sets is None:
            continue
        if cell.preprocess_gates is not None:
            for j in range(2):
                old = cell.preprocess_gates[j]
                new = rb.new(FilterGate(len(sets[j]), thresholded=old.thresholded), old)
                rb.gate(new, old, sets[j])
                cell.preprocess_gates[j] = new
        for e, src, n in _node_edges(cell):
            for k in cell.live_ops[e]:
                op = cell.edges[e][k]
                if isinstance(op, SepConv):
                    mid = mid_widths.get((c, e, k), _default_mid(op, len(sets[n])))
                    cell.edges[e][k] = rb.sep(op, sets[src], _mid_set(op, int(mid), use_scores), sets[n])
                elif isinstance(op, DilConv):
                    cell.edges[e][k] = rb.dil(op, sets[src], sets[n])
                elif isinstance(op, FactorizedReduce):
                    cell.edges[e][k] = rb.factorized_reduce(op, sets[n], sets[src])
                elif isinstance(op, PoolBN):
                    cell.edges[e][k] = rb.pool(op, sets[n])
        cell.channels = int(cell_widths[c])
        for e in range(len(cell.edges)):
            for k in cell.live_ops[e]:
                net.op_sizes[c, e, k] = float(live_weights(cell.edges[e][k]))

    # 3. readers of the last cells: classifier and stage heads
    last = len(cells) - 1
    if outputs[last] is not None:
        net.classifier = rb.linear(net.classifier, outputs[last])
    ends = net.config.stage_ends()
    for end, head in ((ends[0], net.aux_head1), (ends[1], net.aux_head2)):
        if head is not None and 0 <= end < len(cells) and outputs[end] is not None:
            rb.head_input(head, outputs[end])
    return rb.mapping


def _in_width(pre: nn.Module) -> int:
    return pre.conv_1.in_channels if isinstance(pre, FactorizedReduce) else pre.conv.in_channels


# -- optimizers -----------------------------------------------------------------------------------------------
def _migrate_state(state: dict[str, Any], old: Tensor, idx: Index) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, Tensor) and value.shape == old.shape and value.dim() > 0:
            out[key] = _take(value, idx).clone()
        else:
            out[key] = value
    return out


def migrate_optimizer(opt: torch.optim.Optimizer, mapping: ParamMap) -> torch.optim.Optimizer:
    """A new optimizer of the same type and groups, with every mapped parameter replaced by its new one and its
    state (momentum buffer) sliced the same way; unmapped parameters keep their state (SPEC §8.1 item 8)."""
    groups = []
    for group in opt.param_groups:
        g = {k: v for k, v in group.items() if k != "params"}
        g["params"] = [mapping[p][0] if p in mapping else p for p in group["params"]]
        groups.append(g)
    new = type(opt)(groups, **opt.defaults)
    for group in opt.param_groups:
        for p in group["params"]:
            if p not in opt.state:
                continue
            if p in mapping:
                q, idx = mapping[p]
                new.state[q] = _migrate_state(opt.state[p], p, idx)
            else:
                new.state[p] = opt.state[p]
    return new


def rebuild_optimizer(
    old: torch.optim.SGD, params: list[nn.Parameter], mapping: ParamMap | None = None
) -> torch.optim.SGD:
    """A new single-group SGD over `params` (e.g. net.weight_parameters() after a shrink or regrow) with the
    hyper-parameters of `old`'s first group; momentum is kept for parameters `old` held and sliced for those
    `mapping` rebuilt. Parameters that are new (regrown modules) start without state."""
    group = old.param_groups[0]
    new = torch.optim.SGD(params, lr=group["lr"], momentum=group["momentum"], weight_decay=group["weight_decay"],
                          dampening=group["dampening"], nesterov=group["nesterov"])  # fmt: skip
    back = {id(q): (p, idx) for p, (q, idx) in (mapping or {}).items()}
    for q in params:
        if q in old.state:
            new.state[q] = old.state[q]
        elif id(q) in back:
            p, idx = back[id(q)]
            if p in old.state:
                new.state[q] = _migrate_state(old.state[p], p, idx)
    return new


# -- reloading ------------------------------------------------------------------------------------------------
def widths_record(net: Supernet) -> dict[str, Any]:
    """What `build_at_widths` needs to rebuild this net's shapes (JSON-able): node width per cell, mid width per
    live sep op ("cell,edge,op"), and the committed op mask."""
    mids = {f"{c},{e},{k}": op.pw1.out_channels for c, cell in enumerate(net.cells)
            for e, ops in enumerate(cell.edges) for k, op in enumerate(ops)
            if k in cell.live_ops[e] and isinstance(op, SepConv)}  # fmt: skip
    return {
        "cell_widths": [cell.channels for cell in net.cells],
        "sep_mid": mids,
        "committed": net.committed.cpu().tolist(),
    }


def build_at_widths(config: SupernetConfig, record: dict[str, Any]) -> Supernet:
    """A fresh Supernet with the shapes recorded by `widths_record` (pruned ops Zero, cells and sep mids at their
    widths), so that a state_dict saved after a shrink loads strictly. Weights are placeholders until then;
    op_sizes follow the loaded masks after `net.refresh_op_sizes()`."""
    net = Supernet(config)
    net.set_op_mask(torch.tensor(record["committed"], dtype=net.committed.dtype))
    cells = {c: int(w) for c, w in enumerate(record["cell_widths"])}  # every cell: also mids of full-width cells
    mids = {tuple(int(v) for v in key.split(",")): int(m) for key, m in record["sep_mid"].items()}
    shrink(net, cells, mids)  # type: ignore[arg-type]
    return net
