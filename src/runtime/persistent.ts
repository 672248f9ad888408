// A persistent runtime (`mgdarts runtime start|status|stop`): started detached, recorded in a state file, and shared
// by runs in a row that connect with --runtime; it keeps torch (and CUDA) warm between them.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MgdartsError, RuntimeUnreachableError, UsageError } from '../errors.js';
import { PY_RUNTIME_DIR } from '../paths.js';
import { RuntimeClient, type HelloResult } from './client.js';
import { readClientKeys } from './curve-keys.js';
import { checkBind, checkEndpoint } from './endpoint.js';
import type { RequestResult } from './protocol.js';
import { findPython } from './python.js';

export interface RuntimeRecord {
  endpoint: string;
  pid: number;
  keys: string | null;
  log: string;
  started: string;
}

/** Where the state file and log of the persistent runtime live: MGDARTS_HOME, else ~/.mgdarts. */
export function stateDir(): string {
  return resolve(process.env.MGDARTS_HOME ?? join(homedir(), '.mgdarts'));
}

const recordPath = () => join(stateDir(), 'runtime.json');

const MIN_LEASE_SECONDS = 5;

export function defaultBind(): string {
  return `ipc://${join(stateDir(), 'runtime.sock')}`;
}

export function readRecord(): RuntimeRecord | null {
  if (!existsSync(recordPath())) return null;
  return JSON.parse(readFileSync(recordPath(), 'utf8')) as RuntimeRecord;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The endpoint and keys a command should use: the flags, else the recorded runtime. */
export function resolveTarget(endpoint: string | undefined, keys: string | undefined): { endpoint: string; keys: string | undefined; record: RuntimeRecord | null } {
  const record = readRecord();
  const target = endpoint ?? record?.endpoint;
  if (!target) throw new UsageError('no runtime named and none started here', 'pass --runtime <endpoint>, or start one with `mgdarts runtime start`');
  checkEndpoint(target, '--runtime');
  const same = record && record.endpoint === target ? record : null;
  if (same && !alive(same.pid)) {
    rmSync(recordPath(), { force: true });
    throw new MgdartsError('runtime.unreachable', `the runtime started here at ${target} (pid ${same.pid}) is no longer running`, {
      hint: 'start one with `mgdarts runtime start`',
    });
  }
  return { endpoint: target, keys: keys ?? process.env.MGDARTS_KEYS ?? same?.keys ?? undefined, record: same };
}

export interface StartOptions {
  bind?: string;
  device?: string;
  threads?: number;
  keys?: string;
  leaseSeconds?: number;
}

/** Start a detached runtime and wait until it answers; refuses a second one while the recorded one lives. */
export async function startRuntime(options: StartOptions): Promise<{ record: RuntimeRecord; hello: HelloResult }> {
  const bind = options.bind ?? defaultBind();
  checkBind(bind, options.keys);
  if (options.leaseSeconds !== undefined && options.leaseSeconds < MIN_LEASE_SECONDS) {
    throw new UsageError(`--lease must be at least ${MIN_LEASE_SECONDS} s (clients speak every 2 s), got ${options.leaseSeconds}`);
  }
  const keys = options.keys ? resolve(options.keys) : null;
  const curve = keys ? readClientKeys(keys) : undefined;
  const existing = readRecord();
  if (existing && alive(existing.pid)) {
    throw new UsageError(`a runtime is already running at ${existing.endpoint} (pid ${existing.pid})`, 'use it with `mgdarts run --runtime ' + existing.endpoint + '`, or stop it with `mgdarts runtime stop`');
  }
  mkdirSync(stateDir(), { recursive: true });
  const log = join(stateDir(), 'runtime.log');
  const args = ['-m', 'mgdarts_runtime', '--endpoint', bind];
  if (options.device) args.push('--device', options.device);
  if (options.threads) args.push('--threads', String(options.threads));
  if (keys) args.push('--keys', keys);
  if (options.leaseSeconds) args.push('--lease-seconds', String(options.leaseSeconds));
  // node's own spawn: a detached daemon with its output in a file, nothing piped through this short-lived command.
  const out = openSync(log, 'a');
  const child = spawn(findPython(), args, { env: { ...process.env, PYTHONPATH: PY_RUNTIME_DIR, PYTHONUNBUFFERED: '1' }, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new UsageError(`could not start ${findPython()}`, 'run `npx mgdarts doctor`');
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.unref();
  const record: RuntimeRecord = { endpoint: bind, pid, keys, log, started: new Date().toISOString() };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exited) throw new UsageError(`the runtime ${exited}: ${lastLine(log)}`, `see ${log}`);
    try {
      const { client, hello } = await RuntimeClient.connect(bind, 2_000, undefined, { claim: false, curve });
      client.close();
      writeFileSync(recordPath(), `${JSON.stringify(record, null, 2)}\n`);
      return { record, hello };
    } catch (err) {
      if (!(err instanceof RuntimeUnreachableError)) {
        process.kill(pid, 'SIGTERM');
        throw err;
      }
    }
  }
  process.kill(pid, 'SIGKILL');
  throw new UsageError(`the runtime did not answer within 120 s`, `see ${log}`);
}

function lastLine(path: string): string {
  return readFileSync(path, 'utf8').trim().split('\n').pop() ?? '';
}

async function look(endpoint: string, keys: string | undefined): Promise<{ client: RuntimeClient; hello: HelloResult }> {
  return RuntimeClient.connect(endpoint, 5_000, undefined, { claim: false, curve: keys ? readClientKeys(keys) : undefined });
}

export async function runtimeStatus(endpoint?: string, keys?: string): Promise<{ endpoint: string; hello: HelloResult; status: RequestResult<'status'> }> {
  const target = resolveTarget(endpoint, keys);
  const { client, hello } = await look(target.endpoint, target.keys);
  try {
    return { endpoint: target.endpoint, hello, status: await client.request('status', {}, { timeoutMs: 5000 }) };
  } finally {
    client.close();
  }
}

/** Ask the runtime to shut down and wait for its process to end (SIGKILL after 15 s). */
export async function stopRuntime(endpoint?: string, keys?: string, force = false): Promise<{ endpoint: string; pid: number }> {
  const target = resolveTarget(endpoint, keys);
  const { client, hello } = await look(target.endpoint, target.keys);
  try {
    await client.request('shutdown', { force }, { timeoutMs: 5000 });
  } finally {
    client.close();
  }
  // Only a runtime started here has a pid on this machine to wait for.
  const pid = target.record?.pid === hello.pid ? hello.pid : null;
  const deadline = Date.now() + 15_000;
  while (pid !== null && alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pid !== null && alive(pid)) process.kill(pid, 'SIGKILL');
  if (target.record) rmSync(recordPath(), { force: true });
  return { endpoint: target.endpoint, pid: hello.pid };
}
