// The MobileNet-like space through the real runtime: its supernet builds from the TS module's request, a shrink
// decided in TS runs there, and the evaluation network built from architecture.json has exactly the parameters
// TypeScript counts from that file alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { MOBILENET_OP_VOCABULARY } from '../../src/runtime/protocol.js';
import { cellShapes } from '../../src/experiment/reevaluate.js';
import { searchSpaceFor } from '../../src/search-space/space.js';
import { closeSessions, epochParams, searchLr, startRuntimeWithData } from '../helpers/runtime.js';

const K = MOBILENET_OP_VOCABULARY.length;
const tiny = () => searchSpaceFor(parseConfig({ dataset: { name: 'fashion-mnist-sample' }, search_space: { name: 'mobilenet_like', preset: 'tiny' } }), { in_channels: 1, num_classes: 10 });

/** A seeded candidate mask keeping about `keep` of the ops, never none in a layer. */
function randomMask(keep: number, seed: number): NdArray {
  const candidates = tiny().candidates()!;
  const [layers = 0] = candidates.shape;
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values: number[] = [];
  for (let l = 0; l < layers; l++) {
    const row = Array.from({ length: K }, (_, k) => (candidates.at(l, 0, k) && next() < keep ? 1 : 0));
    if (!row.some(Boolean)) row[0] = 1;
    values.push(...row);
  }
  return NdArray.from('uint8', [layers, 1, K], values);
}

describe('mobilenet_like through the runtime', () => {
  let session: RuntimeSession;
  const dir = mkdtempSync(join(tmpdir(), 'mgdarts-mb-'));
  beforeAll(async () => {
    session = await startRuntimeWithData({ train_limit: 64 });
  });
  afterAll(async () => {
    await closeSessions();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['every candidate', 1, 1],
    ['about half', 0.5, 7],
    ['a few', 0.15, 11],
  ])('%s: the parameter count from architecture.json equals the built network', async (_name, keep, seed) => {
    const space = tiny();
    const arch = space.derive(randomMask(keep, seed));
    const built = await session.client.request('build_eval', { architecture: { ...arch }, weight_masks: null, auxiliary: false, seed: 1, channels_last: false });
    expect(space.countParameters(arch)).toBe(built.params);
  });

  it('a shrink decided in TS gives an architecture whose count matches, weight masks included', async () => {
    const space = tiny();
    const client = session.client;
    const built = await client.request('build_supernet', { ...space.buildParams(true), granularities: ['operation', 'filter', 'weight'], stage_heads: true, seed: 3, channels_last: false });
    expect(built.op_mask.shape).toEqual([5, 1, K]);
    expect(built.live_ops).toBe(5 * K - 2); // skip is no candidate in the two stride-2 layers
    // One search epoch whose filter thresholds leap past every sigmoid(p), committed: expanded filters are masked.
    const epoch = await client.request('train_epoch', epochParams({ phase: 'search', commit: true, reg_lambda: 1, lr: searchLr({ filter_threshold: 50 }), max_batches: 2 }));
    expect(epoch.committed.filter).toBeGreaterThan(0);
    const stats = await client.request('shrink_statistics', {});
    const decision = space.decideShrink(stats, 4, new Set());
    const liveSkips = [0, 2, 4].filter((l) => epoch.op_mask.at(l, 0, K - 1)).length;
    expect(decision.mid_widths.length).toBe(epoch.live_ops - liveSkips); // every live block; skip has no expanded width
    const shrunk = await client.request('shrink', decision);
    expect(shrunk.params_supernet).toBeLessThan(built.params_supernet);
    const shapes = await cellShapes(client);
    const arch = space.derive(epoch.op_mask, shapes);
    const first = decision.mid_widths.find((m) => m.cell === 1)!;
    expect(arch.cells[1]!.ops.find((o) => o.op === MOBILENET_OP_VOCABULARY[first.op])!.widths).toEqual([8, first.width, 16]);
    const masks = await client.request('save_weight_masks', { path: join(dir, 'weight_masks.pt') });
    const evalnet = await client.request('build_eval', { architecture: { ...arch }, weight_masks: masks.path, auxiliary: false, seed: 1, channels_last: false });
    expect(space.countParameters(arch)).toBe(evalnet.params);
  });

  it('a layout that does not fit is a bad_params reply naming it', async () => {
    const space = tiny();
    const params = space.buildParams(true);
    const bad = { ...params, mobilenet: { ...params.mobilenet!, stage_ends: [3, 1, 4] as [number, number, number] } };
    await expect(session.client.request('build_supernet', { ...bad, granularities: ['operation'], stage_heads: true, seed: 3, channels_last: false }))
      .rejects.toMatchObject({ code: 'runtime.bad_params', message: expect.stringMatching(/stage ends/) });
  });
});
