// One experiment end to end: validate, start the runtime, load data, search, derive, retrain, report.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readsDirectory, resolveDatasetDir } from '../config/dataset.js';
import { loadDataParams } from '../config/dataset-request.js';
import { parseConfig, readConfigJson, resolveConfigPath } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { InterruptedError, RuntimeLostError, UsageError } from '../errors.js';
import type { RequestResult } from '../runtime/protocol.js';
import type { RuntimeSession } from '../runtime/session.js';
import type { Architecture } from '../search-space/derive.js';
import { searchSpaceFor } from '../search-space/space.js';
import { exportModel } from './export-model.js';
import { writeManifest } from './manifest.js';
import { checkpointPath, latestCheckpoint, type CheckpointRecord } from './checkpoints.js';
import { checkRuntimeChoice, connectRuntime } from './connect.js';
import { fromJsonNdArray, toJsonNdArray } from './json-ndarray.js';
import { ProgressLine } from './progress.js';
import { buildResult, type RunResult } from './result.js';
import { runRetrain } from './retrain.js';
import { RunControl, type ResumeContext, type RunCheckpoint, type WeightMasksRecord } from './run-control.js';
import { RunDir, WEIGHT_MASKS_FILE } from './run-dir.js';
import { lockRunDir, type RunLock } from './run-lock.js';
import { runSearch, type SearchOutcome } from './search.js';

export interface RunOptions {
  config?: string;
  dataDir?: string;
  runtime?: string;
  /** CURVE keys of the --runtime. */
  keys?: string;
  device?: string;
  threads?: number;
  out?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export interface RunSummary {
  runDir: string;
  result: RunResult;
  architecture: Architecture;
}

/** Config from file plus command-line overrides, validated; nothing is created before this passes. */
export function prepareConfig(options: RunOptions): { config: ExperimentConfig; path: string; datasetDir: string } {
  const path = resolveConfigPath(options.config);
  // Command-line overrides go through the same schema as the file, so `--device tpu` is reported like a bad config.
  const raw = readConfigJson(path) as Record<string, unknown>;
  const overrides: Record<string, unknown> = {};
  if (options.device) overrides.device = options.device;
  if (options.threads) overrides.threads = options.threads;
  const config = parseConfig({ ...raw, ...overrides }, path);
  if (options.dataDir) {
    if (!readsDirectory(config.dataset.name)) {
      throw new UsageError(`--data-dir applies to datasets read from a directory (fashion-mnist, cifar10, cifar100, image-folder); ${path} uses ${config.dataset.name}`, 'run a config whose dataset is read from a directory, e.g. configs/fashion-mnist.json or configs/cifar10-smoke.json');
    }
    config.dataset.data_dir = options.dataDir;
  }
  checkRuntimeChoice(options);
  const datasetDir = resolveDatasetDir(config.dataset.name, config.dataset.data_dir, dirname(path));
  return { config, path, datasetDir };
}

export async function runExperiment(options: RunOptions): Promise<RunSummary> {
  const { config, path, datasetDir } = prepareConfig(options);
  const progress = new ProgressLine(process.stderr, options.quiet);
  const session = await connectRuntime(options, config);
  // Created only once the runtime answers and the data loads, so a failed start leaves nothing behind.
  let runDir: RunDir;
  let data: LoadedData;
  const stopOnSignal = interruptHandler(session, progress);
  try {
    data = await loadData(session, config, path, datasetDir, progress);
    runDir = createRunDir(options.out ?? 'runs', config.name);
  } catch (err) {
    await session.close();
    throw err;
  } finally {
    stopOnSignal.dispose();
  }
  const lock = lockRunDir(runDir.path);
  runDir.writeJson('config.json', config);
  progress.log(`run directory: ${runDir.path}`);
  const context = { configPath: path, datasetDir, configHash: configFileHash(runDir.path) };
  return superviseRun({ options, config, context, runDir, progress, session, data, lock });
}

/** SHA-256 of a run directory's config.json as written. */
export function configFileHash(dir: string): string {
  return createHash('sha256').update(readFileSync(join(dir, 'config.json'))).digest('hex');
}

type LoadedData = RequestResult<'load_data'>;

async function loadData(session: RuntimeSession, config: ExperimentConfig, configPath: string, datasetDir: string, progress: ProgressLine): Promise<LoadedData> {
  progress.log(runtimeLine(session.hello, !session.process));
  const data = await session.client.request('load_data', loadDataParams(config, datasetDir, dirname(configPath)));
  progress.log(`data: ${data.dataset} from ${data.directory}: ${data.train_size} search / ${data.valid_size} held-out / ${data.test_size} test images`);
  for (const note of data.notes) progress.log(`data: ${note}`);
  return data;
}

export interface SupervisedRun {
  options: Pick<RunOptions, 'runtime' | 'keys' | 'verbose'>;
  config: ExperimentConfig;
  context: ResumeContext;
  runDir: RunDir;
  progress: ProgressLine;
  session: RuntimeSession;
  /** What the session's load_data returned, when the caller loaded already. */
  data?: LoadedData;
  resume?: CheckpointRecord<RunCheckpoint>;
  /** The run directory's lock, released when the run ends. */
  lock: RunLock;
}

/** Restarts of a private runtime that died (killed, crashed) before the run gives up. */
const MAX_RESTARTS = 3;

/** Runs (or resumes) the experiment; a private runtime that dies is restarted and the run resumed from its last
 * checkpoint. Ctrl-C / SIGTERM: a checkpoint at the next epoch boundary, then exit 130 with the resume command. */
export async function superviseRun(run: SupervisedRun): Promise<RunSummary> {
  const { options, config, context, runDir, progress } = run;
  let session = run.session;
  let resume = run.resume;
  let loaded = run.data;
  const control = new RunControl(runDir, session.client, context, progress);
  const handler = (signal: NodeJS.Signals) => {
    if (!control.stopping) {
      control.requestStop(signal);
      progress.log(`\n${signal}: a checkpoint at the end of this epoch, then stop (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops now)`);
      return;
    }
    const saved = latestCheckpoint(runDir.path).record !== null;
    progress.log(`\n${signal}: stopping now${saved ? '; the last checkpoint stays' : ''}`);
    session.interrupt(new InterruptedError(signal, saved ? `resume from the last checkpoint with: ${control.resumeCommand()}` : 'no checkpoint was written yet: start the run again'));
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  try {
    for (let restarts = 0; ; restarts++) {
      try {
        const data = loaded ?? (await loadData(session, config, context.configPath, context.datasetDir, progress));
        loaded = undefined; // a restarted runtime loads again
        const summary = await execute(session, data, config, context, runDir, progress, control, resume);
        if (control.stopping) progress.log('the run finished before the next epoch boundary: nothing to resume');
        if (control.unmatchedStop()) progress.log(`MGDARTS_STOP_AT=${control.unmatchedStop()} matched no checkpoint label of this run (see events.jsonl)`);
        return summary;
      } catch (err) {
        if (!(err instanceof RuntimeLostError) || !session.process || control.stopping || restarts >= MAX_RESTARTS) {
          if (err instanceof RuntimeLostError && session.process && restarts >= MAX_RESTARTS) {
            progress.log(`the runtime was lost again after ${MAX_RESTARTS} restarts in this run; giving up`);
          }
          if (!(err instanceof InterruptedError) && latestCheckpoint(runDir.path).record) {
            progress.log(`the run's checkpoints are kept; after fixing the cause, continue with: ${control.resumeCommand()}`);
          }
          throw err;
        }
        const latest = latestCheckpoint<RunCheckpoint>(runDir.path);
        for (const r of latest.rejected) progress.log(`checkpoint ${r.file} skipped: ${r.reason}`);
        const from = latest.record ? `checkpoint ${latest.record.seq} (${latest.record.label})` : 'the start (no checkpoint yet)';
        runDir.event('runtime_restart', { restart: restarts + 1, reason: err.message, lost_requests: err.lostRequests, from_checkpoint: latest.record?.label ?? null, skipped: latest.rejected });
        progress.log(`${err.message.split('\n')[0]}; restarting the runtime (${restarts + 1} of ${MAX_RESTARTS}) and resuming from ${from}`);
        await session.close().catch(() => undefined);
        session = await connectRuntime(options, config);
        control.attach(session.client);
        resume = latest.record ?? undefined;
      }
    }
  } finally {
    await session.close();
    run.lock.release();
    for (const signal of SIGNALS) process.off(signal, handler);
    // The summary is printed right after: a signal in that moment must not kill the CLI halfway through it.
    const late = () => progress.log('the run has ended; printing its summary');
    for (const signal of SIGNALS) process.once(signal, late);
    setImmediate(() => SIGNALS.forEach((signal) => process.off(signal, late)));
  }
}

/** Signals that stop a run at the next epoch boundary: Ctrl-C, a scheduler's stop, a closed terminal. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function execute(
  session: RuntimeSession, data: LoadedData, config: ExperimentConfig, context: ResumeContext, runDir: RunDir, progress: ProgressLine,
  control: RunControl, resume?: CheckpointRecord<RunCheckpoint>,
): Promise<RunSummary> {
  const { client, hello } = session;
  const { configPath } = context;
  if (!resume) writeManifest(runDir, { configPath, config, hello, data });
  else runDir.event('resumed', { checkpoint: resume.label, seq: resume.seq, pid: hello.pid });
  const space = searchSpaceFor(config, { in_channels: data.image_shape[0] ?? 1, num_classes: data.num_classes });
  const tensors = resume && { path: checkpointPath(runDir.path, resume), sha256: resume.runtime_sha256 };
  const state = resume?.state;

  let search: SearchOutcome;
  let masks: WeightMasksRecord | null;
  if (state?.kind === 'retrain') {
    search = { ...state.search, opMask: fromJsonNdArray(state.search.opMask) };
    masks = state.masks;
  } else {
    const ctx = { client, config, space, runDir, progress, validSize: data.valid_size };
    search = await runSearch(ctx, control.searchBoundary, state?.kind === 'search' ? { snapshot: state.search, ...tensors! } : undefined);
    masks = null;
  }
  const architecture = space.derive(search.opMask, search.shapes);
  if (state?.kind !== 'retrain') {
    runDir.writeJson('architecture.json', architecture);
    // The weight masks go beside the architecture (SPEC §5.1); the evaluation network applies them.
    masks = config.granularities.includes('weight') ? await client.request('save_weight_masks', { path: runDir.file(WEIGHT_MASKS_FILE) }) : null;
  }
  const searchJson = { ...search, opMask: toJsonNdArray(search.opMask) };
  const retrain = await runRetrain(
    client, config, architecture, masks?.path ?? null, runDir, progress,
    (label, p) => control.retrainBoundary(label, p, searchJson, masks),
    state?.kind === 'retrain' ? { progress: state.retrain, ...tensors! } : undefined,
  );
  const exported = await exportModel(client, runDir, progress);
  const result = { ...buildResult({ config, data, device: hello.device, search, retrain, architecture, weightMasks: masks }), export: exported };
  runDir.writeJson('result.json', result);
  runDir.event('run_done', { test_accuracy: result.test_accuracy });
  return { runDir: runDir.path, result, architecture };
}

export function createRunDir(root: string, name: string): RunDir {
  try {
    return RunDir.create(root, name);
  } catch (err) {
    throw new UsageError(`cannot create a run directory under ${root}: ${(err as Error).message}`, 'pass --out <a writable directory>');
  }
}

/** Ctrl-C / SIGTERM: fail the pending request at once, stop the runtime, exit through the reporter (130). */
export function interruptHandler(session: RuntimeSession, progress: ProgressLine): { dispose(): void } {
  const handler = (signal: NodeJS.Signals) => {
    progress.log(`\n${signal}: stopping the runtime`);
    session.interrupt(new InterruptedError(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** The runtime in one line; a persistent runtime says it was warm (torch already imported, up for a while). */
export function runtimeLine(hello: RuntimeSession['hello'], persistent = false): string {
  const threads = `${hello.threads} thread${hello.threads === 1 ? '' : 's'}`;
  return `runtime: torch ${hello.torch_version} on ${hello.device} (${threads}), pid ${hello.pid}` + (persistent ? `, persistent, up ${hello.uptime_s.toFixed(0)} s` : '');
}
