// The one place that decides how an error is shown and which exit code it gets.
import { ZodError } from 'zod';
import { MgdartsError, RuntimeLostError, RuntimeRequestError, exitCodeFor } from '../errors.js';

/** Fixes for the runtime's own error codes. */
const RUNTIME_HINTS: Record<string, string> = {
  'runtime.nan_loss':
    'lower the learning rates (search.lr.*, retrain.lr) or search.lambda.lambda0, or set search.grad_clip / retrain.grad_clip, ' +
    'in the config; ' +
    'the bad batch was not applied, and the run directory keeps the epochs done (events.jsonl)',
  'runtime.oom':
    'lower search.batch_size / retrain.batch_size, or search_space.channels, or run on a device with more memory (--device); ' +
    'the runtime freed the request and takes the next one',
  'runtime.data_not_found': 'check the dataset files with `npx mgdarts doctor`',
  'runtime.write_failed': 'free space on (or fix the permissions of) the run directory\'s filesystem, then continue with `npx mgdarts resume <run-dir>`',
};

export function reportError(error: unknown, verbose: boolean, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (error instanceof MgdartsError) {
    let text = `mgdarts: ${error.message}\n`;
    const hint = error.hint ?? RUNTIME_HINTS[error.code];
    if (hint) text += `  fix: ${hint}\n`;
    if (error instanceof RuntimeLostError && error.stderrTail && verbose) text += `--- runtime stderr (tail) ---\n${error.stderrTail}\n`;
    if (error instanceof RuntimeRequestError && error.traceback && verbose) text += `--- runtime traceback ---\n${error.traceback}\n`;
    if (verbose && error.cause) text += `  cause: ${String((error.cause as Error).stack ?? error.cause)}\n`;
    text += `  (code ${error.code})\n`;
    write(text);
  } else if (error instanceof ZodError) {
    write(`mgdarts: internal protocol error: ${error.message}\n`);
  } else {
    write(`mgdarts: unexpected error: ${verbose ? String((error as Error)?.stack ?? error) : String((error as Error)?.message ?? error)}\n`);
    if (!verbose) write('  (run again with --verbose for the stack trace)\n');
  }
  return exitCodeFor(error);
}
