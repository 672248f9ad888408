// result.json of a `mgdarts retrain` run directory (kind "retrain"): what it started from, the parameters and
// the test accuracy at the final epoch and at the best one (which the test set chose, so optimistic).
import type { ExperimentConfig } from '../config/schema.js';
import type { RequestResult } from '../runtime/protocol.js';
import type { Architecture } from '../search-space/derive.js';
import { countArchitectureParameters } from '../search-space/param-count.js';
import type { ExportRecord } from './export-model.js';
import type { RetrainOutcome } from './retrain.js';

export interface RetrainResult {
  kind: 'retrain';
  source: { path: string; architecture: string; weight_masks: string | null; config: string };
  dataset: string;
  search_space: string;
  granularities: string[];
  /** from_architecture: the count made from architecture.json alone (DARTS-like space; null for others). */
  params: { final_dense: number; final_nonzero: number; final_with_aux: number; from_architecture: number | null };
  test_accuracy: { final: number; best: number; best_epoch: number; best_is_optimistic: true };
  retrain: { epochs: number; batch_size: number; lr: number; weight_decay: number; auxiliary: boolean; seed: number };
  train_seconds: number;
  device: string;
  export: ExportRecord;
}

export function buildRetrainResult(input: {
  source: RetrainResult['source'];
  config: ExperimentConfig;
  data: RequestResult<'load_data'>;
  architecture: Architecture;
  retrain: RetrainOutcome;
  device: string;
  exported: ExportRecord;
}): RetrainResult {
  const { config, retrain: r } = input;
  const t = config.retrain;
  return {
    kind: 'retrain',
    source: input.source,
    dataset: input.data.dataset,
    search_space: config.search_space.name,
    granularities: config.granularities,
    params: { final_dense: r.params, final_nonzero: r.params - r.maskedWeights, final_with_aux: r.paramsWithAux, from_architecture: input.architecture.search_space === 'darts_like' ? countArchitectureParameters(input.architecture) : null },
    test_accuracy: { final: r.finalAccuracy, best: r.bestAccuracy, best_epoch: r.bestEpoch, best_is_optimistic: true },
    retrain: { epochs: t.epochs, batch_size: t.batch_size, lr: t.lr, weight_decay: t.weight_decay, auxiliary: t.auxiliary, seed: config.seed },
    train_seconds: r.seconds,
    device: input.device,
    export: input.exported,
  };
}
