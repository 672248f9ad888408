// One experiment end to end: validate, start the runtime, load data, search, derive, retrain, report.
import { dirname } from 'node:path';
import { readsDirectory, resolveDatasetDir } from '../config/dataset.js';
import { loadDataParams } from '../config/dataset-request.js';
import { parseConfig, readConfigJson, resolveConfigPath } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { InterruptedError, UsageError } from '../errors.js';
import type { RuntimeSession } from '../runtime/session.js';
import type { Architecture } from '../search-space/derive.js';
import { searchSpaceFor } from '../search-space/space.js';
import { exportModel } from './export-model.js';
import { writeManifest } from './manifest.js';
import { checkRuntimeChoice, connectRuntime } from './connect.js';
import { ProgressLine } from './progress.js';
import { buildResult, type RunResult } from './result.js';
import { runRetrain } from './retrain.js';
import { RunDir, WEIGHT_MASKS_FILE } from './run-dir.js';
import { runSearch } from './search.js';

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
  const stopOnSignal = interruptHandler(session, progress);
  try {
    // Created only once the runtime answers, so a failed start leaves nothing behind.
    const runDir = createRunDir(options.out ?? 'runs', config.name);
    runDir.writeJson('config.json', config);
    progress.log(`run directory: ${runDir.path}`);
    return await execute(session, config, path, datasetDir, runDir, progress);
  } finally {
    stopOnSignal.dispose();
    await session.close();
  }
}

async function execute(session: RuntimeSession, config: ExperimentConfig, configPath: string, datasetDir: string, runDir: RunDir, progress: ProgressLine): Promise<RunSummary> {
  const { client, hello } = session;
  progress.log(runtimeLine(hello, !session.process));
  const data = await client.request('load_data', loadDataParams(config, datasetDir, dirname(configPath)));
  progress.log(`data: ${data.dataset} from ${data.directory}: ${data.train_size} search / ${data.valid_size} held-out / ${data.test_size} test images`);
  for (const note of data.notes) progress.log(`data: ${note}`);
  writeManifest(runDir, { configPath, config, hello, data });
  const space = searchSpaceFor(config, { in_channels: data.image_shape[0] ?? 1, num_classes: data.num_classes });
  const search = await runSearch({ client, config, space, runDir, progress, validSize: data.valid_size });
  const architecture = space.derive(search.opMask, search.shapes);
  runDir.writeJson('architecture.json', architecture);
  // The weight masks go beside the architecture (SPEC §5.1); the evaluation network applies them.
  const masks = config.granularities.includes('weight') ? await client.request('save_weight_masks', { path: runDir.file(WEIGHT_MASKS_FILE) }) : null;
  const retrain = await runRetrain(client, config, architecture, masks?.path ?? null, runDir, progress);
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
