// A connected runtime: the private one this CLI spawns (and stops), or a persistent one at an endpoint.
import { RuntimeLostError } from '../errors.js';
import { RuntimeClient, type HelloResult } from './client.js';
import type { CurveClientKeys } from './curve-keys.js';
import { RuntimeProcess } from './process.js';
import { findPython } from './python.js';

export interface SessionOptions {
  /** Connect to this endpoint instead of spawning a private runtime. */
  endpoint?: string;
  device?: string;
  threads?: number;
  env?: Record<string, string>;
  verbose?: boolean;
  helloTimeoutMs?: number;
  /** CURVE keys for a persistent runtime bound with --keys. */
  curve?: CurveClientKeys;
}

export interface RuntimeSession {
  client: RuntimeClient;
  hello: HelloResult;
  process?: RuntimeProcess;
  /** Fail every pending request now (Ctrl-C); a persistent runtime is also told to drop this controller's work. */
  interrupt(error: Error): void;
  /** Stop a private runtime (shutdown, then signals); release a persistent one for the next controller. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions = {}): Promise<RuntimeSession> {
  if (options.endpoint) {
    const { client, hello } = await RuntimeClient.connect(options.endpoint, options.helloTimeoutMs ?? 8_000, undefined, { curve: options.curve });
    const release = () => client.request('release', {}, { timeoutMs: 5000 }).catch(() => undefined);
    return {
      client,
      hello,
      interrupt: (error) => {
        void release(); // queued before the pending requests fail; the runtime cancels this controller's request
        client.failAll(error);
      },
      close: async () => {
        await release();
        client.close();
      },
    };
  }
  const proc = RuntimeProcess.spawn({ python: findPython(), device: options.device, threads: options.threads, env: options.env, verbose: options.verbose });
  // Importing torch takes seconds; a runtime that dies on start fails the handshake at once, with its stderr.
  let connected: { client: RuntimeClient; hello: HelloResult } | undefined;
  try {
    connected = await RuntimeClient.connect(proc.endpoint, options.helloTimeoutMs ?? 120_000, (client) =>
      proc.onExit((info) =>
        client.failAll(
          connected
            ? new RuntimeLostError(`the runtime ${info}`, client.pendingNames(), proc.stderr())
            : new RuntimeLostError(`the runtime ${info} before answering hello`, [], proc.stderr()),
        ),
      ),
    );
  } catch (err) {
    proc.kill();
    await proc.exited;
    throw err;
  }
  const { client, hello } = connected;
  return {
    client,
    hello,
    process: proc,
    interrupt: (error) => client.failAll(error),
    close: async () => {
      // A runtime that acknowledged shutdown gets time to exit; otherwise (interrupted, lost) SIGTERM now.
      const acknowledged = !proc.hasExited && (await client.request('shutdown', {}, { timeoutMs: 5000 }).then(() => true, () => false));
      client.close();
      await proc.stop(acknowledged ? 5000 : 0);
    },
  };
}
