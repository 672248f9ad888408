// The config `mgdarts retrain` runs: the source run's config.json or --config, then the per-dataset evaluation
// protocol (SPEC §5.3), then the command-line options; validated like any config before anything starts. It
// trains on the whole training set (dataset.subset_fraction 1).
import { dirname } from 'node:path';
import { readsDirectory, resolveDatasetDir } from '../config/dataset.js';
import { parseConfig, readConfigJson, resolveConfigPath } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { applyRetrainProtocol } from './retrain-defaults.js';
import type { RetrainSource } from './retrain-source.js';

export interface RetrainOverrides {
  config?: string;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  maxBatches?: number;
  dataDir?: string;
  device?: string;
  threads?: number;
}

export function prepareRetrainConfig(source: RetrainSource, o: RetrainOverrides): { config: ExperimentConfig; path: string; datasetDir: string } {
  const path = o.config ? resolveConfigPath(o.config) : source.configPath;
  if (!path) {
    throw new UsageError(`${source.architecturePath} has no config.json beside it, so the dataset to retrain on is unknown`, 'pass --config <experiment config> (its dataset, retrain and seed are used)');
  }
  const raw = readConfigJson(path) as Record<string, unknown>;
  const machine: Record<string, unknown> = {};
  if (o.device) machine.device = o.device;
  if (o.threads) machine.threads = o.threads;
  const base = parseConfig({ ...raw, ...machine }, path);
  // A run's config.json is resolved (every default filled in): only a --config file tells which keys were chosen.
  const explicit = o.config && isRecord(raw.retrain) ? raw.retrain : {};
  const config = applyRetrainProtocol(base, explicit, Boolean(o.config) && raw.seed !== undefined);
  const retrain: Record<string, unknown> = { ...config.retrain };
  if (o.epochs !== undefined) retrain.epochs = o.epochs;
  if (o.batchSize !== undefined) retrain.batch_size = o.batchSize;
  if (o.maxBatches !== undefined) retrain.max_batches = o.maxBatches;
  // The per-class subset is a search setting (the reference searched on 10 % of each ImageNet class): the
  // retraining trains on every training image.
  const dataset = { ...config.dataset, subset_fraction: 1 };
  if (o.dataDir) {
    if (!readsDirectory(dataset.name)) throw new UsageError(`--data-dir applies to datasets read from a directory; ${path} uses ${dataset.name}`, 'pass --config with a dataset read from a directory, e.g. configs/cifar10-smoke.json');
    dataset.data_dir = o.dataDir;
  }
  const final = parseConfig({ ...config, dataset, retrain, ...(o.seed !== undefined ? { seed: o.seed } : {}) }, `${path} with the command-line options`);
  return { config: final, path, datasetDir: resolveDatasetDir(final.dataset.name, final.dataset.data_dir, dirname(path)) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
