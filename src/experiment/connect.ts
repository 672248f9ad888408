// The runtime an experiment runs on: a private one spawned for it, or a persistent one named with --runtime.
import type { ExperimentConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { readClientKeys } from '../runtime/curve-keys.js';
import { checkEndpoint } from '../runtime/endpoint.js';
import { ensurePython } from '../runtime/python.js';
import { openSession, type RuntimeSession } from '../runtime/session.js';

export interface RuntimeChoice {
  /** A persistent runtime's endpoint; absent: spawn a private one. */
  runtime?: string;
  /** CURVE key directory for that runtime (else MGDARTS_KEYS). */
  keys?: string;
  verbose?: boolean;
}

/** Flag checks that must fail before anything is created. */
export function checkRuntimeChoice(choice: RuntimeChoice): void {
  if (choice.runtime) checkEndpoint(choice.runtime, '--runtime');
  else if (choice.keys) throw new UsageError('--keys applies to a persistent runtime', 'pass --runtime <endpoint> with it');
}

const sameDevice = (asked: string, runs: string) => asked === runs || (asked === 'cuda' && runs.startsWith('cuda')) || `${asked}:0` === runs;

export async function connectRuntime(choice: RuntimeChoice, config: ExperimentConfig): Promise<RuntimeSession> {
  const device = config.device === 'auto' ? undefined : config.device;
  if (!choice.runtime) {
    // A missing or broken environment is named (or created) before a run directory exists.
    await ensurePython((line) => process.stderr.write(`mgdarts: ${line}\n`));
    return openSession({ device, threads: config.threads ?? undefined, verbose: choice.verbose });
  }
  const keys = choice.keys ?? process.env.MGDARTS_KEYS;
  const session = await openSession({ endpoint: choice.runtime, curve: keys ? readClientKeys(keys) : undefined });
  if (device && !sameDevice(device, session.hello.device)) {
    await session.close();
    throw new UsageError(`the runtime at ${choice.runtime} runs on ${session.hello.device}, the config asks for ${device}`, 'set device to "auto" (or to the runtime\'s device), or start a runtime with --device ' + device);
  }
  return session;
}
