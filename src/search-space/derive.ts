// Derives the exported architecture (architecture.json) from the committed op mask (SPEC §5.1):
// every surviving op on every edge is kept; node outputs are plain sums.
import type { NdArray } from '../runtime/ndarray.js';
import type { MobileNetOpName, OpName, SearchSpaceName } from '../runtime/protocol.js';
import { OPS } from './ops.js';
import { cellEdges, edgeStride, planCells } from './darts-like.js';

export const ARCHITECTURE_FORMAT = 'mgdarts.architecture/1';

export interface ArchitectureOp {
  op: OpName | MobileNetOpName;
  edge: number;
  from: number;
  to: number;
  widths: number[];
}

export interface ArchitectureCell {
  index: number;
  reduction: boolean;
  channels: number;
  input_widths: number[];
  node_widths: number[];
  ops: ArchitectureOp[];
  /** mobilenet_like: the layer's stride (its cells are one-edge layers, input_widths [C_in], node_widths [C_out]). */
  stride?: number;
}

export interface Architecture {
  format: typeof ARCHITECTURE_FORMAT;
  search_space: SearchSpaceName;
  in_channels: number;
  num_classes: number;
  channels: number;
  stem_stride: number;
  layers: number;
  nodes: number;
  cells: ArchitectureCell[];
  /** mobilenet_like: width of the 1×1 conv head before the pool (`channels` is then the stem width). */
  head_channels?: number;
}

export interface SpaceShape {
  in_channels: number;
  num_classes: number;
  channels: number;
  layers: number;
  nodes: number;
  stem_stride: number;
  ops: readonly OpName[];
}

/** A searched cell's physical shape after the shrinks (SPEC §4.5): one width for all its nodes, and the middle
 * width of each live sep_conv, keyed "edge,op". */
export interface CellShape {
  width: number;
  sepMid: Record<string, number>;
}

/**
 * `opMask` is the committed mask, uint8 (layers, edges, ops); `shapes` the cells' widths after the shrinks
 * (default: nominal). A sep_conv lists [in, mid, out], a dil_conv [in, out], the others [width] (SPEC §5.1).
 */
export function deriveArchitecture(space: SpaceShape, opMask: NdArray, shapes?: readonly CellShape[]): Architecture {
  const edges = cellEdges(space.nodes);
  const cells = planCells(space.layers, space.channels).map((cell): ArchitectureCell => {
    const shape = shapes?.[cell.index];
    const w = shape?.width ?? cell.channels;
    const ops: ArchitectureOp[] = [];
    for (const edge of edges) {
      space.ops.forEach((name, k) => {
        if (!opMask.at(cell.index, edge.index, k)) return;
        const widths = OPS[name].widths(w);
        const mid = shape?.sepMid[`${edge.index},${k}`];
        const at = OPS[name].midWidth;
        if (at !== null && mid !== undefined) widths[at] = mid;
        ops.push({ op: name, edge: edge.index, from: edge.from, to: edge.to, widths });
      });
    }
    return { index: cell.index, reduction: cell.reduction, channels: cell.channels, input_widths: [w, w], node_widths: Array(space.nodes).fill(w), ops };
  });
  return { format: ARCHITECTURE_FORMAT, search_space: 'darts_like', ...pick(space), cells };
}

function pick(s: SpaceShape) {
  return { in_channels: s.in_channels, num_classes: s.num_classes, channels: s.channels, stem_stride: s.stem_stride, layers: s.layers, nodes: s.nodes };
}

/** Output channels of the stem: 3·C in the DARTS-like space; the MobileNet-like one stores its stem width as C. */
export function stemWidth(arch: Architecture): number {
  return arch.search_space === 'mobilenet_like' ? arch.channels : 3 * arch.channels;
}

/** The reference's size counter (SPEC §3.4) over the live ops of a mask, at nominal widths. */
export function countedSize(space: Pick<SpaceShape, 'channels' | 'layers' | 'nodes' | 'ops'>, opMask: NdArray): number {
  const edges = cellEdges(space.nodes);
  let total = 0;
  for (const cell of planCells(space.layers, space.channels)) {
    for (const edge of edges) {
      space.ops.forEach((name, k) => {
        if (opMask.at(cell.index, edge.index, k)) total += OPS[name].countedCost(cell.channels, edgeStride(cell, edge));
      });
    }
  }
  return total;
}

/** Ops per family in an architecture, for summaries. */
export function opCounts(arch: Architecture): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const cell of arch.cells) for (const op of cell.ops) counts[op.op] = (counts[op.op] ?? 0) + 1;
  return counts;
}
