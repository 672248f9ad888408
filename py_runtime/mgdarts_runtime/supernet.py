"""The DARTS-like search super-net: per-cell α and thresholds at three granularities, committed masks, stage
heads (SPEC §1.1, §2, §3, §4.1)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .heads import stage_head
from .masks import edge_node_membership, guarded_op_masks, num_edges
from .ops import PRIMITIVES, counted_weights, live_weights
from .search_cell import SearchCell
from .units import GRANULARITIES, FilterGate, UnitOp, Units, sum_counts

__all__ = ["PRUNED_ALPHA_SHIFT", "SearchCell", "Supernet", "SupernetConfig"]

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
    granularities: frozenset[str] = frozenset({"operation"})  # any non-empty subset of GRANULARITIES (SPEC §2)
    stage_heads: bool = False  # build aux heads 1 and 2 for forward(x, last_cell) at stage ends (SPEC §4.1)

    def __post_init__(self) -> None:
        chosen = frozenset(self.granularities)
        unknown = sorted(chosen - set(GRANULARITIES))
        if not chosen or unknown:
            raise ValueError(f"granularities must be a non-empty subset of {list(GRANULARITIES)}, got {sorted(chosen)}")
        object.__setattr__(self, "granularities", chosen)

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

    def stage_ends(self) -> tuple[int, int, int]:
        """Last cell of stages 1, 2, 3: L//3 - 1, 2L//3 - 1, L - 1 (SPEC §1.1); -1 means an empty stage (L < 3)."""
        return self.layers // 3 - 1, 2 * self.layers // 3 - 1, self.layers - 1

    def units(self) -> Units:
        return Units.of(self.granularities)


class Supernet(nn.Module):
    """Stem, L search cells with their own architecture tensors, global pool + linear (SPEC §1.1).

    Thresholds are (L, E, K) Parameters, one scalar per (cell, edge, op) and level: t_op always, t_filter and
    t_weight with those levels (used by sep/dil ops only), plus (L, 2) preprocess filter thresholds.
    """

    space = "darts_like"  # the key of its builders in spaces.SPACES

    def __init__(self, config: SupernetConfig) -> None:
        super().__init__()
        self.config = config
        cfg, c, units = config, config.channels, config.units()
        self.has_op_level = "operation" in cfg.granularities
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, 3 * c, 3, cfg.stem_stride, 1, bias=False), nn.BatchNorm2d(3 * c)
        )
        reductions = set(cfg.reduction_cells())
        c_pp, c_p, cells, widths = 3 * c, 3 * c, [], []
        for i, c_cell in enumerate(cfg.cell_channels()):
            cells.append(
                SearchCell(c_pp, c_p, c_cell, i in reductions, i - 1 in reductions, cfg.ops, cfg.nodes, units)
            )
            c_pp, c_p = c_p, cfg.nodes * c_cell
            widths.append(c_p)
        self.cells = nn.ModuleList(cells)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, cfg.num_classes)
        shape = (cfg.layers, num_edges(cfg.nodes), len(cfg.ops))  # (L, E, K)
        self.alphas = nn.Parameter(torch.zeros(shape), requires_grad=self.has_op_level)
        self.op_thresholds = nn.Parameter(torch.zeros(shape), requires_grad=self.has_op_level)
        self.register_buffer("committed", torch.ones(shape))
        sizes = [[[float(live_weights(op)) for op in ops] for ops in cl.edges] for cl in cells]
        self.register_buffer("op_sizes", torch.tensor(sizes), persistent=False)  # (L, E, K) size_o, live weights
        self.filter_thresholds = nn.Parameter(torch.zeros(shape)) if units.filter else None  # (L, E, K)
        self.preprocess_thresholds = nn.Parameter(torch.zeros(cfg.layers, 2)) if units.filter else None  # (L, 2)
        self.weight_thresholds = nn.Parameter(torch.zeros(shape)) if units.weight else None  # (L, E, K)
        has_units = [[[float(isinstance(op, UnitOp)) for op in ops] for ops in cl.edges] for cl in cells]
        self.register_buffer("has_units", torch.tensor(has_units), persistent=False)  # (L, E, K) 1 for sep/dil
        # Built last so that every other parameter draws the same random numbers as without heads.
        ends = cfg.stage_ends()
        self.aux_head1 = stage_head(1, widths[ends[0]], cfg.num_classes) if cfg.stage_heads and ends[0] >= 0 else None
        self.aux_head2 = (
            stage_head(2, widths[ends[1]], cfg.num_classes) if cfg.stage_heads and 0 <= ends[1] < ends[2] else None
        )

    # -- architecture tensors -------------------------------------------------------------------------------
    def op_weights(self) -> Tensor:
        """sigmoid(α), independent per op (SPEC §2): (L, E, K)."""
        return torch.sigmoid(self.alphas)

    def op_masks(self) -> Tensor:
        """Guarded dynamic masks of every cell (SPEC §3.2): (L, E, K); the committed mask without the op level."""
        return self._op_masks(self.op_weights())

    def _op_masks(self, weights: Tensor) -> Tensor:
        if not self.has_op_level:
            return self.committed
        return guarded_op_masks(weights, self.op_thresholds, self.committed, self.config.nodes)

    def filter_gates(self) -> list[FilterGate]:
        """Every filter gate of the net: preprocess, live sep/dil ops and stride-2 skips."""
        return [m for m in self.modules() if isinstance(m, FilterGate)]

    def arch_parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """The optimizer groups of SPEC §2.1; a group of a granularity that is off is empty."""
        op_level = self.has_op_level
        filter_thr = [t for t in (self.filter_thresholds, self.preprocess_thresholds) if t is not None]
        return {
            "alpha": [self.alphas] if op_level else [],
            "op_threshold": [self.op_thresholds] if op_level else [],
            "filter_score": [g.score for g in self.filter_gates()],
            "filter_threshold": filter_thr,
            "weight_threshold": [self.weight_thresholds] if self.weight_thresholds is not None else [],
        }

    def weight_parameters(self) -> list[nn.Parameter]:
        """Network weights: everything but α and the scores and thresholds (the stage heads included)."""
        arch = {id(self.alphas), id(self.op_thresholds)}
        arch |= {id(p) for group in self.arch_parameter_groups().values() for p in group}
        return [p for p in self.parameters() if id(p) not in arch]

    def _thresholds(self) -> list[Tensor]:
        return [t for t in (self.op_thresholds, self.filter_thresholds, self.preprocess_thresholds,
                            self.weight_thresholds) if t is not None]  # fmt: skip

    def reset_thresholds(self) -> None:
        """Thresholds back to 0 at each stage start and at the final phase (SPEC §2 notes)."""
        with torch.no_grad():
            for t in self._thresholds():
                t.zero_()

    # -- forward ------------------------------------------------------------------------------------------
    def _head_after(self, last_cell: int | None) -> tuple[int, nn.Module | None]:
        """(last cell to run, its stage head or None for the classifier); rejects cells without a head."""
        last = self.config.layers - 1
        if last_cell is None or last_cell == last:
            return last, None
        heads = {end: h for end, h in zip(self.config.stage_ends(), (self.aux_head1, self.aux_head2)) if h is not None}
        if last_cell not in heads:
            ends = self.config.stage_ends()
            why = "" if self.config.stage_heads else " (the supernet was built without stage_heads)"
            raise ValueError(f"no head after cell {last_cell}: stage ends are {list(ends)}{why}")
        return last_cell, heads[last_cell]

    def _cell_thresholds(self, i: int) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        """(t_filter (E, K), t_weight (E, K), t_preprocess (2,)) of cell i; None where the level is off."""
        pick = lambda t: None if t is None else t[i]  # noqa: E731
        return pick(self.filter_thresholds), pick(self.weight_thresholds), pick(self.preprocess_thresholds)

    def forward(self, x: Tensor, last_cell: int | None = None) -> Tensor:
        """Logits of the main classifier, or with `last_cell` at a stage end those of that stage's aux head; the
        cells after `last_cell` are not run (SPEC §4.1)."""
        end, head = self._head_after(last_cell)
        weights = self.op_weights()
        masks = self._op_masks(weights)  # (L, E, K)
        units = self.config.units().any
        s0 = s1 = self.stem(x)
        for i in range(end + 1):
            cell = self.cells[i]
            if units:
                s0, s1 = s1, cell(s0, s1, weights[i], masks[i], *self._cell_thresholds(i))
            else:
                s0, s1 = s1, cell(s0, s1, weights[i], masks[i])
        if head is not None:
            return head(s1)  # (N, classes)
        return self.classifier(self.global_pool(s1).flatten(1))  # (N, classes)

    # -- regulariser (SPEC §2.1) --------------------------------------------------------------------------
    def regularizer(
        self, mu: float = 0.0, reg: float = 1.0, cells: range | None = None, thr_cells: range | None = None
    ) -> tuple[Tensor, Tensor]:
        """(R_op over `cells`, R_thr over `thr_cells`); both default to all cells, `thr_cells` to `cells`. In a
        stage R_op covers the stage's own cells and R_thr every cell that is run (SPEC §4.1).

        R_op = Σ_n Σ_{live o→n} (reg + μ·size_o) · log(1 + N_n·sigmoid(α_o)/S_n), S_n = Σ sigmoid(α) of all
        ops into n, N_n = live ops into n taken from n's own edge slice (SPEC §2.1, §7.4 bug 6); size_o = the op's
        live weights (filter and weight masks as committed). 0 without the operation level.
        R_thr = Σ exp(-t) over the live ops: t_op, and for sep/dil also t_filter and t_weight, plus each cell's two
        preprocess filter thresholds; only the levels that are on.
        """
        sel = slice(None) if cells is None else slice(cells.start, cells.stop, cells.step)
        thr_cells = cells if thr_cells is None else thr_cells
        tsel = slice(None) if thr_cells is None else slice(thr_cells.start, thr_cells.stop, thr_cells.step)
        live, tlive = self.committed[sel], self.committed[tsel]  # (C, E, K)
        if self.has_op_level:
            w = torch.sigmoid(self.alphas[sel])  # (C, E, K)
            member = edge_node_membership(self.config.nodes, w.device).to(w.dtype)  # (E, N)
            node = member.argmax(dim=1)  # (E,)
            s_n = torch.einsum("cek,en->cn", w, member).index_select(1, node)[..., None]  # (C, E, 1) S of e's node
            n_n = torch.einsum("cek,en->cn", live, member).index_select(1, node)[..., None]  # (C, E, 1)
            factor = reg + mu * self.op_sizes[sel] if mu != 0.0 else reg
            r_op = (factor * torch.log1p(n_n * w / s_n) * live).sum()
            r_thr = (torch.exp(-self.op_thresholds[tsel]) * tlive).sum()
        else:
            r_op = r_thr = live.new_zeros(())
        if self.config.units().any:
            unit_live = tlive * self.has_units[tsel]  # (C, E, K) live sep/dil ops
            for t in (self.filter_thresholds, self.weight_thresholds):
                if t is not None:
                    r_thr = r_thr + (torch.exp(-t[tsel]) * unit_live).sum()
            if self.preprocess_thresholds is not None:
                r_thr = r_thr + torch.exp(-self.preprocess_thresholds[tsel]).sum()
        return r_op, r_thr

    # -- commit and prune (SPEC §3.2) ---------------------------------------------------------------------
    @torch.no_grad()
    def commit_op_masks(self) -> int:
        """committed ← committed · (mask > 0); prune the ops that just went to 0. Returns their count."""
        new = self.committed * (self.op_masks() > 0).to(self.committed.dtype)
        return self._apply_committed(new, shift_alphas=True)

    @torch.no_grad()
    def commit_masks(self) -> dict[str, int]:
        """Commit the op, filter and weight masks together (SPEC §3.2): ops are pruned first, then the filter and
        weight masks of the ops that stay live (and of the preprocess layers) are ANDed in. Returns the counts
        {"operation": ops pruned, "filter": filters newly masked, "weight": weights newly masked}."""
        ops_pruned = self.commit_op_masks() if self.has_op_level else 0
        filters: list[Tensor] = []
        weights: list[Tensor] = []
        for i, cell in enumerate(self.cells):
            f, w = cell.commit_units(*self._cell_thresholds(i))
            filters += f
            weights += w
        self.refresh_op_sizes()
        newly_filters, newly_weights = sum_counts(filters, weights)  # one host sync, at commit time
        return {"operation": ops_pruned, "filter": newly_filters, "weight": newly_weights}

    @torch.no_grad()
    def refresh_op_sizes(self) -> None:
        """size_o follows the committed filter/weight masks; called by commit_masks, and to be called after
        load_state_dict on resume (op_sizes is not saved)."""
        if not self.config.units().any:
            return
        for layer, cell in enumerate(self.cells):
            for e, k, op in cell.unit_ops():
                self.op_sizes[layer, e, k] = live_weights(op)

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

    # -- statistics -----------------------------------------------------------------------------------------
    def live_op_count(self) -> int:
        return sum(len(ops) for cell in self.cells for ops in cell.live_ops)

    def size_counted(self) -> int:
        """The reference size counter (SPEC §3.4, §8.1 item 9) in raw counts, over the live ops of every cell."""
        return sum(self.cell_sizes())

    def cell_sizes(self) -> list[int]:
        """The reference size counter per cell, so a stage can sum the cells up to its end (SPEC §3.4).

        sep/dil: all weights of the first depthwise conv plus, for each later layer, weights per filter × committed
        filters (weight masks ignored); c² for each FactorizedReduce skip, which only exists on stride-2 edges of
        the real reduction cells (no bug 13). Preprocess, stem, BNs, heads and classifier are not counted.
        """
        parts = [[counted_weights(cell.edges[e][k]) for e in range(len(cell.edges)) for k in cell.live_ops[e]]
                 for cell in self.cells]  # fmt: skip
        return sum_counts(*parts)

    def unit_counts(self) -> dict[str, tuple[int, int]]:
        """Retention per level as (committed, total): ops of the whole net; filters (sep/dil pointwise layers and
        preprocess layers) and weights (sep/dil convs) of the live ops only. Levels that are off count as kept."""
        filters: list[tuple[Tensor | int, int]] = []
        weights: list[tuple[Tensor | int, int]] = []
        for cell in self.cells:
            filters.append(cell.preprocess_filter_units())
            for _, _, op in cell.unit_ops():
                filters.append(op.filter_units())
                weights.append(op.weight_units())
        f_live, w_live = sum_counts([f for f, _ in filters], [w for w, _ in weights])
        return {
            "operation": (self.live_op_count(), self.committed.numel()),
            "filter": (f_live, sum(t for _, t in filters)),
            "weight": (w_live, sum(t for _, t in weights)),
        }

