// Plain-text views of a run shared by the end-of-run summary and `mgdarts inspect`.
import type { RunResult } from '../experiment/result.js';
import type { Architecture } from '../search-space/derive.js';

export const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
export const n = (x: number) => x.toLocaleString('en-US');

/** One line per cell with its width, then one per edge with its ops and their widths. */
export function formatCells(arch: Architecture, perEdge: boolean): string[] {
  const lines: string[] = [];
  for (const cell of arch.cells) {
    const width = cell.node_widths[0] === cell.channels ? `width ${cell.channels}` : `width ${cell.node_widths[0]} of ${cell.channels}`;
    lines.push(`  cell ${cell.index}${cell.reduction ? ' (reduction)' : ''}, ${width}: ${cell.ops.length} ops`);
    if (!perEdge) continue;
    const byEdge = new Map<number, string[]>();
    for (const op of cell.ops) byEdge.set(op.edge, [...(byEdge.get(op.edge) ?? []), `${op.op} [${op.widths.join(',')}]`]);
    for (const [edge, ops] of [...byEdge.entries()].sort((a, b) => a[0] - b[0])) {
      const op = cell.ops.find((o) => o.edge === edge)!;
      lines.push(`    ${nodeName(op.from)} → ${nodeName(op.to)}: ${ops.join(', ')}`);
    }
  }
  return lines;
}

const nodeName = (id: number) => (id < 2 ? `in${id}` : `n${id}`);

export function formatRetention(result: RunResult): string {
  const parts = (['operation', 'filter', 'weight'] as const).map((g) => `${g} ${result.retention[g] === null ? 'not searched' : pct(result.retention[g]!)}`);
  return `retention: ${parts.join(', ')}`;
}

export function formatParams(result: RunResult): string {
  const p = result.params;
  const target = p.target === null ? '' : `, budget ${n(p.target)}`;
  return `parameters: supernet ${n(p.supernet)}, final ${n(p.final_dense)} dense / ${n(p.final_nonzero)} non-zero (without aux head${target})`;
}

/** The stage history: epochs, ops pruned and regrown, counted sizes, widths after the shrink. */
export function formatStages(result: RunResult): string[] {
  const lines = ['stages:'];
  for (const s of result.stages) {
    const target = s.size_target === null ? '' : ` (target ${n(Math.round(s.size_target))})`;
    const size = `size ${n(s.size_start)} → ${n(s.size_stop)}${target}${s.size_end === s.size_stop ? '' : ` → ${n(s.size_end)} after regrowth and shrink`}`;
    const widths = s.widths_after ? `, widths ${s.widths_after.join(' ')}` : '';
    lines.push(
      `  ${s.name.padEnd(6)} cells 0-${s.last_cell}, ${s.warmup_epochs}+${s.epochs} epochs, -${s.ops_pruned} ops, +${s.ops_regrown} regrown, ${size}, ` +
        `${n(s.params_derived)} params derived${widths}; ${s.stop_reason ?? 'running'} (${s.seconds.toFixed(0)} s)`,
    );
  }
  return lines;
}
