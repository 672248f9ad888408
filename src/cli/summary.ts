// The end-of-run summary printed to stdout.
import { opCounts, type Architecture } from '../search-space/derive.js';
import type { RunResult } from '../experiment/result.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const n = (x: number) => x.toLocaleString('en-US');

export function formatSummary(runDir: string, result: RunResult, arch: Architecture): string {
  const lines = [
    '',
    `architecture: ${arch.layers} cells, ${result.ops.kept} of ${result.ops.total} ops kept (${pct(result.retention.operation)})`,
  ];
  for (const cell of arch.cells) {
    const byOp = new Map<string, number>();
    for (const op of cell.ops) byOp.set(op.op, (byOp.get(op.op) ?? 0) + 1);
    const mix = [...byOp.entries()].map(([k, v]) => `${k}×${v}`).join(' ');
    lines.push(`  cell ${cell.index}${cell.reduction ? ' (reduction)' : ''}, C=${cell.channels}: ${cell.ops.length} ops: ${mix}`);
  }
  const mix = Object.entries(opCounts(arch)).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`  op mix: ${mix}`);
  lines.push(
    `parameters: supernet ${n(result.params.supernet)}, final ${n(result.params.final_dense)} dense / ${n(result.params.final_nonzero)} non-zero (without aux head)`,
    `test accuracy: final epoch ${pct(result.test_accuracy.final)}, best epoch ${pct(result.test_accuracy.best)} (epoch ${result.test_accuracy.best_epoch + 1} of the retraining; the test set picked it, so it is optimistic)`,
    `time: search ${result.search_seconds.toFixed(0)} s, retrain ${result.train_seconds.toFixed(0)} s on ${result.device}`,
    `run directory: ${runDir}`,
  );
  return lines.join('\n') + '\n';
}
