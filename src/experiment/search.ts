// The multi-stage search (SPEC §4): stages by resolution with their heads, each with a weight-only
// warm-up and a search loop that commits masks on even epochs; regrowth after stages 2 and 3; a physical
// shrink after every stage and at every commit of the final joint phase, which stops at the parameter
// budget. TypeScript decides every step; the runtime runs each epoch's batches in one request.
import type { ExperimentConfig } from '../config/schema.js';
import type { RuntimeClient } from '../runtime/client.js';
import type { NdArray } from '../runtime/ndarray.js';
import type { RequestResult } from '../runtime/protocol.js';
import { SeededRng } from '../policy/rng.js';
import { isCommitEpoch, type StopReason } from '../scheduler/cadence.js';
import { initialLambda, updateLambda } from '../scheduler/lambda-schedule.js';
import { planStages, type StagePlan } from '../scheduler/stages.js';
import type { CellShape } from '../search-space/derive.js';
import type { SearchSpaceModule } from '../search-space/space.js';
import type { ProgressLine } from './progress.js';
import { cellShapes, regrowOps, shrinkCells } from './reevaluate.js';
import type { RunDir } from './run-dir.js';

export interface PhaseRecord {
  name: StagePlan['name'];
  last_cell: number;
  head: StagePlan['head'];
  warmup_epochs: number;
  epochs: number;
  ops_pruned: number;
  ops_regrown: number;
  /** The reference counter over cells 0..last_cell: at the phase start, its stop target, when the loop stopped,
   * and at the end (after regrowth and shrink). */
  size_start: number;
  size_target: number | null;
  size_stop: number;
  size_end: number;
  /** Dense parameters of the architecture derived at the end of the phase (the final phase's budget measure). */
  params_derived: number;
  /** Cell widths after the phase's shrink (null: nothing was shrunk). */
  widths_after: number[] | null;
  peak_memory_bytes: number;
  stop_reason: StopReason;
  seconds: number;
}

export interface SearchOutcome {
  opMask: NdArray;
  shapes: CellShape[];
  opsTotal: number;
  opsLeft: number;
  paramsSupernet: number;
  sizeStart: number;
  sizeEnd: number;
  phases: PhaseRecord[];
  peakMemoryBytes: number;
  /** (kept, total) units per granularity at the end of the search. */
  units: RequestResult<'train_epoch'>['units'];
  validAccuracy: number | null;
  seconds: number;
}

export interface SearchContext {
  client: RuntimeClient;
  config: ExperimentConfig;
  space: SearchSpaceModule;
  runDir: RunDir;
  progress: ProgressLine;
  /** Images in the held-out split (0: no held-out evaluation). */
  validSize: number;
}

/** A distinct, reproducible RNG seed for every epoch of every phase. */
export function epochSeed(seed: number, phase: number, epoch: number): number {
  return (seed * 1_000_003 + phase * 10_007 + epoch) % 2 ** 31;
}

const sumTo = (sizes: readonly number[], last: number) => sizes.slice(0, last + 1).reduce((a, b) => a + b, 0);

type Sizes = Pick<RequestResult<'train_epoch'>, 'params_supernet' | 'size_counted' | 'cell_sizes'>;

/** What carries from one phase to the next. */
interface SearchState {
  opMask: NdArray;
  opsLeft: number;
  units: RequestResult<'train_epoch'>['units'];
  shapes: CellShape[];
  sizes: Sizes;
  peak: number;
}

export async function runSearch(ctx: SearchContext): Promise<SearchOutcome> {
  const { client, config, space, runDir, progress } = ctx;
  const started = Date.now();
  const plans = planStages(space.layers, config.search.stages, config.search.stages === 3 ? space.stageEnds() : undefined);
  const built = await client.request('build_supernet', {
    ...space.buildParams(plans.length > 1), granularities: config.granularities,
    stage_heads: plans.length > 1, seed: config.seed, channels_last: config.channels_last,
  });
  runDir.event('supernet_built', { params: built.params_supernet, size_counted: built.size_counted, cell_sizes: built.cell_sizes, live_ops: built.live_ops });
  progress.log(`supernet: ${built.params_supernet.toLocaleString('en-US')} parameters, ${built.live_ops} candidate ops, granularities ${config.granularities.join(' + ')}`);

  const state: SearchState = { opMask: built.op_mask, opsLeft: built.live_ops, units: built.units, shapes: await cellShapes(client), sizes: built, peak: 0 };
  const rng = new SeededRng(config.seed);
  const phases: PhaseRecord[] = [];
  for (const [index, plan] of plans.entries()) {
    phases.push(await runPhase(ctx, plan, index, plans[index + 1], state, built.live_ops, rng));
  }
  const valid = ctx.validSize > 0 ? await client.request('evaluate', { model: 'supernet', split: 'valid', batch_size: 256 }) : null;
  const sizes = state.sizes;
  runDir.event('search_done', { live_ops: state.opsLeft, size_counted: sizes.size_counted, params_supernet: sizes.params_supernet, valid_accuracy: valid?.accuracy ?? null });
  return {
    opMask: state.opMask, shapes: state.shapes, opsTotal: built.live_ops, opsLeft: state.opsLeft, paramsSupernet: built.params_supernet,
    sizeStart: built.size_counted, sizeEnd: sizes.size_counted, phases, peakMemoryBytes: state.peak, units: state.units,
    validAccuracy: valid?.accuracy ?? null, seconds: (Date.now() - started) / 1000,
  };
}

async function runPhase(ctx: SearchContext, plan: StagePlan, index: number, next: StagePlan | undefined, state: SearchState, opsTotal: number, rng: SeededRng): Promise<PhaseRecord> {
  const { client, config, space, runDir, progress } = ctx;
  const s = config.search;
  const started = Date.now();
  const filterLevel = config.granularities.includes('filter');
  const final = plan.name === 'final';
  // The final phase stops at the parameter budget when there is one, otherwise like a stage.
  const budget = final ? s.target_params : null;
  const derivedParams = () => space.countParameters(space.derive(state.opMask, state.shapes));

  const begin = await client.request('begin_stage', { reset_thresholds: true });
  const sizeStart = sumTo(begin.cell_sizes, plan.lastCell);
  const sizeTarget = budget === null ? s.target_ratio * sizeStart : null;
  runDir.event('stage_start', { stage: plan.name, last_cell: plan.lastCell, head: plan.head, size_start: sizeStart, size_target: sizeTarget, target_params: budget, params_supernet: begin.params_supernet });
  progress.log(`[${plan.name}] cells 0-${plan.lastCell}, ${plan.head} head; counted size ${sizeStart.toLocaleString('en-US')}` +
    (budget === null ? `, stops at ${(s.target_ratio * 100).toFixed(0)}%` : `, stops at ${budget.toLocaleString('en-US')} parameters`));

  const sgd = { momentum: s.momentum, weight_decay: s.weight_decay, grad_clip: s.grad_clip };
  const regCells = { from: plan.regCells.from, to: plan.regCells.to };
  const lastCell = final ? null : plan.lastCell;
  let peak = 0;
  const epochRequest = (phase: 'warmup' | 'search', seedPhase: number, epoch: number, lambda: number, commit: boolean, of: number, label: string = phase) =>
    client.request(
      'train_epoch',
      {
        phase, stage: plan.name, epoch, batch_size: s.batch_size, reg_lambda: lambda, mu: s.mu, lr: s.lr, sgd, commit, last_cell: lastCell, reg_cells: regCells,
        augment: s.augment, max_batches: s.max_batches, seed: epochSeed(config.seed, 10 * (index + 1) + seedPhase, epoch),
      },
      {
        onProgress: (ev) =>
          progress.update({ phase: `${plan.name} ${label}`, epoch: `${epoch + 1}/${of}`, batch: `${ev.batch}/${ev.batches}`, loss: ev.loss, opsLeft: `${state.opsLeft}/${opsTotal}`, lambda }),
      },
    ).then((r) => {
      peak = Math.max(peak, r.peak_memory_bytes);
      return r;
    });

  for (let e = 0; e < s.warmup_epochs; e++) {
    const r = await epochRequest('warmup', 0, e, 0, false, s.warmup_epochs);
    runDir.event('epoch', { stage: plan.name, phase: 'warmup', epoch: e, ce: r.mean_ce, train_accuracy: r.train_accuracy, seconds: r.seconds });
    progress.log(`[${plan.name} warmup] epoch ${e + 1}/${s.warmup_epochs}  ce ${r.mean_ce.toFixed(3)}  train acc ${pct(r.train_accuracy)}  ${progress.elapsed()}`);
  }

  let lambda = initialLambda(s.lambda);
  let sizeNow = sizeStart;
  let params = derivedParams();
  let pruned = 0;
  let reason: StopReason = null;
  let widthsAfter: number[] | null = null;
  let epoch = 0;
  for (; reason === null; epoch++) {
    const commit = isCommitEpoch(epoch);
    const r = await epochRequest('search', 1, epoch, lambda.lambda, commit, s.max_epochs);
    state.opMask = r.op_mask;
    state.opsLeft = r.live_ops;
    state.units = r.units;
    state.sizes = r;
    if (commit) {
      pruned += r.ops_pruned;
      lambda = updateLambda(lambda, { pruned: r.ops_pruned, meanCe: r.mean_ce, meanRegOp: r.mean_reg_op }, s.lambda, plan.capRatio);
      if (final && filterLevel) {
        // SPEC §4.4 step 4: every final-phase commit shrinks all cells.
        const shrunk = await shrinkCells(client, plan.shrinkUpTo, new Set([space.layers - 1]), space.decideShrink);
        state.shapes = shrunk.shapes;
        state.sizes = shrunk.sizes;
        widthsAfter = shrunk.sizes.widths;
      }
      sizeNow = sumTo(state.sizes.cell_sizes, plan.lastCell);
      params = derivedParams();
      const reached = budget === null ? sizeNow <= sizeTarget! : params <= budget;
      if (reached) reason = 'target_reached';
    }
    if (reason === null && epoch + 1 >= s.max_epochs) reason = 'epoch_cap';
    runDir.event('epoch', {
      stage: plan.name, phase: 'search', epoch, commit, ce: r.mean_ce, reg_op: r.mean_reg_op, r_thr: r.mean_r_thr, train_accuracy: r.train_accuracy,
      ops_pruned: r.ops_pruned, committed: r.committed, units: r.units, live_ops: r.live_ops, size_counted: sizeNow, params_derived: params,
      params_supernet: state.sizes.params_supernet, lambda_next: lambda.lambda, seconds: r.seconds,
    });
    progress.log(
      `[${plan.name}] epoch ${epoch + 1}/${s.max_epochs}${commit ? ' (commit)' : ''}  ce ${r.mean_ce.toFixed(3)}  train acc ${pct(r.train_accuracy)}  ` +
        `ops ${state.opsLeft}/${opsTotal}${commit ? ` (-${r.ops_pruned})` : ''}  size ${(sizeStart ? (100 * sizeNow) / sizeStart : 100).toFixed(0)}%  ` +
        `params ${params.toLocaleString('en-US')}  λ→${lambda.lambda.toExponential(1)}  ${progress.elapsed()}`,
    );
  }

  const sizeStop = sizeNow;
  let regrown = 0;
  if (plan.regrow && config.granularities.includes('operation')) {
    // SPEC §4.2 step 5: one more epoch with the masks frozen, then regrowth from its importance statistics.
    const r = await epochRequest('search', 2, 0, lambda.lambda, false, 1, 'before regrowth');
    runDir.event('epoch', { stage: plan.name, phase: 'pre_regrow', epoch, ce: r.mean_ce, train_accuracy: r.train_accuracy, seconds: r.seconds });
    const done = await regrowOps(client, { pruned, ratio: s.regrow_ratio, lastCell: plan.lastCell, rng, candidates: space.candidates() });
    regrown = done.revived;
    if (done.result) {
      state.opMask = done.result.op_mask;
      state.opsLeft = done.result.live_ops;
    }
    runDir.event('regrow', { stage: plan.name, pruned_in_stage: pruned, revived: done.ops, rng_state: rng.snapshot() });
    progress.log(`[${plan.name}] regrowth: ${regrown} of the ${pruned} ops pruned in this stage revived`);
  }
  if (!final && filterLevel) {
    // SPEC §4.2 step 6: shrink through the next stage's cells; the cell feeding its head and the last cell stay full.
    const full = new Set([space.layers - 1, ...(next && next.head !== 'main' ? [next.lastCell] : [])]);
    const shrunk = await shrinkCells(client, plan.shrinkUpTo, full, space.decideShrink);
    state.shapes = shrunk.shapes;
    state.sizes = shrunk.sizes;
    widthsAfter = shrunk.sizes.widths;
    sizeNow = sumTo(shrunk.sizes.cell_sizes, plan.lastCell);
    params = derivedParams();
    runDir.event('shrink', { stage: plan.name, up_to: plan.shrinkUpTo, widths: widthsAfter, params_supernet: shrunk.sizes.params_supernet, size_counted: shrunk.sizes.size_counted });
    progress.log(`[${plan.name}] shrink: cell widths ${widthsAfter.join(' ')}; supernet ${shrunk.sizes.params_supernet.toLocaleString('en-US')} parameters`);
  }
  state.peak = Math.max(state.peak, peak);
  const record: PhaseRecord = {
    name: plan.name, last_cell: plan.lastCell, head: plan.head, warmup_epochs: s.warmup_epochs, epochs: epoch, ops_pruned: pruned, ops_regrown: regrown,
    size_start: sizeStart, size_target: sizeTarget, size_stop: sizeStop, size_end: sizeNow, params_derived: params, widths_after: widthsAfter, peak_memory_bytes: peak,
    stop_reason: reason, seconds: (Date.now() - started) / 1000,
  };
  runDir.event('stage_done', { ...record });
  return record;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
