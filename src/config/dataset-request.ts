// The load_data request for a config's dataset: the resolved directory, a python: module made absolute.
import { isAbsolute, resolve } from 'node:path';
import type { RequestParams } from '../runtime/protocol.js';
import type { ExperimentConfig } from './schema.js';
import { isPythonDataset } from './dataset.js';

/**
 * `python:<file.py>:<factory>` with the file relative to the config's directory becomes an absolute path, so the
 * runtime imports exactly the file the config names; a dotted module is looked up in `module_dir` only.
 */
export function runtimeDatasetName(name: string, configDir: string): string {
  if (!isPythonDataset(name)) return name;
  const body = name.slice('python:'.length);
  const cut = body.lastIndexOf(':');
  const [module, factory] = [body.slice(0, cut), body.slice(cut + 1)];
  if (!module.endsWith('.py')) return name;
  return `python:${isAbsolute(module) ? module : resolve(configDir, module)}:${factory}`;
}

export function loadDataParams(config: ExperimentConfig, datasetDir: string, configDir: string): RequestParams<'load_data'> {
  const d = config.dataset;
  const python = isPythonDataset(d.name);
  return {
    dataset: runtimeDatasetName(d.name, configDir),
    data_dir: python ? null : datasetDir,
    sample_dir: datasetDir,
    valid_fraction: d.valid_fraction,
    seed: config.seed,
    train_limit: d.train_limit,
    num_classes: d.num_classes,
    image_size: d.image_size,
    workers: d.workers,
    subset_fraction: d.subset_fraction,
    module_dir: python ? resolve(configDir) : null,
  };
}
