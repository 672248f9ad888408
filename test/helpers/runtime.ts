// Test helpers for the real runtime: sessions that are always stopped, tiny request params, a raw DEALER.
import { readFileSync } from 'node:fs';
import * as zmq from 'zeromq';
import { openSession, type RuntimeSession } from '../../src/runtime/session.js';
import type { RuntimeClient } from '../../src/runtime/client.js';
import type { RequestParams } from '../../src/runtime/protocol.js';
import { OP_VOCABULARY } from '../../src/runtime/protocol.js';
import { decodeFrames, encodeFrames } from '../../src/runtime/frames.js';
import { SAMPLE_DATA_DIR } from '../../src/paths.js';
import { reductionCells } from '../../src/search-space/darts-like.js';
import type { SpaceShape } from '../../src/search-space/derive.js';

const open = new Set<RuntimeSession>();

/** A private runtime on CPU with one torch thread; `fault` sets MGDARTS_FAULT. Stop it with `closeSessions`. */
export async function startRuntime(fault?: string, helloTimeoutMs?: number): Promise<RuntimeSession> {
  const session = await openSession({ device: 'cpu', threads: 1, env: fault ? { MGDARTS_FAULT: fault } : {}, helloTimeoutMs });
  open.add(session);
  return session;
}

/** A runtime (as startRuntime) with the shipped sample loaded: the start of most integration tests. */
export async function startRuntimeWithData(load: Partial<RequestParams<'load_data'>> = {}): Promise<RuntimeSession> {
  const session = await startRuntime();
  await session.client.request('load_data', loadParams(load));
  return session;
}

/** Stop every runtime these helpers started (afterEach/afterAll); a killed one is only disconnected. */
export async function closeSessions(): Promise<void> {
  const sessions = [...open];
  open.clear();
  await Promise.all(
    sessions.map(async (s) => {
      await s.close().catch(() => undefined);
      if (s.process && !s.process.hasExited) {
        s.process.kill();
        await s.process.exited;
      }
    }),
  );
}

export function loadParams(overrides: Partial<RequestParams<'load_data'>> = {}): RequestParams<'load_data'> {
  return {
    dataset: 'fashion-mnist-sample', data_dir: SAMPLE_DATA_DIR, sample_dir: SAMPLE_DATA_DIR,
    valid_fraction: 0, seed: 1, train_limit: 200, ...overrides,
  };
}

/** A tiny supernet on the sample (1×28×28, 10 classes). */
export function tinySpace(channels = 2, layers = 3): SpaceShape {
  return { in_channels: 1, num_classes: 10, channels, layers, nodes: 4, stem_stride: 2, ops: [...OP_VOCABULARY] };
}

export function buildParams(space: SpaceShape, overrides: Partial<RequestParams<'build_supernet'>> = {}): RequestParams<'build_supernet'> {
  return {
    channels: space.channels, layers: space.layers, nodes: space.nodes, reduction_cells: reductionCells(space.layers),
    stem_stride: space.stem_stride as 1 | 2, ops: [...space.ops], granularities: ['operation'], stage_heads: false, seed: 3, channels_last: false,
    ...overrides,
  };
}

/** Learning rates of SPEC §2.1, with overrides. */
export function searchLr(overrides: Partial<RequestParams<'train_epoch'>['lr']> = {}): RequestParams<'train_epoch'>['lr'] {
  return { weights: 0.01, alpha: 1, op_threshold: 0.1, filter_score: 1, filter_threshold: 0.1, weight_threshold: 0.001, ...overrides };
}

const NO_AUGMENT = { crop_padding: 0, flip: false, cutout: 0, auto_augment: false };
const SGD = { momentum: 0.9, weight_decay: 3e-4, grad_clip: 5 };

export function epochParams(overrides: Partial<RequestParams<'train_epoch'>> = {}): RequestParams<'train_epoch'> {
  return {
    phase: 'warmup', stage: 'search', epoch: 0, batch_size: 16, reg_lambda: 0, mu: 0,
    lr: searchLr(), sgd: SGD, commit: false, augment: NO_AUGMENT, max_batches: 4, seed: 5, last_cell: null, reg_cells: null,
    ...overrides,
  };
}

export function evalEpochParams(overrides: Partial<RequestParams<'train_eval_epoch'>> = {}): RequestParams<'train_eval_epoch'> {
  return { epoch: 0, batch_size: 16, lr: 0.025, sgd: SGD, drop_path_prob: 0, aux_weight: 0, augment: NO_AUGMENT, max_batches: 2, seed: 7, ...overrides };
}

/** load_data + build_supernet, the usual start of a search. */
export async function prepareSupernet(client: RuntimeClient, space = tinySpace(), load: Partial<RequestParams<'load_data'>> = {}) {
  const data = await client.request('load_data', loadParams(load));
  const built = await client.request('build_supernet', buildParams(space));
  return { data, built };
}

/** A second DEALER on a runtime's endpoint, for messages the typed client refuses to send. */
export class RawPeer {
  private readonly socket = new zmq.Dealer({ linger: 0 });
  private readonly inbox: Buffer[][] = [];
  private waiter: (() => void) | undefined;

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
    void this.readLoop();
  }

  async sendFrames(frames: Buffer[]): Promise<void> {
    await this.socket.send(frames);
  }

  async sendMessage(message: unknown): Promise<void> {
    await this.sendFrames(encodeFrames(message));
  }

  /** The next message from the runtime, raw frames and decoded; fails after `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<{ frames: Buffer[]; message: Record<string, unknown> }> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message from the runtime within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    const frames = this.inbox.shift()!;
    return { frames, message: decodeFrames(frames) as Record<string, unknown> };
  }

  /** The reply (result or error) to request `id`, skipping its progress events. */
  async reply(id: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    for (;;) {
      const { message } = await this.next(timeoutMs);
      if (message.id === id && message.kind !== 'event') return message;
    }
  }

  close(): void {
    this.socket.close();
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        this.inbox.push(frames);
        this.waiter?.();
      }
    } catch {
      // closing the socket ends the loop
    }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/** True while a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (dead, not yet reaped) still answers signal 0.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
