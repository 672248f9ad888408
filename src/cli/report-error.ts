// The one place that decides how an error is shown and which exit code it gets.
import { ZodError } from 'zod';
import { MgdartsError, RuntimeRequestError, exitCodeFor } from '../errors.js';

export function reportError(error: unknown, verbose: boolean, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (error instanceof MgdartsError) {
    let text = `mgdarts: ${error.message}\n`;
    if (error.hint) text += `  fix: ${error.hint}\n`;
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
