"""The DARTS-like search super-net with per-cell α, op thresholds and committed op masks (SPEC §1.1, §2, §3)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .masks import edge_node_membership, guarded_op_masks, node_edge_slices, num_edges
from .ops import PRIMITIVES, FactorizedReduce, ReLUConvBN, Zero, build_op, conv_weight_count

PRUNED_ALPHA_SHIFT = 10000.0  # SPEC §3.2: a pruned op's α is moved down by this much


@dataclass(frozen=True)
class SupernetConfig:
    in_channels: int
    num_classes: int
    channels: int
    layers: int
    stem_stride: int = 1
    nodes: int = 4
    ops: tuple[str, ...] = PRIMITIVES
    reductions: tuple[int, ...] | None = None  # the controller's plan; None: the rule below

    def reduction_cells(self) -> tuple[int, ...]:
        """Cells L//3 and 2L//3 (SPEC §1.1), without duplicates: L=1 → (0,), L=2 → (0, 1)."""
        if self.reductions is not None:
            return tuple(sorted(self.reductions))
        return tuple(sorted({self.layers // 3, 2 * self.layers // 3}))

    def cell_channels(self) -> tuple[int, ...]:
        """Per-cell C: doubles at each reduction cell."""
        reductions, c, out = set(self.reduction_cells()), self.channels, []
        for i in range(self.layers):
            c = c * 2 if i in reductions else c
            out.append(c)
        return tuple(out)


def _empty_node(s: Tensor, width: int, stride: int) -> Tensor:
    """Zeros standing in for a node with no ops: (N, width, ⌈H/stride⌉, ⌈W/stride⌉)."""
    n, _, h, w = s.shape
    return s.new_zeros(n, width, -(-h // stride), -(-w // stride))


class SearchCell(nn.Module):
    """One searched cell: preprocess, 14 edges × K ops, node = Σ sigmoid(α)·mask·op (SPEC §1.1, §2)."""

    def __init__(
        self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, ops: tuple[str, ...], nodes: int
    ) -> None:
        super().__init__()
        self.reduction, self.channels, self.num_ops = reduction, c, len(ops)
        pre0: nn.Module = FactorizedReduce(c_pp, c, False) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.preprocess0 = pre0
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self.node_slices = node_edge_slices(nodes)
        # stride 2 on the edges leaving the two cell inputs of a reduction cell
        self.edge_strides = [
            2 if reduction and e - s.start < 2 else 1 for s in self.node_slices for e in range(s.start, s.stop)
        ]
        self.edges = nn.ModuleList(
            nn.ModuleList(build_op(name, c, stride, search=True) for name in ops) for stride in self.edge_strides
        )
        self.live_ops: list[list[int]] = [list(range(len(ops))) for _ in self.edge_strides]  # host-side live set

    def prune(self, edge: int, op: int) -> None:
        """Replace an op by Zero (freeing its parameters) and drop it from the live set."""
        self.edges[edge][op] = Zero(self.edge_strides[edge])
        self.live_ops[edge] = [k for k in self.live_ops[edge] if k != op]

    def forward(self, s0: Tensor, s1: Tensor, weights: Tensor, masks: Tensor) -> Tensor:
        """weights, masks: (E, K). Pruned ops are not run at all (SPEC §3.2)."""
        gate = (weights * masks).reshape(-1).unbind(0)  # E·K scalars, edge-major
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        stride = 2 if self.reduction else 1
        for node in self.node_slices:
            acc: Tensor | None = None
            for e in range(node.start, node.stop):
                h, ops = states[e - node.start], self.edges[e]
                for k in self.live_ops[e]:
                    y = ops[k](h) * gate[e * self.num_ops + k]
                    acc = y if acc is None else acc + y
            states.append(acc if acc is not None else _empty_node(states[1], self.channels, stride))
        return torch.cat(states[2:], dim=1)  # (N, nodes·C, H', W')


class Supernet(nn.Module):
    """Stem, L search cells with their own architecture tensors, global pool + linear (SPEC §1.1)."""

    def __init__(self, config: SupernetConfig) -> None:
        super().__init__()
        self.config = config
        cfg, c = config, config.channels
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, 3 * c, 3, cfg.stem_stride, 1, bias=False), nn.BatchNorm2d(3 * c)
        )
        reductions = set(cfg.reduction_cells())
        c_pp, c_p, cells = 3 * c, 3 * c, []
        for i, c_cell in enumerate(cfg.cell_channels()):
            cells.append(SearchCell(c_pp, c_p, c_cell, i in reductions, i - 1 in reductions, cfg.ops, cfg.nodes))
            c_pp, c_p = c_p, cfg.nodes * c_cell
        self.cells = nn.ModuleList(cells)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, cfg.num_classes)
        shape = (cfg.layers, num_edges(cfg.nodes), len(cfg.ops))  # (L, E, K)
        self.alphas = nn.Parameter(torch.zeros(shape))
        self.op_thresholds = nn.Parameter(torch.zeros(shape))
        self.register_buffer("committed", torch.ones(shape))
        sizes = [[[float(sum(p.numel() for p in op.parameters())) for op in ops] for ops in cl.edges] for cl in cells]
        self.register_buffer("op_sizes", torch.tensor(sizes), persistent=False)  # (L, E, K) size_o = params of op

    # -- architecture tensors -------------------------------------------------------------------------------
    def op_weights(self) -> Tensor:
        """sigmoid(α), independent per op (SPEC §2): (L, E, K)."""
        return torch.sigmoid(self.alphas)

    def op_masks(self) -> Tensor:
        """Guarded dynamic masks of every cell (SPEC §3.2): (L, E, K)."""
        return guarded_op_masks(self.op_weights(), self.op_thresholds, self.committed, self.config.nodes)

    def weight_parameters(self) -> list[nn.Parameter]:
        arch = {id(self.alphas), id(self.op_thresholds)}
        return [p for p in self.parameters() if id(p) not in arch]

    def arch_parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"alpha": [self.alphas], "op_threshold": [self.op_thresholds]}

    def reset_thresholds(self) -> None:
        """Thresholds back to 0 at each stage start and at the final phase (SPEC §2 notes)."""
        with torch.no_grad():
            self.op_thresholds.zero_()

    # -- forward ------------------------------------------------------------------------------------------
    def forward(self, x: Tensor, last_cell: int | None = None) -> Tensor:
        if last_cell is not None and last_cell < self.config.layers - 1:
            raise NotImplementedError("stage heads come with multi-stage search")
        weights = self.op_weights()
        masks = guarded_op_masks(weights, self.op_thresholds, self.committed, self.config.nodes)  # (L, E, K)
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, weights[i], masks[i])
        return self.classifier(self.global_pool(s1).flatten(1))  # (N, classes)

    # -- regulariser (SPEC §2.1) --------------------------------------------------------------------------
    def regularizer(
        self, mu: float = 0.0, reg: float = 1.0, cells: range | None = None
    ) -> tuple[Tensor, Tensor]:
        """(R_op, R_thr) over `cells` (default all).

        R_op = Σ_n Σ_{live o→n} (reg + μ·size_o) · log(1 + N_n·sigmoid(α_o)/S_n), S_n = Σ sigmoid(α) of all
        ops into n, N_n = live ops into n taken from n's own edge slice (SPEC §2.1, §7.4 bug 6).
        R_thr = Σ exp(-t_op) over the live ops.
        """
        sel = slice(None) if cells is None else slice(cells.start, cells.stop, cells.step)
        w = torch.sigmoid(self.alphas[sel])  # (C, E, K)
        live = self.committed[sel]  # (C, E, K)
        member = edge_node_membership(self.config.nodes, w.device).to(w.dtype)  # (E, N)
        node = member.argmax(dim=1)  # (E,)
        s_n = torch.einsum("cek,en->cn", w, member).index_select(1, node)[..., None]  # (C, E, 1) S of e's node
        n_n = torch.einsum("cek,en->cn", live, member).index_select(1, node)[..., None]  # (C, E, 1)
        factor = reg + mu * self.op_sizes[sel] if mu != 0.0 else reg
        r_op = (factor * torch.log1p(n_n * w / s_n) * live).sum()
        r_thr = (torch.exp(-self.op_thresholds[sel]) * live).sum()
        return r_op, r_thr

    # -- commit and prune (SPEC §3.2) ---------------------------------------------------------------------
    @torch.no_grad()
    def commit_op_masks(self) -> int:
        """committed ← committed · (mask > 0); prune the ops that just went to 0. Returns their count."""
        new = self.committed * (self.op_masks() > 0).to(self.committed.dtype)
        return self._apply_committed(new, shift_alphas=True)

    @torch.no_grad()
    def set_op_mask(self, mask: Tensor, *, shift_alphas: bool = False) -> int:
        """Restore a committed (L, E, K) mask, pruning its zeros; call before load_state_dict on resume.

        α is left alone by default because a checkpoint's α already carries the -10000 shift.
        """
        mask = mask.to(self.committed)
        if mask.shape != self.committed.shape:
            raise ValueError(f"op mask shape {tuple(mask.shape)} != {tuple(self.committed.shape)}")
        if bool(((mask > 0) & (self.committed == 0)).any()):
            raise ValueError("set_op_mask cannot revive pruned ops (regrowth is a separate step)")
        return self._apply_committed((mask > 0).to(mask.dtype), shift_alphas=shift_alphas)

    def _apply_committed(self, new: Tensor, *, shift_alphas: bool) -> int:
        pruned = ((self.committed > 0) & (new == 0)).nonzero().tolist()  # host sync: only at commit time
        for layer, edge, op in pruned:
            self.cells[layer].prune(edge, op)
            self.op_sizes[layer, edge, op] = 0.0
            if shift_alphas:
                self.alphas[layer, edge, op] -= PRUNED_ALPHA_SHIFT
        self.committed.copy_(new)
        return len(pruned)

    def live_op_count(self) -> int:
        return sum(len(ops) for cell in self.cells for ops in cell.live_ops)

    def size_counted(self) -> int:
        """The reference size counter (SPEC §3.4, §8.1 item 9) in raw counts: conv weights of live ops.

        That is every weight of sep/dil convs (all filters are active at op level) plus c² for each
        FactorizedReduce skip, which only exists on stride-2 edges of the real reduction cells (no bug 13).
        """
        total = 0
        for cell in self.cells:
            for e, ops in enumerate(cell.edges):
                total += sum(conv_weight_count(ops[k]) for k in cell.live_ops[e])
        return total
