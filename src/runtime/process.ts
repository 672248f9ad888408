// The private runtime process: spawned with execa, watched, stopped; it dies with the CLI.
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY_RUNTIME_DIR } from '../paths.js';

export interface RuntimeProcessOptions {
  python: string;
  device?: string;
  threads?: number;
  /** Extra environment, e.g. MGDARTS_FAULT for fault-injection tests. */
  env?: Record<string, string>;
  /** Echo the runtime's log lines to our stderr. */
  verbose?: boolean;
}

const STDERR_TAIL_BYTES = 8192;

/** A fresh ipc endpoint; kept short because unix socket paths are limited to ~100 bytes. */
export function privateEndpoint(): string {
  return `ipc://${join(tmpdir(), `mgdarts-${process.pid}-${randomBytes(4).toString('hex')}.sock`)}`;
}

export class RuntimeProcess {
  private stderrTail = '';
  private exitInfo: string | undefined;
  private readonly exitListeners: Array<(info: string) => void> = [];
  readonly exited: Promise<string>;

  private constructor(
    readonly endpoint: string,
    private readonly child: ResultPromise,
    verbose: boolean,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
      if (verbose) process.stderr.write(chunk);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        // The ipc socket file outlives its process (libzmq leaves it, a killed runtime cannot): its name is ours.
        if (endpoint.startsWith('ipc://')) rmSync(endpoint.slice('ipc://'.length), { force: true });
        for (const l of this.exitListeners) l(this.exitInfo);
        resolve(this.exitInfo);
      });
    });
    child.catch(() => undefined); // the exit is reported through `exited`
  }

  static spawn(options: RuntimeProcessOptions): RuntimeProcess {
    const endpoint = privateEndpoint();
    const args = ['-m', 'mgdarts_runtime', '--endpoint', endpoint, '--parent-pid', String(process.pid)];
    if (options.device) args.push('--device', options.device);
    if (options.threads) args.push('--threads', String(options.threads));
    const child = execa(options.python, args, {
      env: { ...options.env, PYTHONPATH: PY_RUNTIME_DIR, PYTHONUNBUFFERED: '1' },
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      reject: false,
      buffer: false,
      forceKillAfterDelay: 3000,
      // Its own process group: a signal to ours (Ctrl-C in a terminal, `timeout`, a job scheduler) reaches only the
      // CLI, which checkpoints and stops the runtime itself; PR_SET_PDEATHSIG still ends it if the CLI is killed.
      detached: true,
    });
    return new RuntimeProcess(endpoint, child, options.verbose ?? false);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  stderr(): string {
    return this.stderrTail.trim();
  }

  onExit(listener: (info: string) => void): void {
    if (this.exitInfo !== undefined) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  /** Wait for a clean exit (after a shutdown request), then escalate: SIGTERM, then SIGKILL. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.hasExited) return;
    const timedOut = await Promise.race([this.exited.then(() => false), delay(graceMs).then(() => true)]);
    if (!timedOut) return;
    this.child.kill('SIGTERM');
    const stillUp = await Promise.race([this.exited.then(() => false), delay(2000).then(() => true)]);
    if (stillUp) this.child.kill('SIGKILL');
    await this.exited;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
