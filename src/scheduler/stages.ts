// The stage plan of the multi-stage search (SPEC §4): three stages by resolution, each with its head,
// the cells its R_op covers, whether regrowth follows and how far the shrink after it reaches; then the
// final joint phase. `stages: 1` is the single-stage comparison: the final phase alone on the supernet.

export type StageName = 'stage1' | 'stage2' | 'stage3' | 'final';

export interface StagePlan {
  name: StageName;
  /** Cells 0..lastCell run forward; later cells are not executed. */
  lastCell: number;
  head: 'aux1' | 'aux2' | 'main';
  /** Cells whose ops the R_op term covers: the stage's own cells, all cells in the final phase. */
  regCells: { from: number; to: number };
  /** Regrowth after the stage (stages 2 and 3 only). */
  regrow: boolean;
  /** After the stage, cells 0..shrinkUpTo are physically shrunk (covering the next stage's first cells). */
  shrinkUpTo: number;
  /** CE < capRatio·λ·R_op freezes λ: 1 in the stages, 0.5 (`--max_flops_ratio`) in the final phase. */
  capRatio: number;
}

/** stage1_end = L//3 − 1, stage2_end = 2L//3 − 1 (SPEC §1.1). */
export function stageEnds(layers: number): [number, number, number] {
  return [Math.floor(layers / 3) - 1, Math.floor((2 * layers) / 3) - 1, layers - 1];
}

/** `ends`: the space's stage ends (default: the DARTS-like rule over cells). */
export function planStages(layers: number, stages: 1 | 3, ends: [number, number, number] = stageEnds(layers)): StagePlan[] {
  const last = layers - 1;
  const final: StagePlan = { name: 'final', lastCell: last, head: 'main', regCells: { from: 0, to: last }, regrow: false, shrinkUpTo: last, capRatio: 0.5 };
  if (stages === 1) return [final];
  const [e1, e2] = ends;
  if (e1 < 0 || e2 <= e1 || last <= e2) throw new RangeError(`a 3-stage search needs at least 3 cells with distinct stage ends; got ${layers}`);
  return [
    { name: 'stage1', lastCell: e1, head: 'aux1', regCells: { from: 0, to: e1 }, regrow: false, shrinkUpTo: e2, capRatio: 1 },
    { name: 'stage2', lastCell: e2, head: 'aux2', regCells: { from: e1 + 1, to: e2 }, regrow: true, shrinkUpTo: last, capRatio: 1 },
    { name: 'stage3', lastCell: last, head: 'main', regCells: { from: e2 + 1, to: last }, regrow: true, shrinkUpTo: last, capRatio: 1 },
    final,
  ];
}
