// result.json as the run-directory contract defines it.
import type { ExperimentConfig } from '../config/schema.js';
import type { RequestResult } from '../runtime/protocol.js';
import type { Architecture } from '../search-space/derive.js';
import type { RetrainOutcome } from './retrain.js';
import type { SearchOutcome } from './search.js';

export interface RunResult {
  dataset: string;
  search_space: string;
  granularities: string[];
  params: { supernet: number; final_dense: number; final_nonzero: number; final_with_aux: number };
  size_counted: { start: number; end: number };
  retention: { operation: number; filter: number | null; weight: number | null };
  ops: { total: number; kept: number };
  test_accuracy: { final: number; best: number; best_epoch: number };
  valid_accuracy_supernet: number | null;
  stages: Array<{ name: string; epochs: number; warmup_epochs: number; ops_pruned: number; ops_regrown: number; peak_memory_bytes: number | null; stop_reason: string | null }>;
  search_seconds: number;
  train_seconds: number;
  device: string;
}

/** The kept share of a granularity that was searched; null for one that was not. */
function retention(searched: boolean, [kept, total]: readonly [number, number]): number | null {
  return searched && total > 0 ? kept / total : null;
}

export function buildResult(input: {
  config: ExperimentConfig;
  data: RequestResult<'load_data'>;
  device: string;
  search: SearchOutcome;
  retrain: RetrainOutcome;
  architecture: Architecture;
}): RunResult {
  const { config, data, search, retrain } = input;
  return {
    dataset: data.dataset,
    search_space: config.search_space.name,
    granularities: config.granularities,
    // No weight masks at operation level: every parameter of the exported model is non-zero.
    params: { supernet: search.paramsSupernet, final_dense: retrain.params, final_nonzero: retrain.params, final_with_aux: retrain.paramsWithAux },
    size_counted: { start: search.sizeStart, end: search.sizeEnd },
    retention: {
      operation: search.opsLeft / search.opsTotal,
      filter: retention(config.granularities.includes('filter'), search.units.filter),
      weight: retention(config.granularities.includes('weight'), search.units.weight),
    },
    ops: { total: search.opsTotal, kept: search.opsLeft },
    test_accuracy: { final: retrain.finalAccuracy, best: retrain.bestAccuracy, best_epoch: retrain.bestEpoch },
    valid_accuracy_supernet: search.validAccuracy,
    stages: [
      {
        name: 'search', epochs: search.epochs, warmup_epochs: search.warmupEpochs, ops_pruned: search.opsTotal - search.opsLeft, ops_regrown: 0,
        peak_memory_bytes: search.peakMemoryBytes, stop_reason: search.stopReason,
      },
    ],
    search_seconds: search.seconds,
    train_seconds: retrain.seconds,
    device: input.device,
  };
}
