// `mgdarts doctor --dataset python:<module>:<factory>`: a user dataset previewed in the runtime's interpreter.
import { runtimeDatasetName } from '../config/dataset-request.js';
import { isPythonDataset } from '../config/dataset.js';
import { UsageError } from '../errors.js';

export interface DatasetToPreview {
  /** With a .py path made absolute (relative paths are taken from the working directory). */
  name: string;
  moduleDir: string;
}

/** What mgdarts_runtime.userdata.preview_dataset returns (the same function load_data uses). */
export interface DatasetPreview {
  dataset: string;
  train_size: number | null;
  test_size: number | null;
  item_shape: number[] | null;
  item_dtype: string | null;
  num_classes: number | null;
  classes_from: string | null;
  notes: string[];
  error: { message: string; traceback: string } | null;
}

export function datasetToPreview(spec: string, cwd = process.cwd()): DatasetToPreview {
  if (!isPythonDataset(spec) || !/^python:[^:]+:[A-Za-z_][A-Za-z0-9_]*$/.test(spec)) {
    throw new UsageError(`--dataset expects python:<module or file.py>:<factory>, got "${spec}"`, 'e.g. mgdarts doctor --dataset python:my_data.py:make');
  }
  return { name: runtimeDatasetName(spec, cwd), moduleDir: cwd };
}

/** Runs the preview through an open pythonia bridge; the report crosses as JSON. */
export async function previewInPython(python: (module: string) => Promise<any>, dataset: DatasetToPreview): Promise<DatasetPreview> {
  const userdata = await python('mgdarts_runtime.userdata');
  const json = await python('json');
  const report = await userdata.preview_dataset(dataset.name, dataset.moduleDir);
  return JSON.parse(String(await json.dumps(report))) as DatasetPreview;
}

export function printPreview(p: DatasetPreview, out: (label: string, value: string) => void): void {
  out('dataset', p.dataset);
  if (p.train_size !== null) out('  train', `${p.train_size} items`);
  if (p.test_size !== null) out('  test', `${p.test_size} items`);
  if (p.item_shape) out('  item', `${p.item_dtype ?? '?'} (${p.item_shape.join(', ')})`);
  if (p.num_classes !== null) out('  classes', `${p.num_classes} (from ${p.classes_from})`);
  for (const note of p.notes) out('  note', note);
  if (p.error) {
    out('  ERROR', p.error.message);
    if (p.error.traceback) process.stdout.write(`${p.error.traceback.trimEnd()}\n`);
  }
}
