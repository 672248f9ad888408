// A connected runtime: the private one this CLI spawns (and stops), or a persistent one at an endpoint.
import { RuntimeLostError } from '../errors.js';
import { RuntimeClient, type HelloResult } from './client.js';
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
}

export interface RuntimeSession {
  client: RuntimeClient;
  hello: HelloResult;
  process?: RuntimeProcess;
  /** Stop a private runtime (shutdown, then signals); just disconnect from a persistent one. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions = {}): Promise<RuntimeSession> {
  if (options.endpoint) {
    const { client, hello } = await RuntimeClient.connect(options.endpoint, options.helloTimeoutMs ?? 8_000);
    return { client, hello, close: async () => client.close() };
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
    close: async () => {
      // A runtime that acknowledged shutdown gets time to exit; otherwise (interrupted, lost) SIGTERM now.
      const acknowledged = !proc.hasExited && (await client.request('shutdown', {}, { timeoutMs: 5000 }).then(() => true, () => false));
      client.close();
      await proc.stop(acknowledged ? 5000 : 0);
    },
  };
}
