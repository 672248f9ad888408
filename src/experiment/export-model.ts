// The retrained model exported for plain PyTorch at the end of `run` and `retrain`: model.torchscript.pt and,
// where the runtime's Python has `onnx`, model.onnx (else a one-line note saying why it is missing).
import type { RuntimeClient } from '../runtime/client.js';
import type { ProgressLine } from './progress.js';
import type { RunDir } from './run-dir.js';

export const TORCHSCRIPT_FILE = 'model.torchscript.pt';
export const ONNX_FILE = 'model.onnx';

/** What result.json says about the exported files (names relative to the run directory). */
export interface ExportRecord {
  torchscript: string;
  onnx: string | null;
  /** Why model.onnx is missing; null when it was written. */
  onnx_note: string | null;
  /** Float images in [0, 1], (N, ...input_shape); the dataset's normalisation is inside the model. */
  input_shape: number[];
  mean: number[];
  std: number[];
  /** Largest |logit difference| of the TorchScript file against the eager network on a batch of test images. */
  max_abs_diff: number;
}

export async function exportModel(client: RuntimeClient, runDir: RunDir, progress: ProgressLine): Promise<ExportRecord> {
  const r = await client.request('export_model', { torchscript_path: runDir.file(TORCHSCRIPT_FILE), onnx_path: runDir.file(ONNX_FILE) });
  const record: ExportRecord = {
    torchscript: TORCHSCRIPT_FILE, onnx: r.onnx ? ONNX_FILE : null, onnx_note: r.onnx_note,
    input_shape: r.input_shape, mean: r.mean, std: r.std, max_abs_diff: r.max_abs_diff,
  };
  runDir.event('export', { ...record });
  const onnx = r.onnx ? `, ${ONNX_FILE}` : ` (${ONNX_FILE} ${r.onnx_note})`;
  progress.log(`export: ${TORCHSCRIPT_FILE}${onnx}; TorchScript matches the network to ${r.max_abs_diff.toExponential(1)}`);
  return record;
}
