// `mgdarts resume <run-dir>`: continue a stopped or crashed run from its newest intact checkpoint, in the same
// run directory, with the config it started with.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, readConfigJson } from '../config/load.js';
import { UsageError } from '../errors.js';
import { latestCheckpoint } from './checkpoints.js';
import { checkRuntimeChoice, connectRuntime } from './connect.js';
import { ProgressLine } from './progress.js';
import type { RunCheckpoint } from './run-control.js';
import { RunDir } from './run-dir.js';
import { lockRunDir } from './run-lock.js';
import { configFileHash, superviseRun, type RunSummary } from './run.js';

export interface ResumeOptions {
  runDir: string;
  runtime?: string;
  keys?: string;
  device?: string;
  threads?: number;
  quiet?: boolean;
  verbose?: boolean;
}

export async function resumeExperiment(options: ResumeOptions): Promise<RunSummary> {
  const dir = options.runDir;
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UsageError(`${dir} is no run directory (no config.json)`, 'pass a directory made by `mgdarts run`');
  if (existsSync(join(dir, 'result.json'))) throw new UsageError(`the run in ${dir} has finished (result.json is there); nothing to resume`);
  const latest = latestCheckpoint<RunCheckpoint>(dir);
  const skipped = latest.rejected.map((r) => `${r.file}: ${r.reason}`);
  if (!latest.record) {
    throw new UsageError(
      `no intact checkpoint in ${dir}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ' (none is there: the run stopped before its first, or they were removed)'}`,
      'start the run again with `mgdarts run`',
    );
  }
  const record = latest.record;
  const written = record.state.context.configHash;
  if (written && configFileHash(dir) !== written) {
    throw new UsageError(
      `${configFile} changed since the run wrote it: a resumed run must continue with the config it started with`,
      'restore the file (the checkpoints match it); for other settings start a new run with `mgdarts run`, or pass --device / --threads to resume',
    );
  }
  const raw = readConfigJson(configFile) as Record<string, unknown>;
  const overrides: Record<string, unknown> = {};
  if (options.device) overrides.device = options.device;
  if (options.threads) overrides.threads = options.threads;
  const config = parseConfig({ ...raw, ...overrides }, configFile);
  checkRuntimeChoice(options);
  const progress = new ProgressLine(process.stderr, options.quiet);
  // Said even with --quiet: which checkpoint a resumed run continues from is part of its record.
  for (const s of skipped) process.stderr.write(`mgdarts: checkpoint ${s}; passed over\n`);
  process.stderr.write(`mgdarts: resuming ${dir} from checkpoint ${record.seq} (${record.label}, ${record.created})\n`);
  const lock = lockRunDir(dir);
  let session;
  try {
    session = await connectRuntime(options, config);
  } catch (err) {
    lock.release();
    throw err;
  }
  return superviseRun({ options, config, context: record.state.context, runDir: RunDir.open(dir), progress, session, resume: record, lock });
}
