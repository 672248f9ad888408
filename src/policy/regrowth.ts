// Which pruned ops regrow after stages 2 and 3 (SPEC §4.3): importance from the α momentum and
// sigmoid(α) per cell and op type, a (cell, type) bin drawn by importance, a pruned edge drawn in it.
import type { NdArray } from '../runtime/ndarray.js';
import type { SeededRng } from './rng.js';

export interface RegrowthInput {
  /** sigmoid(α) per (cell, edge, op), float32 (L, E, K). */
  weights: NdArray;
  /** The SGD momentum buffer of α per (cell, edge, op), float32 (L, E, K); its magnitude is used. */
  momentum: NdArray;
  /** Committed op mask, uint8 (L, E, K): 1 live, 0 pruned. */
  opMask: NdArray;
  /** Cells regrowth may touch: 0 .. lastCell. */
  lastCell: number;
  /** uint8 (L, E, K), 1 where an op is a candidate at all (MobileNet-like: skip only where shapes allow); positions
   * at 0 are neither live nor revivable. Absent: every position is a candidate. */
  candidates?: NdArray | null;
}

export interface RevivedOp {
  cell: number;
  edge: number;
  op: number;
}

/** int(ratio · pruned), SPEC §4.2 step 5. */
export function regrowCount(prunedInStage: number, ratio: number): number {
  return Math.floor(ratio * prunedInStage);
}

interface CellStats {
  grad: number[]; // per type: mean |momentum| over live positions
  mag: number[]; // per type: mean sigmoid(α) over live positions
  live: number;
  pruned: number[][]; // per type: pruned edges
}

function cellStats(input: RegrowthInput, cell: number): CellStats {
  const [, edges = 0, types = 0] = input.opMask.shape;
  const grad: number[] = [];
  const mag: number[] = [];
  const pruned: number[][] = [];
  const absent: boolean[] = []; // no candidate position in the cell at all
  let live = 0;
  for (let k = 0; k < types; k++) {
    let g = 0;
    let m = 0;
    let n = 0;
    let candidates = 0;
    const dead: number[] = [];
    for (let e = 0; e < edges; e++) {
      if (input.candidates && !input.candidates.at(cell, e, k)) continue;
      candidates++;
      if (input.opMask.at(cell, e, k)) {
        g += Math.abs(input.momentum.at(cell, e, k));
        m += input.weights.at(cell, e, k);
        n++;
      } else dead.push(e);
    }
    grad.push(n ? g / n : NaN);
    mag.push(n ? m / n : NaN);
    absent.push(candidates === 0);
    pruned.push(dead);
    live += n;
  }
  // A type with no live position gets half of the cell's minimum over the other types; one that is no candidate
  // anywhere in the cell weighs nothing.
  for (const values of [grad, mag]) {
    const known = values.filter((v) => !Number.isNaN(v));
    const fill = known.length ? Math.min(...known) / 2 : 0;
    for (let k = 0; k < values.length; k++) if (Number.isNaN(values[k]!)) values[k] = absent[k] ? 0 : fill;
  }
  return { grad, mag, live, pruned };
}

const normalize = (xs: number[]): number[] => {
  const sum = xs.reduce((a, b) => a + b, 0);
  return sum > 0 ? xs.map((x) => x / sum) : xs.map(() => 1 / xs.length);
};

/** The probability of each (cell, type) bin: cell importance × op importance (SPEC §4.3). */
export function regrowthBins(input: RegrowthInput): { cell: number; type: number; p: number; edges: number[] }[] {
  const stats = Array.from({ length: input.lastCell + 1 }, (_, c) => cellStats(input, c));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const cellGrad = normalize(stats.map((s) => (s.live ? sum(s.grad) / s.live : 0)));
  const cellMag = normalize(stats.map((s) => (s.live ? sum(s.mag) / s.live : 0)));
  const bins: { cell: number; type: number; p: number; edges: number[] }[] = [];
  stats.forEach((s, c) => {
    const opGrad = normalize(s.grad);
    const opMag = normalize(s.mag);
    const cellImportance = 0.5 * (cellGrad[c] ?? 0) + 0.5 * (cellMag[c] ?? 0);
    s.grad.forEach((_, k) => bins.push({ cell: c, type: k, p: cellImportance * (0.5 * (opMag[k] ?? 0) + 0.5 * (opGrad[k] ?? 0)), edges: s.pruned[k]! }));
  });
  return bins;
}

/**
 * Draw `count` ops to revive. Each draw picks a bin by its probability and, rescaling the same number
 * within the bin, one of the bin's pruned edges. Bins without pruned edges left are out of the draw
 * (their mass is spread over the rest), and an op is never revived twice.
 */
export function sampleRegrowth(input: RegrowthInput, count: number, rng: SeededRng): RevivedOp[] {
  const bins = regrowthBins(input).map((b) => ({ ...b, edges: [...b.edges] }));
  const revived: RevivedOp[] = [];
  for (let i = 0; i < count; i++) {
    const open = bins.filter((b) => b.edges.length > 0 && b.p > 0);
    const total = open.reduce((a, b) => a + b.p, 0);
    if (!open.length || total <= 0) break;
    let u = rng.next() * total;
    const bin = open.find((b) => (u -= b.p) < 0) ?? open[open.length - 1]!;
    const within = Math.min(1 - Number.EPSILON, Math.max(0, (u + bin.p) / bin.p)); // the draw, rescaled inside the bin
    const [edge] = bin.edges.splice(Math.floor(within * bin.edges.length), 1);
    revived.push({ cell: bin.cell, edge: edge!, op: bin.type });
  }
  return revived;
}
