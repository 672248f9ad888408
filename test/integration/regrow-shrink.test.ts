// Progressive re-evaluation over the wire: the runtime reports statistics, the TS policies decide
// (regrowth sampling with the seeded RNG, the width rule), the runtime executes, and training goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/policy/rng.js';
import { regrowCount, sampleRegrowth } from '../../src/policy/regrowth.js';
import { cellWidth } from '../../src/policy/width-rule.js';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { buildParams, closeSessions, epochParams, searchLr, startRuntimeWithData, tinySpace } from '../helpers/runtime.js';

describe('regrow and shrink through the protocol', () => {
  let session: RuntimeSession;
  beforeAll(async () => {
    session = await startRuntimeWithData({ train_limit: 96 });
  });
  afterAll(closeSessions);

  it('prune, regrow the sampled ops, shrink to the width rule, then train', async () => {
    const { client } = session;
    const space = tinySpace(8, 3);
    await client.request('build_supernet', buildParams(space, { granularities: ['operation', 'filter'] }));
    const pruned = await client.request(
      'train_epoch',
      epochParams({ phase: 'search', batch_size: 32, max_batches: 3, reg_lambda: 1.0, commit: true, lr: searchLr({ op_threshold: 2, filter_threshold: 2 }) }),
    );
    expect(pruned.ops_pruned).toBeGreaterThan(10);

    const stats = await client.request('regrow_statistics', {});
    expect(stats.weights.shape).toEqual([3, 14, 7]);
    const revive = sampleRegrowth({ weights: stats.weights, momentum: stats.momentum, opMask: stats.op_mask, lastCell: 2 }, regrowCount(pruned.ops_pruned, 0.2), new SeededRng(5));
    expect(revive.length).toBe(regrowCount(pruned.ops_pruned, 0.2));
    const regrown = await client.request('regrow', { ops: revive.map((r) => [r.cell, r.edge, r.op] as [number, number, number]) });
    expect(regrown.revived).toBe(revive.length);
    expect(regrown.live_ops).toBe(pruned.live_ops + revive.length);
    for (const r of revive) expect(regrown.op_mask.at(r.cell, r.edge, r.op)).toBe(1);

    const shrinkStats = await client.request('shrink_statistics', {});
    const last = shrinkStats.cells.length - 1;
    const widths = shrinkStats.cells.map((c) =>
      cellWidth({ nominal: c.nominal, preprocessLive: c.preprocess_live, nodeOutLive: c.node_out_live, full: c.cell === last }),
    );
    const shrunk = await client.request('shrink', { cell_widths: widths.map((width, cell) => ({ cell, width })), mid_widths: [] });
    expect(shrunk.widths).toEqual(widths);
    expect(shrunk.widths[last]).toBe(shrinkStats.cells[last]!.nominal);

    await client.request('begin_stage', { reset_thresholds: true });
    const after = await client.request('train_epoch', epochParams({ phase: 'search', batch_size: 32, max_batches: 2, reg_lambda: 0.01 }));
    expect(Number.isFinite(after.mean_ce)).toBe(true);
    expect(after.live_ops).toBe(regrown.live_ops);
  });

  it('reviving a live op is refused with an error reply, and the runtime keeps serving', async () => {
    const { client } = session;
    await client.request('build_supernet', buildParams(tinySpace(4, 3)));
    await expect(client.request('regrow', { ops: [[0, 0, 0]] })).rejects.toMatchObject({ requestType: 'regrow', code: 'runtime.bad_params' });
    await expect(client.request('shrink', { cell_widths: [{ cell: 0, width: 64 }], mid_widths: [] })).rejects.toMatchObject({ code: 'runtime.bad_params' });
    const status = await client.request('status', {});
    expect(status.state).toBe('idle');
  });
});
