// The commander program: parses arguments and calls the library; errors go through one reporter.
import { Command, CommanderError, Option } from 'commander';
import { retrainExperiment } from '../experiment/retrain-experiment.js';
import { runExperiment } from '../experiment/run.js';
import { PACKAGE_VERSION } from '../version.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/format.js';
import { reportError } from './report-error.js';
import { writeReport } from './report.js';
import { formatRetrainSummary } from './retrain-summary.js';
import { formatSummary } from './summary.js';
import { runDoctor } from './doctor.js';
import { inspectRunDir } from './inspect.js';
import { addRuntimeCommands } from './runtime-command.js';
import { resumeExperiment } from '../experiment/resume.js';
import { runSetup, runPython } from './setup.js';

function program(): Command {
  const cli = new Command('mgdarts')
    .description('MG-DARTS: multi-granularity differentiable architecture search')
    .version(PACKAGE_VERSION)
    .option('--verbose', 'show runtime logs and stack traces')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  runtimeOptions(cli.command('run'))
    .description('search, retrain and report (default config: configs/quickstart.json)')
    .argument('[config]', 'experiment config (JSON)')
    .option('--data-dir <dir>', 'dataset directory (else MGDARTS_DATA, else the Debian path)')
    .option('--out <dir>', 'where run directories go', 'runs')
    .option('--quiet', 'no progress output')
    .action(async (config: string | undefined, opts: Record<string, string | number | boolean | undefined>) => {
      const verbose = Boolean(cli.opts().verbose);
      const { runDir, result, architecture } = await runExperiment({
        config, dataDir: opts.dataDir as string | undefined, runtime: opts.runtime as string | undefined, keys: opts.keys as string | undefined, device: opts.device as string | undefined,
        threads: opts.threads as number | undefined, out: opts.out as string, quiet: Boolean(opts.quiet), verbose,
      });
      process.stdout.write(formatSummary(runDir, result, architecture));
    });

  runtimeOptions(cli.command('resume'))
    .description('continue a stopped or crashed run from its newest intact checkpoint, in the same run directory')
    .argument('<run-dir>', 'a directory made by `mgdarts run`')
    .option('--quiet', 'no progress output')
    .action(async (dir: string, opts: Record<string, string | number | boolean | undefined>) => {
      const { runDir, result, architecture } = await resumeExperiment({
        runDir: dir, runtime: opts.runtime as string | undefined, keys: opts.keys as string | undefined, device: opts.device as string | undefined,
        threads: opts.threads as number | undefined, quiet: Boolean(opts.quiet), verbose: Boolean(cli.opts().verbose),
      });
      process.stdout.write(formatSummary(runDir, result, architecture));
    });

  runtimeOptions(cli.command('retrain'))
    .description('train an architecture from scratch under its dataset\'s evaluation protocol (SPEC §5.3), then export it')
    .argument('<source>', 'a run directory, or an architecture.json (with --config; a weight_masks.pt beside it is used)')
    .option('--config <json>', 'experiment config whose dataset, retrain section and seed are used (e.g. transfer to another dataset)')
    .option('--epochs <n>', 'retraining epochs', (v) => parsePositive(v, '--epochs'))
    .option('--batch-size <n>', 'retraining batch size', (v) => parsePositive(v, '--batch-size'))
    .option('--seed <n>', 'seed of the retraining', (v) => parseNonNegative(v, '--seed'))
    .option('--max-batches <n>', 'cap batches per epoch (smoke runs)', (v) => parsePositive(v, '--max-batches'))
    .option('--data-dir <dir>', 'dataset directory (else MGDARTS_DATA, else the Debian path)')
    .option('--out <dir>', 'where run directories go', 'runs')
    .option('--quiet', 'no progress output')
    .action(async (source: string, opts: Record<string, string | number | boolean | undefined>) => {
      const { runDir, result } = await retrainExperiment({
        source, config: opts.config as string | undefined, epochs: opts.epochs as number | undefined, batchSize: opts.batchSize as number | undefined,
        seed: opts.seed as number | undefined, maxBatches: opts.maxBatches as number | undefined, dataDir: opts.dataDir as string | undefined,
        runtime: opts.runtime as string | undefined, keys: opts.keys as string | undefined, device: opts.device as string | undefined, threads: opts.threads as number | undefined,
        out: opts.out as string, quiet: Boolean(opts.quiet), verbose: Boolean(cli.opts().verbose),
      });
      process.stdout.write(formatRetrainSummary(runDir, result));
    });

  cli
    .command('report')
    .description('runs grouped by experiment (mean ± std over seeds) beside published reference figures with their sources')
    .argument('<run-dirs...>', 'directories made by `mgdarts run` or `mgdarts retrain`')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .option('--out <file>', 'write the report to this file instead of stdout')
    .action((dirs: string[], opts: { format: ReportFormat; out?: string }) => {
      writeReport(dirs, opts.format, opts.out);
    });

  cli
    .command('doctor')
    .description('report node, python, torch, devices, zeromq, protocol and datasets')
    .option('--data-dir <dir>', 'also look for datasets here')
    .option('--dataset <spec>', 'preview a user dataset python:<module or file.py>:<factory> (sizes, item shape and dtype, classes, the first error)')
    .action(async (opts: { dataDir?: string; dataset?: string }) => {
      process.exitCode = await runDoctor(opts.dataDir, opts.dataset);
    });

  cli
    .command('inspect')
    .description('print a run: architecture per cell (ops per edge with widths), retention, parameters, stage history')
    .argument('<run-dir>', 'a directory made by `mgdarts run`')
    .action((dir: string) => {
      process.stdout.write(inspectRunDir(dir));
    });

  addRuntimeCommands(cli, parsePositive);

  cli.command('setup').description("create the runtime's Python environment (.venv) from requirements.txt").action(runSetup);

  cli
    .command('python')
    .description("run the runtime's Python with the runtime on its path (e.g. `mgdarts python -m pytest`)")
    .argument('[args...]')
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (args: string[]) => {
      process.exitCode = await runPython(args);
    });
  return cli;
}

function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CommanderError(2, 'cli.usage', `${flag} expects a positive integer, got "${value}"`);
  return n;
}

function parseNonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CommanderError(2, 'cli.usage', `${flag} expects a non-negative integer, got "${value}"`);
  return n;
}

/** Runs the CLI and returns the exit code (never calls process.exit, so tests can drive it). */
export async function main(argv: string[]): Promise<number> {
  const cli = program();
  try {
    await cli.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      if (err.code === 'cli.usage') process.stderr.write(`mgdarts: ${err.message}\n`);
      return 2;
    }
    return reportError(err, Boolean(cli.opts().verbose));
  }
}

/** Where a command's tensor work runs: a private runtime (device, threads) or a persistent one (endpoint, keys). */
function runtimeOptions(command: Command): Command {
  return command
    .option('--runtime <endpoint>', 'use a running runtime at this ZeroMQ endpoint instead of a private one')
    .option('--keys <dir>', 'CURVE keys for that runtime (see `mgdarts runtime keygen`; else MGDARTS_KEYS)')
    .addOption(new Option('--device <device>', 'cpu, cuda or cuda:N (overrides the config)'))
    .option('--threads <n>', 'torch threads in the runtime (overrides the config)', (v) => parsePositive(v, '--threads'));
}
