// The seam against the real Python runtime on CPU: handshake, numbers and arrays on the wire, error
// replies, the control path during an epoch, cancel, lost runtimes, fault switches, and the size counter.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { RuntimeLostError, RuntimeRequestError } from '../../src/errors.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { NDARRAY_KEY, PROTOCOL_VERSION, opVocabularyHash, type ProgressEvent } from '../../src/runtime/protocol.js';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { countedSize, deriveArchitecture } from '../../src/search-space/derive.js';
import {
  RawPeer,
  closeSessions,
  epochParams,
  evalEpochParams,
  isAlive,
  prepareSupernet,
  startRuntime,
  tinySpace,
  waitFor, searchLr } from '../helpers/runtime.js';

/** The settled outcome of a promise, so a rejection is never unhandled while the test waits for something else. */
function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function expectRejection(p: Promise<unknown>): Promise<Error> {
  const outcome = await settle(p);
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as Error;
}

// One runtime for the tests that leave it usable. slow_batches (0.2 s per batch) makes an epoch last long
// enough for status and cancel to arrive while it runs; it only slows the training loops.
describe('against one runtime (MGDARTS_FAULT=slow_batches)', () => {
  let session: RuntimeSession;
  beforeAll(async () => {
    session = await startRuntime('slow_batches');
  });
  afterAll(async () => {
    await closeSessions();
    expect(session.process!.hasExited).toBe(true);
    expect(existsSync(session.process!.endpoint.slice('ipc://'.length)), 'ipc socket file after a clean stop').toBe(false);
  });

  it('hello reports protocol, torch, device cpu and the op-vocabulary hash of this CLI', () => {
    const h = session.hello;
    expect(h.protocol_version.split('.')[0]).toBe(PROTOCOL_VERSION.split('.')[0]);
    expect(h.torch_version).toMatch(/^\d+\.\d+/);
    expect(h.device).toBe('cpu');
    expect(h.devices).toContain('cpu');
    expect(h.op_vocab_hash).toBe(opVocabularyHash());
    expect(h.threads).toBe(1);
    expect(h.pid).toBe(session.process?.pid);
  });

  it('echo round-trips 64-bit integers, floats, strings, nested values and arrays through Python', async () => {
    const f32 = NdArray.from('float32', [2, 3], [0.5, -1.25, 3.0, 1e-7, -0, 65504]);
    const u8 = NdArray.from('uint8', [5], [0, 1, 127, 254, 255]);
    const value = {
      ints: [0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1)],
      big: [9223372036854775807n, -9223372036854775808n],
      // Integer doubles from 2^53 on are exact but not safe: they go out as int64; they come back exact
      // (msgpackr's 'auto' gives a number where exact, else a BigInt).
      unsafe: [2 ** 53, -(2 ** 53), 2 ** 62],
      floats: [0.5, -1.25, 0.1, 1e300, -1e-300, Math.PI],
      strings: ['', 'plain', 'héllo ✓ 日本', 'x'.repeat(1000)],
      nested: { a: [1, { b: [true, false, null] }], 'key with space': { deep: { deeper: [[1, 2], [3]] } } },
      arrays: { f32, u8 },
    };
    const { value: back } = await session.client.request('echo', { value });
    const v = back as typeof value;
    expect(v.ints).toEqual(value.ints);
    for (const n of v.ints) expect(typeof n).toBe('number');
    // Beyond 2^53 only BigInt is exact; Python must hand back exactly the same 64-bit values.
    expect(v.big).toEqual([9223372036854775807n, -9223372036854775808n]);
    expect(typeof v.big[0]).toBe('bigint');
    expect(v.unsafe.map((x) => BigInt(x))).toEqual([2n ** 53n, -(2n ** 53n), 2n ** 62n]);
    expect(v.floats).toEqual(value.floats);
    expect(v.strings).toEqual(value.strings);
    expect(v.nested).toEqual(value.nested);
    expect(v.arrays.f32).toBeInstanceOf(NdArray);
    expect(v.arrays.f32.dtype).toBe('float32');
    expect(v.arrays.f32.shape).toEqual([2, 3]);
    expect(Array.from(v.arrays.f32.data as Float32Array)).toEqual(Array.from(f32.data as Float32Array));
    expect(v.arrays.u8).toBeInstanceOf(NdArray);
    expect(v.arrays.u8.dtype).toBe('uint8');
    expect(Array.from(v.arrays.u8.data as Uint8Array)).toEqual([0, 1, 127, 254, 255]);
  });

  it('2^32 and 2^53 stay integers on the Python side (msgpack int, not float64)', async () => {
    // The reply header is inspected raw: Python packs what it decoded, so a float there means the TS side
    // sent a float. 2^53 is an exact double but not a "safe" integer; it must still travel as an int.
    const peer = new RawPeer(session.process!.endpoint);
    try {
      const raw = new Packr({ useRecords: false, int64AsType: 'string' as 'number', mapsAsObjects: true });
      for (const n of [2 ** 32, 2 ** 53 - 1, 2 ** 53]) {
        await peer.sendMessage({ id: `int-${n}`, type: 'echo', params: { value: n } });
        const { frames } = await peer.next();
        const header = raw.unpack(frames[0]!) as { result: { value: unknown } };
        expect({ n, value: header.result.value, type: typeof header.result.value }).toEqual({ n, value: String(n), type: 'string' });
      }
    } finally {
      peer.close();
    }
  });

  it('arrays travel as raw frames beside the header, in both directions', async () => {
    const peer = new RawPeer(session.process!.endpoint);
    try {
      const f32 = NdArray.from('float32', [4], [1.5, -2, 0, 3.25]);
      const u8 = NdArray.from('uint8', [2, 2], [9, 8, 7, 6]);
      await peer.sendMessage({ id: 'arr', type: 'echo', params: { value: { f32, u8 } } });
      const { frames, message } = await peer.next();
      expect(message.kind).toBe('result');
      expect(frames).toHaveLength(3); // header + two raw buffers
      const header = new Packr({ useRecords: false, mapsAsObjects: true }).unpack(frames[0]!) as { result: { value: Record<string, unknown> } };
      expect(header.result.value.f32).toEqual({ [NDARRAY_KEY]: { dtype: 'float32', shape: [4], buffer: expect.any(Number) } });
      expect(header.result.value.u8).toEqual({ [NDARRAY_KEY]: { dtype: 'uint8', shape: [2, 2], buffer: expect.any(Number) } });
      expect(frames.slice(1).map((f) => f.byteLength).sort((a, b) => a - b)).toEqual([4, 16]);
      const back = (message.result as { value: { f32: NdArray; u8: NdArray } }).value;
      expect(Array.from(back.f32.data as Float32Array)).toEqual([1.5, -2, 0, 3.25]);
      expect(Array.from(back.u8.data as Uint8Array)).toEqual([9, 8, 7, 6]);
    } finally {
      peer.close();
    }
  });

  it('answers an unknown type, bad params and a garbage frame with error replies, and keeps serving', async () => {
    const peer = new RawPeer(session.process!.endpoint);
    try {
      await peer.sendMessage({ id: 'u1', type: 'frobnicate', params: {} });
      const unknown = await peer.reply('u1');
      expect(unknown).toMatchObject({ id: 'u1', kind: 'error', type: 'frobnicate', error: { code: 'runtime.unknown_type' } });

      // The client's zod check would refuse batch_size 0; sent raw, the runtime must refuse it itself.
      await peer.sendMessage({ id: 'b1', type: 'evaluate', params: { model: 'supernet', split: 'valid', batch_size: 0 } });
      const bad = await peer.reply('b1');
      expect(bad).toMatchObject({ id: 'b1', kind: 'error', error: { code: 'runtime.bad_params' } });
      expect((bad.error as { message: string }).message).toContain('batch_size');

      await peer.sendMessage({ id: 'b2', type: 'evaluate', params: { model: 'supernet', split: 'valid', batch_size: 8, extra: 1 } });
      const extra = await peer.reply('b2');
      expect(extra).toMatchObject({ kind: 'error', error: { code: 'runtime.bad_params' } });
      expect((extra.error as { message: string }).message).toContain('extra');

      await peer.sendFrames([Buffer.from([0xc1, 0xff, 0x00, 0x13])]); // 0xc1 is never used in msgpack
      const garbage = await peer.next(5000);
      expect(garbage.message).toMatchObject({ kind: 'error', error: { code: 'runtime.bad_request' } });

      await peer.sendMessage({ id: 'ok', type: 'echo', params: { value: 'still here' } });
      expect(await peer.reply('ok')).toMatchObject({ kind: 'result', result: { value: 'still here' } });
      expect(await session.client.request('echo', { value: 42 })).toEqual({ value: 42 });
    } finally {
      peer.close();
    }
  });

  /** A 10-batch train_epoch on the slow_batches runtime, returned once its first progress event arrived. */
  async function startSlowEpoch(client: RuntimeSession['client']) {
    await prepareSupernet(client);
    const events: ProgressEvent[] = [];
    const epoch = settle(client.request('train_epoch', epochParams({ batch_size: 16, max_batches: 10 }), { onProgress: (e) => events.push(e) }));
    await waitFor(() => events.length > 0, 30_000, 'the first progress event');
    return { epoch, events };
  }

  it('serves status while an epoch runs; the epoch reply and ordered progress events still arrive', async () => {
    const { client } = session;
    const { epoch, events } = await startSlowEpoch(client);
    const status = await client.request('status', {});
    expect(status).toMatchObject({ state: 'busy', request_type: 'train_epoch', batches_total: 10 });
    expect(status.batches_done).toBeGreaterThanOrEqual(1);
    expect(status.request_id).toEqual(expect.any(String));
    const outcome = await epoch;
    if (!outcome.ok) throw outcome.error;
    expect(outcome.value).toMatchObject({ batches: 10, samples: 160 });
    expect(events.length).toBeGreaterThanOrEqual(2);
    const batches = events.map((e) => e.batch);
    for (let i = 1; i < batches.length; i++) expect(batches[i]).toBeGreaterThan(batches[i - 1]!);
    expect(events.every((e) => e.batches === 10)).toBe(true);
    expect(batches.at(-1)).toBe(10);
    expect(await client.request('status', {})).toMatchObject({ state: 'idle', request_id: null, request_type: null });
  });

  it('cancel stops a running train_epoch with runtime.cancelled; the runtime then serves again', async () => {
    const { client } = session;
    const { epoch, events } = await startSlowEpoch(client);
    const { request_id } = await client.request('status', {});
    expect(await client.request('cancel', { target: 'not-a-running-request' })).toEqual({ cancelled: false });
    expect(await client.request('cancel', { target: request_id! })).toEqual({ cancelled: true });
    const outcome = await epoch;
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(RuntimeRequestError);
    expect(error).toMatchObject({ code: 'runtime.cancelled', requestType: 'train_epoch' });
    expect(events.at(-1)!.batch).toBeLessThan(10);
    expect(await client.request('status', {})).toMatchObject({ state: 'idle' });
    const again = await client.request('train_epoch', epochParams({ batch_size: 16, max_batches: 2 }));
    expect(again.batches).toBe(2);
  });

  it('a train split of 65 with batch size 64 trains as one batch (no BatchNorm batch of one), search and retrain', async () => {
    const { client } = session;
    const space = tinySpace(2, 2);
    const { data, built } = await prepareSupernet(client, space, { valid_fraction: 0, train_limit: 65 });
    expect(data).toMatchObject({ train_size: 65, valid_size: 0, full_train_size: 65 });
    const r = await client.request('train_epoch', epochParams({ batch_size: 64, max_batches: null }));
    expect(r).toMatchObject({ batches: 1, samples: 65 });
    expect(Number.isFinite(r.mean_ce)).toBe(true);
    const arch = deriveArchitecture(space, built.op_mask);
    await client.request('build_eval', { architecture: { ...arch }, weight_masks: null, auxiliary: false, seed: 1, channels_last: false });
    const t = await client.request('train_eval_epoch', evalEpochParams({ batch_size: 64, max_batches: null }));
    expect(t).toMatchObject({ batches: 1, samples: 65 });
    expect(Number.isFinite(t.loss)).toBe(true);
  });

  it("countedSize (TS) equals the runtime's size_counted after build and after a commit that prunes", async () => {
    const { client } = session;
    const space = tinySpace(4, 3);
    const { built } = await prepareSupernet(client, space, { valid_fraction: 0, train_limit: 96 });
    expect(countedSize(space, built.op_mask)).toBe(built.size_counted);
    // A high λ and a fast op-threshold lr push thresholds above many op weights: the commit prunes.
    const r = await client.request(
      'train_epoch',
      epochParams({ phase: 'search', batch_size: 32, max_batches: 3, reg_lambda: 1.0, lr: searchLr({ op_threshold: 5 }), commit: true }),
    );
    expect(r.ops_pruned).toBeGreaterThan(0);
    expect(r.live_ops).toBe(built.live_ops - r.ops_pruned);
    expect(countedSize(space, r.op_mask)).toBe(r.size_counted);
    expect(r.size_counted).toBeLessThan(built.size_counted);
  });
});

describe('runtime failures', () => {
  afterEach(closeSessions);

  it('SIGKILL of the runtime fails the in-flight request with runtime.exited naming it; a new session serves at once', async () => {
    const session = await startRuntime('slow_batches');
    const { client } = session;
    await prepareSupernet(client);
    const events: ProgressEvent[] = [];
    const epoch = settle(client.request('train_epoch', epochParams({ max_batches: 20 }), { onProgress: (e) => events.push(e) }));
    await waitFor(() => events.length > 0, 30_000, 'the first progress event');
    const killedAt = Date.now();
    session.process!.kill('SIGKILL');
    const outcome = await epoch;
    expect(Date.now() - killedAt).toBeLessThan(5000);
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: unknown }).error as RuntimeLostError;
    expect(error).toBeInstanceOf(RuntimeLostError);
    expect(error.code).toBe('runtime.exited');
    // Either watcher may notice first: the process exit or the dropped connection.
    expect(error.message).toMatch(/killed by SIGKILL|connection to the runtime .* dropped/);
    expect(error.lostRequests).toEqual([expect.stringMatching(/^train_epoch \(/)]);
    expect(error.message).toMatch(/lost request\(s\): train_epoch/);
    await expect(client.request('echo', { value: 1 })).rejects.toBeInstanceOf(RuntimeLostError);

    await session.process!.exited;
    expect(existsSync(session.process!.endpoint.slice('ipc://'.length)), 'ipc socket file of the killed runtime').toBe(false);

    const fresh = await startRuntime();
    expect(await fresh.client.request('echo', { value: 'fresh' })).toEqual({ value: 'fresh' });
    expect(fresh.process!.pid).not.toBe(session.process!.pid);
  });

  it('crash_mid_epoch: the in-flight train_epoch rejects with runtime.exited and is reported lost', async () => {
    const session = await startRuntime('crash_mid_epoch');
    await prepareSupernet(session.client);
    const error = await expectRejection(session.client.request('train_epoch', epochParams({ max_batches: 4 })));
    expect(error).toBeInstanceOf(RuntimeLostError);
    expect(error).toMatchObject({ code: 'runtime.exited', lostRequests: [expect.stringMatching(/^train_epoch /)] });
    expect(error.message).toMatch(/killed by SIGKILL|connection to the runtime .* dropped/);
    await session.process!.exited;
    expect(isAlive(session.process!.pid!)).toBe(false);
  });

  it('nan_loss: train_epoch rejects with runtime.nan_loss naming stage and epoch; the runtime stays usable', async () => {
    const session = await startRuntime('nan_loss');
    await prepareSupernet(session.client);
    const error = await expectRejection(session.client.request('train_epoch', epochParams({ stage: 'stage-x', epoch: 7, max_batches: 3 })));
    expect(error).toBeInstanceOf(RuntimeRequestError);
    expect(error).toMatchObject({ code: 'runtime.nan_loss', requestType: 'train_epoch' });
    expect(error.message).toContain('stage-x');
    expect(error.message).toMatch(/epoch 7/);
    expect(await session.client.request('status', {})).toMatchObject({ state: 'idle' });
    expect(await session.client.request('echo', { value: [1, 'two'] })).toEqual({ value: [1, 'two'] });
  });

  it('exit_on_start: openSession rejects quickly with runtime.exited and the runtime stderr', async () => {
    const started = Date.now();
    const error = await expectRejection(startRuntime('exit_on_start', 60_000));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error).toBeInstanceOf(RuntimeLostError);
    expect(error).toMatchObject({ code: 'runtime.exited' });
    expect(error.message).toMatch(/before answering hello/);
    expect((error as RuntimeLostError).stderrTail).toContain('MGDARTS_FAULT=exit_on_start');
    expect(error.message).toContain('MGDARTS_FAULT=exit_on_start');
  });
});
