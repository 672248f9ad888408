// The end-of-retrain summary printed to stdout, and the lines `mgdarts inspect` shows for a retrain directory.
import type { RetrainResult } from '../experiment/retrain-result.js';
import { n, pct } from './report-format.js';

export function formatRetrainSummary(runDir: string, r: RetrainResult): string {
  return ['', ...formatRetrainLines(r), `time: retrain ${r.train_seconds.toFixed(0)} s on ${r.device}`, `run directory: ${runDir}`].join('\n') + '\n';
}

export function formatRetrainLines(r: RetrainResult): string[] {
  const p = r.params;
  const onnx = r.export.onnx ? `, ${r.export.onnx}` : `; model.onnx ${r.export.onnx_note}`;
  return [
    `retrained: ${r.source.architecture} on ${r.dataset}, ${r.retrain.epochs} epochs, batch ${r.retrain.batch_size}, lr ${r.retrain.lr}, seed ${r.retrain.seed}`,
    `parameters: ${n(p.final_dense)} dense / ${n(p.final_nonzero)} non-zero (without aux head)`,
    `test accuracy: final epoch ${pct(r.test_accuracy.final)}, best epoch ${pct(r.test_accuracy.best)} (epoch ${r.test_accuracy.best_epoch + 1}; the test set picked it, so it is optimistic)`,
    `export: ${r.export.torchscript}${onnx}`,
  ];
}
