// The end-of-run summary printed to stdout.
import { opCounts, type Architecture } from '../search-space/derive.js';
import type { RunResult } from '../experiment/result.js';
import { formatCells, formatParams, formatRetention, formatStages, pct } from './report-format.js';

export function formatSummary(runDir: string, result: RunResult, arch: Architecture): string {
  const mix = Object.entries(opCounts(arch)).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    '',
    ...formatStages(result),
    `architecture: ${arch.layers} cells, ${result.ops.kept} of ${result.ops.total} ops kept`,
    ...formatCells(arch, false),
    `  op mix: ${mix}`,
    formatRetention(result),
    formatParams(result),
    `test accuracy: final epoch ${pct(result.test_accuracy.final)}, best epoch ${pct(result.test_accuracy.best)} (epoch ${result.test_accuracy.best_epoch + 1} of the retraining; the test set picked it, so it is optimistic)`,
    `time: search ${result.search_seconds.toFixed(0)} s, retrain ${result.train_seconds.toFixed(0)} s on ${result.device}`,
    ...(result.export ? [`export: ${result.export.torchscript}${result.export.onnx ? `, ${result.export.onnx}` : `; model.onnx ${result.export.onnx_note}`}`] : []),
    `run directory: ${runDir}`,
    `details: mgdarts inspect ${runDir}`,
  ];
  return lines.join('\n') + '\n';
}
