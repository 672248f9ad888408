// The DARTS-like space of SPEC §1.1: cells with two inputs and four intermediate nodes, 14 edges,
// reduction cells at L//3 and 2L//3, channels doubling there. Every cell has its own architecture.

export interface Edge {
  index: number;
  /** Source node: 0 and 1 are the cell inputs, 2.. the intermediate nodes. */
  from: number;
  to: number;
}

export interface CellPlan {
  index: number;
  reduction: boolean;
  channels: number;
  /** The previous cell was a reduction cell (its s0 input is then a FactorizedReduce). */
  reductionPrev: boolean;
}

/** Edges in index order: node 2 = edges 0–1, node 3 = 2–4, node 4 = 5–8, node 5 = 9–13. */
export function cellEdges(nodes = 4): Edge[] {
  const edges: Edge[] = [];
  for (let i = 0; i < nodes; i++) {
    for (let from = 0; from < i + 2; from++) edges.push({ index: edges.length, from, to: i + 2 });
  }
  return edges;
}

/** Reduction positions L//3 and 2L//3, without duplicates (L=1 → [0], L=2 → [0, 1]). */
export function reductionCells(layers: number): number[] {
  return [...new Set([Math.floor(layers / 3), Math.floor((2 * layers) / 3)])];
}

export function planCells(layers: number, channels: number): CellPlan[] {
  const reductions = new Set(reductionCells(layers));
  let c = channels;
  let reductionPrev = false;
  const cells: CellPlan[] = [];
  for (let i = 0; i < layers; i++) {
    const reduction = reductions.has(i);
    if (reduction) c *= 2;
    cells.push({ index: i, reduction, channels: c, reductionPrev });
    reductionPrev = reduction;
  }
  return cells;
}

/** Edges leaving a cell input use stride 2 in reduction cells. */
export function edgeStride(cell: CellPlan, edge: Edge): number {
  return cell.reduction && edge.from < 2 ? 2 : 1;
}
