"""Test oracle: the operation-level search super-net as it was before the filter/weight levels and stage heads
(frozen copy of its construction, forward and op commit). With granularities {"operation"} the real Supernet
must match it bit for bit: same parameters in the same order, same random draws, same logits."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from mgdarts_runtime.masks import guarded_op_masks, node_edge_slices, num_edges
from mgdarts_runtime.ops import FactorizedReduce, ReLUConvBN, Zero, build_op


class LegacyCell(nn.Module):
    def __init__(self, c_pp, c_p, c, reduction, reduction_prev, ops, nodes) -> None:
        super().__init__()
        self.reduction, self.channels, self.num_ops = reduction, c, len(ops)
        self.preprocess0 = FactorizedReduce(c_pp, c, False) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self.node_slices = node_edge_slices(nodes)
        self.edge_strides = [
            2 if reduction and e - s.start < 2 else 1 for s in self.node_slices for e in range(s.start, s.stop)
        ]
        self.edges = nn.ModuleList(
            nn.ModuleList(build_op(name, c, stride, search=True) for name in ops) for stride in self.edge_strides
        )
        self.live_ops = [list(range(len(ops))) for _ in self.edge_strides]

    def forward(self, s0: Tensor, s1: Tensor, weights: Tensor, masks: Tensor) -> Tensor:
        gate = (weights * masks).reshape(-1).unbind(0)
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        stride = 2 if self.reduction else 1
        for node in self.node_slices:
            acc = None
            for e in range(node.start, node.stop):
                h, ops = states[e - node.start], self.edges[e]
                for k in self.live_ops[e]:
                    y = ops[k](h) * gate[e * self.num_ops + k]
                    acc = y if acc is None else acc + y
            if acc is None:
                n, _, hh, ww = states[1].shape
                acc = states[1].new_zeros(n, self.channels, -(-hh // stride), -(-ww // stride))
            states.append(acc)
        return torch.cat(states[2:], dim=1)


class LegacySupernet(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        c = cfg.channels
        self.nodes = cfg.nodes
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, 3 * c, 3, cfg.stem_stride, 1, bias=False), nn.BatchNorm2d(3 * c)
        )
        reductions = set(cfg.reduction_cells())
        c_pp, c_p, cells = 3 * c, 3 * c, []
        for i, c_cell in enumerate(cfg.cell_channels()):
            cells.append(LegacyCell(c_pp, c_p, c_cell, i in reductions, i - 1 in reductions, cfg.ops, cfg.nodes))
            c_pp, c_p = c_p, cfg.nodes * c_cell
        self.cells = nn.ModuleList(cells)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, cfg.num_classes)
        shape = (cfg.layers, num_edges(cfg.nodes), len(cfg.ops))
        self.alphas = nn.Parameter(torch.zeros(shape))
        self.op_thresholds = nn.Parameter(torch.zeros(shape))
        self.register_buffer("committed", torch.ones(shape))

    def forward(self, x: Tensor) -> Tensor:
        weights = torch.sigmoid(self.alphas)
        masks = guarded_op_masks(weights, self.op_thresholds, self.committed, self.nodes)
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, weights[i], masks[i])
        return self.classifier(self.global_pool(s1).flatten(1))

    @torch.no_grad()
    def commit_op_masks(self) -> int:
        masks = guarded_op_masks(torch.sigmoid(self.alphas), self.op_thresholds, self.committed, self.nodes)
        new = self.committed * (masks > 0).to(self.committed.dtype)
        pruned = ((self.committed > 0) & (new == 0)).nonzero().tolist()
        for layer, edge, op in pruned:
            cell = self.cells[layer]
            cell.edges[edge][op] = Zero(cell.edge_strides[edge])
            cell.live_ops[edge] = [k for k in cell.live_ops[edge] if k != op]
            self.alphas[layer, edge, op] -= 10000.0
        self.committed.copy_(new)
        return len(pruned)
