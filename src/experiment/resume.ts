// `mgdarts resume <run-dir>`: continue a stopped or crashed run from its newest intact checkpoint, in the same
// run directory, with the config it started with.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { latestCheckpoint } from './checkpoints.js';
import { checkRuntimeChoice, connectRuntime } from './connect.js';
import { ProgressLine } from './progress.js';
import type { RunCheckpoint } from './run-control.js';
import { RunDir } from './run-dir.js';
import { superviseRun, type RunSummary } from './run.js';

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
      `no intact checkpoint in ${dir}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ' (the run stopped before its first one)'}`,
      'start the run again with `mgdarts run`',
    );
  }
  const raw = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  const overrides: Record<string, unknown> = {};
  if (options.device) overrides.device = options.device;
  if (options.threads) overrides.threads = options.threads;
  const config = parseConfig({ ...raw, ...overrides }, configFile);
  checkRuntimeChoice(options);
  const progress = new ProgressLine(process.stderr, options.quiet);
  // Said even with --quiet: which checkpoint a resumed run continues from is part of its record.
  for (const s of skipped) process.stderr.write(`mgdarts: checkpoint ${s}; passed over\n`);
  const record = latest.record;
  process.stderr.write(`mgdarts: resuming ${dir} from checkpoint ${record.seq} (${record.label}, ${record.created})\n`);
  const session = await connectRuntime(options, config);
  return superviseRun({ options, config, context: record.state.context, runDir: RunDir.open(dir), progress, session, resume: record });
}
