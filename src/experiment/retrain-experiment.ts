// `mgdarts retrain`: an architecture (run directory or architecture.json) trained from scratch under the evaluation
// protocol of its dataset (SPEC §5.3) in a new run directory, then exported. Reuses runRetrain, the run's own path.
import { copyFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadDataParams } from '../config/dataset-request.js';
import { UsageError, RuntimeRequestError } from '../errors.js';
import type { RequestResult } from '../runtime/protocol.js';
import type { RuntimeSession } from '../runtime/session.js';
import type { Architecture } from '../search-space/derive.js';
import type { ExperimentConfig } from '../config/schema.js';
import { checkRuntimeChoice, connectRuntime } from './connect.js';
import { exportModel } from './export-model.js';
import { writeManifest } from './manifest.js';
import { ProgressLine } from './progress.js';
import { prepareRetrainConfig, type RetrainOverrides } from './retrain-config.js';
import { buildRetrainResult, type RetrainResult } from './retrain-result.js';
import { readRetrainSource, type RetrainSource } from './retrain-source.js';
import { runRetrain } from './retrain.js';
import { WEIGHT_MASKS_FILE, type RunDir } from './run-dir.js';
import { createRunDir, interruptHandler, runtimeLine } from './run.js';

export interface RetrainOptions extends RetrainOverrides {
  source: string;
  runtime?: string;
  /** CURVE keys of the --runtime. */
  keys?: string;
  out?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export async function retrainExperiment(options: RetrainOptions): Promise<{ runDir: string; result: RetrainResult }> {
  const source = readRetrainSource(options.source);
  const { config, path, datasetDir } = prepareRetrainConfig(source, options);
  checkRuntimeChoice(options);
  const progress = new ProgressLine(process.stderr, options.quiet);
  const session = await connectRuntime(options, config);
  const stopOnSignal = interruptHandler(session, progress);
  try {
    return await execute(session, source, config, path, datasetDir, options.out ?? 'runs', progress);
  } finally {
    stopOnSignal.dispose();
    await session.close();
  }
}

async function execute(session: RuntimeSession, source: RetrainSource, config: ExperimentConfig, configPath: string, datasetDir: string, out: string, progress: ProgressLine) {
  const { client, hello } = session;
  progress.log(runtimeLine(hello, !session.process));
  const data = await client.request('load_data', loadDataParams(config, datasetDir, dirname(configPath)));
  progress.log(`data: ${data.dataset} from ${data.directory}: ${data.full_train_size} training / ${data.test_size} test images`);
  const architecture = transfer(source.architecture, data, progress);
  await checkFits(session, source, architecture, config);
  // Created only once the architecture and masks are known to fit, so a bad input leaves nothing behind.
  const runDir = createRunDir(out, `${config.name}-retrain`);
  progress.log(`run directory: ${runDir.path}`);
  runDir.writeJson('config.json', config);
  const sourceRecord = { path: source.path, architecture: source.architecturePath, weight_masks: source.weightMasks, config: configPath };
  writeManifest(runDir, { configPath, config, hello, data, extra: { source: sourceRecord } });
  runDir.writeJson('architecture.json', architecture);
  const masks = copyMasks(source, runDir);
  const retrain = await runRetrain(client, config, architecture, masks, runDir, progress);
  const exported = await exportModel(client, runDir, progress);
  const result = buildRetrainResult({ source: sourceRecord, config, data, architecture, retrain, device: hello.device, exported });
  runDir.writeJson('result.json', result);
  runDir.event('run_done', { test_accuracy: result.test_accuracy });
  return { runDir: runDir.path, result };
}

/** The stem reads the new dataset's channels and the classifier has its classes; the cells are unchanged. */
function transfer(arch: Architecture, data: RequestResult<'load_data'>, progress: ProgressLine): Architecture {
  const inChannels = data.image_shape[0] ?? arch.in_channels;
  if (inChannels !== arch.in_channels || data.num_classes !== arch.num_classes) {
    progress.log(`architecture transferred to ${data.dataset}: stem ${arch.in_channels} → ${inChannels} input channels, classifier ${arch.num_classes} → ${data.num_classes} classes`);
  }
  return { ...arch, in_channels: inChannels, num_classes: data.num_classes };
}

/** Build the network once before any file is written: an architecture or mask file that does not fit is exit 2. */
async function checkFits(session: RuntimeSession, source: RetrainSource, arch: Architecture, config: ExperimentConfig): Promise<void> {
  try {
    await session.client.request('build_eval', { architecture: { ...arch }, weight_masks: source.weightMasks, auxiliary: config.retrain.auxiliary, seed: config.seed, channels_last: config.channels_last, deterministic: config.deterministic });
  } catch (err) {
    if (!(err instanceof RuntimeRequestError) || err.code !== 'runtime.bad_params') throw err;
    const what = source.weightMasks ? `${source.architecturePath} with ${source.weightMasks}` : source.architecturePath;
    throw new UsageError(`${what} cannot be built: ${err.message}`, 'retrain the architecture.json and weight_masks.pt of one and the same run (both are written together)');
  }
}

function copyMasks(source: RetrainSource, runDir: RunDir): string | null {
  if (!source.weightMasks) return null;
  copyFileSync(source.weightMasks, runDir.file(WEIGHT_MASKS_FILE));
  return runDir.file(WEIGHT_MASKS_FILE);
}
