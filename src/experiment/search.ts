// The search loop at operation level (SPEC §3): warm-up with the architecture frozen, then the search
// loop with commits on even epochs, the adaptive λ and the stop criteria. TypeScript decides every
// step; the runtime runs each epoch's batches in one request.
import type { ExperimentConfig } from '../config/schema.js';
import type { RuntimeClient } from '../runtime/client.js';
import type { NdArray } from '../runtime/ndarray.js';
import type { RequestResult } from '../runtime/protocol.js';
import { isCommitEpoch, stopReason, type StopReason } from '../scheduler/cadence.js';
import { initialLambda, updateLambda } from '../scheduler/lambda-schedule.js';
import { countedSize, type SpaceShape } from '../search-space/derive.js';
import { reductionCells } from '../search-space/darts-like.js';
import type { ProgressLine } from './progress.js';
import type { RunDir } from './run-dir.js';

export interface SearchOutcome {
  opMask: NdArray;
  opsTotal: number;
  opsLeft: number;
  paramsSupernet: number;
  sizeStart: number;
  sizeEnd: number;
  epochs: number;
  warmupEpochs: number;
  stopReason: StopReason;
  peakMemoryBytes: number;
  /** (kept, total) units per granularity at the end of the search. */
  units: RequestResult<'train_epoch'>['units'];
  validAccuracy: number | null;
  seconds: number;
}

export interface SearchContext {
  client: RuntimeClient;
  config: ExperimentConfig;
  space: SpaceShape;
  runDir: RunDir;
  progress: ProgressLine;
  /** Images in the held-out split (0: no held-out evaluation). */
  validSize: number;
}

/** A distinct, reproducible RNG seed for every epoch of every phase. */
export function epochSeed(seed: number, phase: number, epoch: number): number {
  return (seed * 1_000_003 + phase * 10_007 + epoch) % 2 ** 31;
}

export async function runSearch({ client, config, space, runDir, progress, validSize }: SearchContext): Promise<SearchOutcome> {
  const started = Date.now();
  const s = config.search;
  const built = await client.request('build_supernet', {
    channels: space.channels,
    layers: space.layers,
    nodes: space.nodes,
    reduction_cells: reductionCells(space.layers),
    stem_stride: space.stem_stride as 1 | 2,
    ops: [...space.ops],
    granularities: config.granularities,
    stage_heads: false,
    seed: config.seed,
    channels_last: config.channels_last,
  });
  const opsTotal = built.live_ops;
  const sizeStart = countedSize(space, built.op_mask);
  runDir.event('supernet_built', { params: built.params_supernet, size_counted: sizeStart, live_ops: opsTotal });
  progress.log(`supernet: ${built.params_supernet.toLocaleString('en-US')} parameters, ${opsTotal} candidate ops`);

  const sgd = { momentum: s.momentum, weight_decay: s.weight_decay, grad_clip: s.grad_clip };
  let opMask = built.op_mask;
  let opsLeft = opsTotal;
  let units = built.units;
  let peak = 0;
  const epochRequest = (phase: 'warmup' | 'search', epoch: number, lambda: number, commit: boolean) =>
    client.request(
      'train_epoch',
      {
        phase, stage: 'search', epoch, batch_size: s.batch_size, reg_lambda: lambda, mu: s.mu, lr: s.lr, sgd, commit, last_cell: null, reg_cells: null,
        augment: s.augment, max_batches: s.max_batches, seed: epochSeed(config.seed, phase === 'warmup' ? 0 : 1, epoch),
      },
      {
        onProgress: (ev) =>
          progress.update({ phase, epoch: `${epoch + 1}/${phase === 'warmup' ? s.warmup_epochs : s.max_epochs}`, batch: `${ev.batch}/${ev.batches}`, loss: ev.loss, opsLeft: `${opsLeft}/${opsTotal}`, lambda }),
      },
    );

  for (let e = 0; e < s.warmup_epochs; e++) {
    const r = await epochRequest('warmup', e, 0, false);
    peak = Math.max(peak, r.peak_memory_bytes);
    runDir.event('epoch', { phase: 'warmup', epoch: e, ce: r.mean_ce, train_accuracy: r.train_accuracy, seconds: r.seconds });
    progress.log(`[warmup] epoch ${e + 1}/${s.warmup_epochs}  ce ${r.mean_ce.toFixed(3)}  train acc ${(100 * r.train_accuracy).toFixed(1)}%  ${progress.elapsed()}`);
  }

  let lambda = initialLambda(s.lambda);
  let sizeEnd = sizeStart;
  let reason: StopReason = null;
  let epoch = 0;
  for (; reason === null; epoch++) {
    const commit = isCommitEpoch(epoch);
    const r = await epochRequest('search', epoch, lambda.lambda, commit);
    peak = Math.max(peak, r.peak_memory_bytes);
    opMask = r.op_mask;
    opsLeft = r.live_ops;
    units = r.units;
    if (commit) {
      sizeEnd = countedSize(space, opMask);
      lambda = updateLambda(lambda, { pruned: r.ops_pruned, meanCe: r.mean_ce, meanRegOp: r.mean_reg_op }, s.lambda);
    }
    reason = stopReason({ epoch, committed: commit, sizeNow: sizeEnd, sizeAtStart: sizeStart, targetRatio: s.target_ratio, maxEpochs: s.max_epochs });
    runDir.event('epoch', {
      phase: 'search', epoch, commit, ce: r.mean_ce, reg_op: r.mean_reg_op, r_thr: r.mean_r_thr, train_accuracy: r.train_accuracy,
      ops_pruned: r.ops_pruned, committed: r.committed, units: r.units, live_ops: r.live_ops, size_counted: sizeEnd, lambda_next: lambda.lambda, seconds: r.seconds,
    });
    progress.log(
      `[search] epoch ${epoch + 1}/${s.max_epochs}${commit ? ' (commit)' : ''}  ce ${r.mean_ce.toFixed(3)}  train acc ${(100 * r.train_accuracy).toFixed(1)}%  ` +
        `ops ${opsLeft}/${opsTotal}${commit ? ` (-${r.ops_pruned})` : ''}  size ${(sizeEnd / sizeStart * 100).toFixed(0)}%  λ→${lambda.lambda.toExponential(1)}  ${progress.elapsed()}`,
    );
  }
  const valid = validSize > 0 ? await client.request('evaluate', { model: 'supernet', split: 'valid', batch_size: 256 }) : null;
  runDir.event('search_done', { stop_reason: reason, epochs: epoch, live_ops: opsLeft, size_counted: sizeEnd, valid_accuracy: valid?.accuracy ?? null });
  return {
    opMask, opsTotal, opsLeft, paramsSupernet: built.params_supernet, sizeStart, sizeEnd, epochs: epoch, warmupEpochs: s.warmup_epochs,
    stopReason: reason, peakMemoryBytes: peak, units, validAccuracy: valid?.accuracy ?? null, seconds: (Date.now() - started) / 1000,
  };
}
