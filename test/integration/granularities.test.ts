// The runtime searches the filter and weight levels when asked (SPEC §2): every level's units are counted,
// commits mask filters and weights, and the operation-only baseline reports the other levels untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { buildParams, closeSessions, epochParams, searchLr, startRuntimeWithData, tinySpace } from '../helpers/runtime.js';

describe('granularities', () => {
  let session: RuntimeSession;
  beforeAll(async () => {
    session = await startRuntimeWithData({ train_limit: 96 });
  });
  afterAll(closeSessions);

  it('all three levels: a commit with fast-rising thresholds masks filters and weights of live ops', async () => {
    const { client } = session;
    const built = await client.request('build_supernet', buildParams(tinySpace(4, 3), { granularities: ['operation', 'filter', 'weight'] }));
    for (const level of ['operation', 'filter', 'weight'] as const) {
      const [kept, total] = built.units[level];
      expect(total).toBeGreaterThan(0);
      expect(kept).toBe(total);
    }
    const r = await client.request(
      'train_epoch',
      // Op thresholds at their usual pace (most ops stay live); filter and weight thresholds rush up.
      epochParams({ phase: 'search', batch_size: 32, max_batches: 3, reg_lambda: 1.0, commit: true, lr: searchLr({ filter_threshold: 5, weight_threshold: 5 }) }),
    );
    expect(r.committed.filter).toBeGreaterThan(0);
    expect(r.committed.weight).toBeGreaterThan(0);
    expect(r.units.operation[0]).toBe(built.units.operation[0] - r.committed.operation);
    expect(r.units.filter[0]).toBeLessThan(r.units.filter[1]);
    expect(r.units.weight[0]).toBeLessThan(r.units.weight[1]);
  });

  it('operation only: filter and weight units stay whole', async () => {
    const { client } = session;
    await client.request('build_supernet', buildParams(tinySpace(4, 3)));
    const r = await client.request('train_epoch', epochParams({ phase: 'search', batch_size: 32, max_batches: 2, reg_lambda: 1.0, commit: true, lr: searchLr({ op_threshold: 5 }) }));
    expect(r.committed.filter).toBe(0);
    expect(r.committed.weight).toBe(0);
    expect(r.units.filter[0]).toBe(r.units.filter[1]);
  });
});
