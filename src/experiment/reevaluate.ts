// Progressive re-evaluation between phases (SPEC §4.2 steps 5–6, §4.4 step 4): the runtime reports
// statistics, the policies in src/policy decide, the runtime executes.
import type { RuntimeClient } from '../runtime/client.js';
import type { RequestParams, RequestResult } from '../runtime/protocol.js';
import { regrowCount, sampleRegrowth } from '../policy/regrowth.js';
import type { SeededRng } from '../policy/rng.js';
import { cellWidth, sepMidWidth } from '../policy/width-rule.js';
import type { NdArray } from '../runtime/ndarray.js';
import type { CellShape } from '../search-space/derive.js';

type ShrinkStatistics = RequestResult<'shrink_statistics'>;

/** Revive int(ratio · pruned) ops in cells 0..lastCell, drawn by importance with the run's RNG (SPEC §4.3). */
export async function regrowOps(client: RuntimeClient, input: { pruned: number; ratio: number; lastCell: number; rng: SeededRng; candidates?: NdArray | null }) {
  const count = regrowCount(input.pruned, input.ratio);
  if (count === 0) return { revived: 0, ops: [] as [number, number, number][], result: null };
  const stats = await client.request('regrow_statistics', {});
  const picked = sampleRegrowth({ weights: stats.weights, momentum: stats.momentum, opMask: stats.op_mask, lastCell: input.lastCell, candidates: input.candidates }, count, input.rng);
  const ops = picked.map((r) => [r.cell, r.edge, r.op] as [number, number, number]);
  const done = await client.request('regrow', { ops });
  return { revived: done.revived, ops, result: done };
}

/**
 * The width rule over cells 0..upTo (SPEC §4.5 step 1): one even width per cell, never wider than now; cells in
 * `full` (the network's last cell, the cell feeding the next stage's aux head) keep their nominal width. Every
 * live sep_conv of a shrunk cell gets its middle width.
 */
export function decideWidths(stats: ShrinkStatistics, upTo: number, full: ReadonlySet<number>): RequestParams<'shrink'> {
  const cellWidths: RequestParams<'shrink'>['cell_widths'] = [];
  const midWidths: RequestParams<'shrink'>['mid_widths'] = [];
  for (const c of stats.cells) {
    if (c.cell > upTo) continue;
    const ruled = cellWidth({ nominal: c.nominal, preprocessLive: c.preprocess_live, nodeOutLive: c.node_out_live, full: full.has(c.cell) });
    const width = Math.min(c.width, ruled);
    cellWidths.push({ cell: c.cell, width });
    for (const [key, live] of Object.entries(c.sep_mid_live)) {
      const [edge, op] = key.split(',').map(Number) as [number, number];
      midWidths.push({ cell: c.cell, edge, op, width: sepMidWidth(live, width, width, c.sep_mid[key]!) });
    }
  }
  return { cell_widths: cellWidths, mid_widths: midWidths };
}

/** Physically shrink cells 0..upTo to the width rule; returns the cells' shapes afterwards. */
export async function shrinkCells(client: RuntimeClient, upTo: number, full: ReadonlySet<number>, decide: typeof decideWidths = decideWidths) {
  const decision = decide(await client.request('shrink_statistics', {}), upTo, full);
  const done = await client.request('shrink', decision);
  return { sizes: done, shapes: await cellShapes(client) };
}

/** Every cell's current width and sep_conv middle widths. */
export async function cellShapes(client: RuntimeClient): Promise<CellShape[]> {
  const stats = await client.request('shrink_statistics', {});
  return stats.cells.map((c) => ({ width: c.width, sepMid: { ...c.sep_mid } }));
}
