// The multi-stage search (SPEC §4): stages by resolution with their heads, each with a weight-only
// warm-up and a search loop that commits masks on even epochs; regrowth after stages 2 and 3; a physical
// shrink after every stage and at every commit of the final joint phase, which stops at the parameter
// budget. TypeScript decides every step; the runtime runs each epoch's batches in one request.
import type { ExperimentConfig } from '../config/schema.js';
import type { RuntimeClient } from '../runtime/client.js';
import { fromJsonNdArray, toJsonNdArray, type JsonNdArray } from './json-ndarray.js';
import type { NdArray } from '../runtime/ndarray.js';
import type { RequestResult } from '../runtime/protocol.js';
import { SeededRng } from '../policy/rng.js';
import { isCommitEpoch, type StopReason } from '../scheduler/cadence.js';
import { initialLambda, updateLambda, type LambdaState } from '../scheduler/lambda-schedule.js';
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

/** Where a phase stands at an epoch boundary: everything its loop carries from one epoch to the next. */
export interface PhaseProgress {
  warmupDone: number;
  /** The next search epoch. */
  epoch: number;
  lambda: LambdaState;
  sizeStart: number;
  sizeTarget: number | null;
  sizeNow: number;
  params: number;
  pruned: number;
  reason: StopReason;
  widthsAfter: number[] | null;
  peak: number;
  seconds: number;
}

/** The controller's half of a search checkpoint (the runtime's half is the supernet file). */
export interface SearchSnapshot {
  state: Omit<SearchState, 'opMask'> & { opMask: JsonNdArray };
  rng: number;
  phases: PhaseRecord[];
  /** The phase in progress, or the next to begin when `progress` is null. */
  phase: number;
  progress: PhaseProgress | null;
  seconds: number;
}

/** Called at every epoch boundary with the state there; `due` marks the regular checkpoints (commit epochs, phase ends). */
export type Boundary = (label: string, due: boolean, snapshot: () => SearchSnapshot) => Promise<void>;

export interface SearchResume {
  snapshot: SearchSnapshot;
  /** The supernet checkpoint file and its SHA-256. */
  path: string;
  sha256: string;
}

export async function runSearch(ctx: SearchContext, boundary: Boundary = async () => {}, resume?: SearchResume): Promise<SearchOutcome> {
  const { client, config, space, runDir, progress } = ctx;
  const plans = planStages(space.layers, config.search.stages, config.search.stages === 3 ? space.stageEnds() : undefined);
  const built = await client.request('build_supernet', {
    ...space.buildParams(plans.length > 1), granularities: config.granularities,
    stage_heads: plans.length > 1, seed: config.seed, channels_last: config.channels_last, deterministic: config.deterministic,
  });
  let state: SearchState;
  let rng: SeededRng;
  let phases: PhaseRecord[];
  let first = 0;
  const secondsBefore = resume?.snapshot.seconds ?? 0;
  const started = Date.now();
  if (resume) {
    await client.request('load_checkpoint', { model: 'supernet', path: resume.path, sha256: resume.sha256 });
    const snap = resume.snapshot;
    state = { ...snap.state, opMask: fromJsonNdArray(snap.state.opMask) };
    rng = new SeededRng(snap.rng);
    phases = [...snap.phases];
    first = snap.phase;
    progress.log(`supernet: restored at ${phaseLabel(plans, snap)} (${state.opsLeft} of ${built.live_ops} ops live)`);
  } else {
    runDir.event('supernet_built', { params: built.params_supernet, size_counted: built.size_counted, cell_sizes: built.cell_sizes, live_ops: built.live_ops });
    progress.log(`supernet: ${built.params_supernet.toLocaleString('en-US')} parameters, ${built.live_ops} candidate ops, granularities ${config.granularities.join(' + ')}`);
    state = { opMask: built.op_mask, opsLeft: built.live_ops, units: built.units, shapes: await cellShapes(client), sizes: built, peak: 0 };
    rng = new SeededRng(config.seed);
    phases = [];
  }
  const snapshot = (phase: number, phaseProgress: PhaseProgress | null) => (): SearchSnapshot => ({
    state: { ...state, opMask: toJsonNdArray(state.opMask) }, rng: rng.snapshot(), phases: [...phases], phase, progress: phaseProgress,
    seconds: secondsBefore + (Date.now() - started) / 1000,
  });
  for (let index = first; index < plans.length; index++) {
    const plan = plans[index]!;
    const carried = index === first ? resume?.snapshot.progress ?? undefined : undefined;
    const phaseBoundary: PhaseBoundary = (label, due, p) => boundary(`${plan.name}-${label}`, due, snapshot(index, p));
    phases.push(await runPhase(ctx, plan, index, plans[index + 1], state, built.live_ops, rng, phaseBoundary, carried));
    await boundary(`${plan.name}-end`, true, snapshot(index + 1, null));
  }
  const valid = ctx.validSize > 0 ? await client.request('evaluate', { model: 'supernet', split: 'valid', batch_size: 256 }) : null;
  const sizes = state.sizes;
  runDir.event('search_done', { live_ops: state.opsLeft, size_counted: sizes.size_counted, params_supernet: sizes.params_supernet, valid_accuracy: valid?.accuracy ?? null });
  return {
    opMask: state.opMask, shapes: state.shapes, opsTotal: built.live_ops, opsLeft: state.opsLeft, paramsSupernet: built.params_supernet,
    sizeStart: built.size_counted, sizeEnd: sizes.size_counted, phases, peakMemoryBytes: state.peak, units: state.units,
    validAccuracy: valid?.accuracy ?? null, seconds: secondsBefore + (Date.now() - started) / 1000,
  };
}

function phaseLabel(plans: StagePlan[], snap: SearchSnapshot): string {
  const plan = plans[snap.phase];
  if (!plan) return 'the end of the search';
  const p = snap.progress;
  if (!p) return `the start of ${plan.name}`;
  return p.epoch === 0 ? `${plan.name}, after ${p.warmupDone} warm-up epoch(s)` : `${plan.name}, after ${p.epoch} search epoch(s)`;
}

type PhaseBoundary = (label: string, due: boolean, progress: PhaseProgress) => Promise<void>;

async function runPhase(
  ctx: SearchContext, plan: StagePlan, index: number, next: StagePlan | undefined, state: SearchState, opsTotal: number, rng: SeededRng,
  boundary: PhaseBoundary, resume?: PhaseProgress,
): Promise<PhaseRecord> {
  const { client, config, space, runDir, progress } = ctx;
  const s = config.search;
  const filterLevel = config.granularities.includes('filter');
  const final = plan.name === 'final';
  // The final phase stops at the parameter budget when there is one, otherwise like a stage.
  const budget = final ? s.target_params : null;
  const derivedParams = () => space.countParameters(space.derive(state.opMask, state.shapes));

  let p: PhaseProgress;
  if (resume) {
    p = structuredClone(resume);
  } else {
    const begin = await client.request('begin_stage', { reset_thresholds: true });
    const sizeStart = sumTo(begin.cell_sizes, plan.lastCell);
    const sizeTarget = budget === null ? s.target_ratio * sizeStart : null;
    runDir.event('stage_start', { stage: plan.name, last_cell: plan.lastCell, head: plan.head, size_start: sizeStart, size_target: sizeTarget, target_params: budget, params_supernet: begin.params_supernet });
    progress.log(`[${plan.name}] cells 0-${plan.lastCell}, ${plan.head} head; counted size ${sizeStart.toLocaleString('en-US')}` +
      (budget === null ? `, stops at ${(s.target_ratio * 100).toFixed(0)}%` : `, stops at ${budget.toLocaleString('en-US')} parameters`));
    p = {
      warmupDone: 0, epoch: 0, lambda: initialLambda(s.lambda), sizeStart, sizeTarget, sizeNow: sizeStart, params: derivedParams(), pruned: 0,
      reason: null, widthsAfter: null, peak: 0, seconds: 0,
    };
  }
  const started = Date.now() - p.seconds * 1000;
  const at = () => ({ ...p, seconds: (Date.now() - started) / 1000 });

  const sgd = { momentum: s.momentum, weight_decay: s.weight_decay, grad_clip: s.grad_clip };
  const regCells = { from: plan.regCells.from, to: plan.regCells.to };
  const lastCell = final ? null : plan.lastCell;
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
      p.peak = Math.max(p.peak, r.peak_memory_bytes);
      return r;
    });

  while (p.warmupDone < s.warmup_epochs) {
    const e = p.warmupDone;
    const r = await epochRequest('warmup', 0, e, 0, false, s.warmup_epochs);
    runDir.event('epoch', { stage: plan.name, phase: 'warmup', epoch: e, ce: r.mean_ce, train_accuracy: r.train_accuracy, seconds: r.seconds });
    progress.log(`[${plan.name} warmup] epoch ${e + 1}/${s.warmup_epochs}  ce ${r.mean_ce.toFixed(3)}  train acc ${pct(r.train_accuracy)}  ${progress.elapsed()}`);
    p.warmupDone = e + 1;
    await boundary(`warmup-${e}`, false, at());
  }

  while (p.reason === null) {
    const epoch = p.epoch;
    const commit = isCommitEpoch(epoch);
    const r = await epochRequest('search', 1, epoch, p.lambda.lambda, commit, s.max_epochs);
    state.opMask = r.op_mask;
    state.opsLeft = r.live_ops;
    state.units = r.units;
    state.sizes = r;
    if (commit) {
      p.pruned += r.ops_pruned;
      p.lambda = updateLambda(p.lambda, { pruned: r.ops_pruned, meanCe: r.mean_ce, meanRegOp: r.mean_reg_op }, s.lambda, plan.capRatio);
      if (final && filterLevel) {
        // SPEC §4.4 step 4: every final-phase commit shrinks all cells.
        const shrunk = await shrinkCells(client, plan.shrinkUpTo, new Set([space.layers - 1]), space.decideShrink);
        state.shapes = shrunk.shapes;
        state.sizes = shrunk.sizes;
        p.widthsAfter = shrunk.sizes.widths;
      }
      p.sizeNow = sumTo(state.sizes.cell_sizes, plan.lastCell);
      p.params = derivedParams();
      const reached = budget === null ? p.sizeNow <= p.sizeTarget! : p.params <= budget;
      if (reached) p.reason = 'target_reached';
    }
    if (p.reason === null && epoch + 1 >= s.max_epochs) p.reason = 'epoch_cap';
    runDir.event('epoch', {
      stage: plan.name, phase: 'search', epoch, commit, ce: r.mean_ce, reg_op: r.mean_reg_op, r_thr: r.mean_r_thr, train_accuracy: r.train_accuracy,
      ops_pruned: r.ops_pruned, committed: r.committed, units: r.units, live_ops: r.live_ops, size_counted: p.sizeNow, params_derived: p.params,
      params_supernet: state.sizes.params_supernet, lambda_next: p.lambda.lambda, seconds: r.seconds,
    });
    progress.log(
      `[${plan.name}] epoch ${epoch + 1}/${s.max_epochs}${commit ? ' (commit)' : ''}  ce ${r.mean_ce.toFixed(3)}  train acc ${pct(r.train_accuracy)}  ` +
        `ops ${state.opsLeft}/${opsTotal}${commit ? ` (-${r.ops_pruned})` : ''}  size ${(p.sizeStart ? (100 * p.sizeNow) / p.sizeStart : 100).toFixed(0)}%  ` +
        `params ${p.params.toLocaleString('en-US')}  λ→${p.lambda.lambda.toExponential(1)}  ${progress.elapsed()}`,
    );
    p.epoch = epoch + 1;
    await boundary(`epoch-${epoch}`, commit, at());
  }

  const sizeStop = p.sizeNow;
  let regrown = 0;
  if (plan.regrow && config.granularities.includes('operation')) {
    // SPEC §4.2 step 5: one more epoch with the masks frozen, then regrowth from its importance statistics.
    const r = await epochRequest('search', 2, 0, p.lambda.lambda, false, 1, 'before regrowth');
    runDir.event('epoch', { stage: plan.name, phase: 'pre_regrow', epoch: p.epoch, ce: r.mean_ce, train_accuracy: r.train_accuracy, seconds: r.seconds });
    const done = await regrowOps(client, { pruned: p.pruned, ratio: s.regrow_ratio, lastCell: plan.lastCell, rng, candidates: space.candidates() });
    regrown = done.revived;
    if (done.result) {
      state.opMask = done.result.op_mask;
      state.opsLeft = done.result.live_ops;
    }
    runDir.event('regrow', { stage: plan.name, pruned_in_stage: p.pruned, revived: done.ops, rng_state: rng.snapshot() });
    progress.log(`[${plan.name}] regrowth: ${regrown} of the ${p.pruned} ops pruned in this stage revived`);
  }
  if (!final && filterLevel) {
    // SPEC §4.2 step 6: shrink through the next stage's cells; the cell feeding its head and the last cell stay full.
    const full = new Set([space.layers - 1, ...(next && next.head !== 'main' ? [next.lastCell] : [])]);
    const shrunk = await shrinkCells(client, plan.shrinkUpTo, full, space.decideShrink);
    state.shapes = shrunk.shapes;
    state.sizes = shrunk.sizes;
    p.widthsAfter = shrunk.sizes.widths;
    p.sizeNow = sumTo(shrunk.sizes.cell_sizes, plan.lastCell);
    p.params = derivedParams();
    runDir.event('shrink', { stage: plan.name, up_to: plan.shrinkUpTo, widths: p.widthsAfter, params_supernet: shrunk.sizes.params_supernet, size_counted: shrunk.sizes.size_counted });
    progress.log(`[${plan.name}] shrink: cell widths ${p.widthsAfter.join(' ')}; supernet ${shrunk.sizes.params_supernet.toLocaleString('en-US')} parameters`);
  }
  state.peak = Math.max(state.peak, p.peak);
  const record: PhaseRecord = {
    name: plan.name, last_cell: plan.lastCell, head: plan.head, warmup_epochs: s.warmup_epochs, epochs: p.epoch, ops_pruned: p.pruned, ops_regrown: regrown,
    size_start: p.sizeStart, size_target: p.sizeTarget, size_stop: sizeStop, size_end: p.sizeNow, params_derived: p.params, widths_after: p.widthsAfter,
    peak_memory_bytes: p.peak, stop_reason: p.reason, seconds: (Date.now() - started) / 1000,
  };
  runDir.event('stage_done', { ...record });
  return record;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
