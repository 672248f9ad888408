// Numerical and memory faults through the real runtime on CPU, from its fault switches: out of memory
// (MGDARTS_FAULT=oom, for batches of 16 and more) names the batch size and the memory and leaves the
// runtime serving the next, smaller request; a NaN loss in a retraining epoch names stage 'retrain' and
// the epoch, and the epochs before it were not poisoned.
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeRequestError } from '../../src/errors.js';
import { openSession, type RuntimeSession } from '../../src/runtime/session.js';
import { deriveArchitecture } from '../../src/search-space/derive.js';
import { closeSessions, epochParams, evalEpochParams, prepareSupernet, tinySpace } from '../helpers/runtime.js';

const sessions: RuntimeSession[] = [];

async function startWith(env: Record<string, string>): Promise<RuntimeSession> {
  const session = await openSession({ device: 'cpu', threads: 1, env });
  sessions.push(session);
  return session;
}

afterEach(async () => {
  for (const s of sessions.splice(0)) {
    await s.close().catch(() => undefined);
    if (s.process && !s.process.hasExited) {
      s.process.kill();
      await s.process.exited;
    }
    expect(s.process!.hasExited).toBe(true);
  }
  await closeSessions();
});

async function rejection(p: Promise<unknown>): Promise<RuntimeRequestError> {
  const error = await p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RuntimeRequestError);
  return error as RuntimeRequestError;
}

describe('fault switches: out of memory and a NaN retraining loss', () => {
  it('oom: train_epoch and evaluate reply runtime.oom naming the batch size and memory; smaller requests then succeed', async () => {
    const { client, process: proc } = await startWith({ MGDARTS_FAULT: 'oom', MGDARTS_FAULT_OOM_BATCH_SIZE: '16' });
    await prepareSupernet(client);

    const tooBig = epochParams({ stage: 'stage2', epoch: 3, batch_size: 16, max_batches: 3 });
    const error = await rejection(client.request('train_epoch', tooBig));
    expect(error).toMatchObject({ code: 'runtime.oom', requestType: 'train_epoch', ename: 'OutOfMemory', traceback: null });
    expect(error.message).toContain("out of memory in stage 'stage2' (warmup), epoch 3 with batch size 16");
    expect(error.message).toMatch(/Tried to allocate 1\.00 GiB/);
    expect(error.message).toMatch(/at the failure cpu: peak resident [\d.]+ GiB, [\d.]+ GiB free of [\d.]+ GiB total/);
    expect(await client.request('status', {})).toMatchObject({ state: 'idle' });

    const ok = await client.request('train_epoch', epochParams({ stage: 'stage2', epoch: 3, batch_size: 8, max_batches: 3 }));
    expect(ok.batches).toBe(3);
    expect(ok.samples).toBe(24);
    expect(Number.isFinite(ok.mean_ce)).toBe(true);

    const evalError = await rejection(client.request('evaluate', { model: 'supernet', split: 'test', batch_size: 64 }));
    expect(evalError).toMatchObject({ code: 'runtime.oom', requestType: 'evaluate' });
    expect(evalError.message).toContain('out of memory in the evaluation of the test split with batch size 64');
    const evaluated = await client.request('evaluate', { model: 'supernet', split: 'test', batch_size: 8 });
    expect(evaluated.samples).toBeGreaterThan(0);
    expect(proc!.hasExited).toBe(false);
  });

  it("nan_loss in retraining: train_eval_epoch replies runtime.nan_loss naming stage 'retrain', the epoch and the batch", async () => {
    const { client } = await startWith({ MGDARTS_FAULT: 'nan_loss', MGDARTS_FAULT_STAGE: 'retrain', MGDARTS_FAULT_EPOCH: '1' });
    const space = tinySpace();
    const { built } = await prepareSupernet(client, space);
    // The search epoch is in another stage: the switch leaves it alone.
    expect(Number.isFinite((await client.request('train_epoch', epochParams({ max_batches: 2 }))).mean_ce)).toBe(true);
    const architecture = { ...deriveArchitecture(space, built.op_mask) };
    await client.request('build_eval', { architecture, weight_masks: null, auxiliary: false, seed: 1, channels_last: false });
    const first = await client.request('train_eval_epoch', evalEpochParams({ epoch: 0, max_batches: 3 }));
    expect(Number.isFinite(first.loss)).toBe(true);

    const error = await rejection(client.request('train_eval_epoch', evalEpochParams({ epoch: 1, max_batches: 3 })));
    expect(error).toMatchObject({ code: 'runtime.nan_loss', requestType: 'train_eval_epoch' });
    expect(error.message).toContain("the loss is nan in stage 'retrain', epoch 1 (counting from 0), batch 2 of 3");
    expect(error.message).toContain('no optimizer step was taken for it: the parameters and optimizer state are those after batch 1');
    // The network is still there and evaluates to finite numbers: the NaN was never applied.
    const test = await client.request('evaluate', { model: 'eval', split: 'test', batch_size: 64 });
    expect(Number.isFinite(test.loss)).toBe(true);
  });
});
