// result.json as the run-directory contract defines it.
import type { ExperimentConfig } from '../config/schema.js';
import type { RequestResult } from '../runtime/protocol.js';
import type { Architecture } from '../search-space/derive.js';
import { countArchitectureParameters } from '../search-space/param-count.js';
import { filterRetention } from '../search-space/retention.js';
import type { ExportRecord } from './export-model.js';
import type { RetrainOutcome } from './retrain.js';
import type { PhaseRecord, SearchOutcome } from './search.js';

export interface RunResult {
  dataset: string;
  search_space: string;
  granularities: string[];
  /**
   * supernet: dense parameters at the start of the search; final_dense: the exported model (no aux head), built
   * by the runtime; final_nonzero: final_dense less the weights its weight masks hold at zero; from_architecture:
   * final_dense counted independently from architecture.json; target: the config's budget (null: none).
   */
  params: { supernet: number; final_dense: number; final_nonzero: number; final_with_aux: number; from_architecture: number; target: number | null };
  /** The reference's counter (conv weights of live sep/dil/FactorizedReduce ops, SPEC §3.4), for parity. */
  size_counted: { start: number; end: number };
  /**
   * Kept share per searched granularity (null: not searched): operation = ops kept of all candidates; filter =
   * filters of the kept ops and preprocess layers at their exported widths against nominal; weight = weights of
   * the exported sep/dil convs left non-zero by the weight masks.
   */
  retention: { operation: number | null; filter: number | null; weight: number | null };
  ops: { total: number; kept: number };
  test_accuracy: { final: number; best: number; best_epoch: number };
  valid_accuracy_supernet: number | null;
  stages: PhaseRecord[];
  peak_memory_bytes: number;
  search_seconds: number;
  train_seconds: number;
  device: string;
  /** The retrained model for plain PyTorch (model.torchscript.pt, model.onnx where possible). */
  export?: ExportRecord;
}

export function buildResult(input: {
  config: ExperimentConfig;
  data: RequestResult<'load_data'>;
  device: string;
  search: SearchOutcome;
  retrain: RetrainOutcome;
  architecture: Architecture;
  /** (masked, total) weights of the weight-mask file; null without the weight level. */
  weightMasks: { masked: number; total: number } | null;
}): RunResult {
  const { config, data, search, retrain, architecture, weightMasks } = input;
  const searched = (g: string) => config.granularities.includes(g as never);
  return {
    dataset: data.dataset,
    search_space: config.search_space.name,
    granularities: config.granularities,
    params: {
      supernet: search.paramsSupernet, final_dense: retrain.params, final_nonzero: retrain.params - retrain.maskedWeights,
      final_with_aux: retrain.paramsWithAux, from_architecture: countArchitectureParameters(architecture), target: config.search.target_params,
    },
    size_counted: { start: search.sizeStart, end: search.sizeEnd },
    retention: {
      operation: searched('operation') ? search.opsLeft / search.opsTotal : null,
      filter: searched('filter') ? filterRetention(architecture) : null,
      weight: weightMasks && weightMasks.total > 0 ? 1 - weightMasks.masked / weightMasks.total : null,
    },
    ops: { total: search.opsTotal, kept: search.opsLeft },
    test_accuracy: { final: retrain.finalAccuracy, best: retrain.bestAccuracy, best_epoch: retrain.bestEpoch },
    valid_accuracy_supernet: search.validAccuracy,
    stages: search.phases,
    peak_memory_bytes: search.peakMemoryBytes,
    search_seconds: search.seconds,
    train_seconds: retrain.seconds,
    device: input.device,
  };
}
