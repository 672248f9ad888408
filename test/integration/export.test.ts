// Export after a shrink (SPEC §4.5, §5.1): architecture.json at the shrunk widths plus the weight-mask file;
// the evaluation network built from them has exactly the parameters counted from architecture.json alone,
// and holds the masked weights at zero.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shrinkCells } from '../../src/experiment/reevaluate.js';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { deriveArchitecture } from '../../src/search-space/derive.js';
import { countArchitectureParameters } from '../../src/search-space/param-count.js';
import { buildParams, closeSessions, epochParams, searchLr, startRuntimeWithData, tinySpace } from '../helpers/runtime.js';

describe('export at shrunk widths with weight masks', () => {
  let session: RuntimeSession;
  let dir: string;
  beforeAll(async () => {
    session = await startRuntimeWithData({ train_limit: 96 });
    dir = mkdtempSync(join(tmpdir(), 'mgdarts-export-'));
  });
  afterAll(async () => {
    await closeSessions();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the evaluation network matches architecture.json and applies the masks', async () => {
    const { client } = session;
    const space = tinySpace(8, 3);
    const built = await client.request('build_supernet', buildParams(space, { granularities: ['operation', 'filter', 'weight'] }));
    const r = await client.request(
      'train_epoch',
      epochParams({ phase: 'search', batch_size: 32, max_batches: 3, reg_lambda: 1.0, commit: true, lr: searchLr({ filter_threshold: 5, weight_threshold: 0.05 }) }),
    );
    expect(r.committed.filter).toBeGreaterThan(0);
    const { sizes, shapes } = await shrinkCells(client, 2, new Set([2]));
    expect(sizes.widths.slice(0, 2).some((w, i) => w < [8, 16][i]!)).toBe(true);
    expect(sizes.widths[2]).toBe(32);
    expect(sizes.params_supernet).toBeLessThan(built.params_supernet);
    expect(sizes.size_counted).toBe(sizes.cell_sizes.reduce((a, b) => a + b, 0));

    const arch = deriveArchitecture(space, r.op_mask, shapes);
    const masks = await client.request('save_weight_masks', { path: join(dir, 'weight_masks.pt') });
    expect(masks.masked).toBeGreaterThan(0);
    expect(masks.masked).toBeLessThan(masks.total);
    const evalnet = await client.request('build_eval', { architecture: { ...arch }, weight_masks: masks.path, auxiliary: false, seed: 1, channels_last: false });
    expect(evalnet.params).toBe(countArchitectureParameters(arch));
    expect(evalnet.masked_weights).toBe(masks.masked);
    const test = await client.request('evaluate', { model: 'eval', split: 'test', batch_size: 256 });
    expect(test.samples).toBeGreaterThan(0);
  });

  it('a mask file that does not fit the architecture is a bad_params reply, and the runtime keeps serving', async () => {
    const { client } = session;
    const space = tinySpace(4, 3);
    const built = await client.request('build_supernet', buildParams(space, { granularities: ['operation', 'weight'] }));
    const masks = await client.request('save_weight_masks', { path: join(dir, 'full.pt') });
    const arch = deriveArchitecture(space, built.op_mask);
    // The same masks against an architecture at other widths, and a file that is not a mask file.
    const wider = deriveArchitecture({ ...space, channels: 6 }, built.op_mask);
    await expect(client.request('build_eval', { architecture: { ...wider }, weight_masks: masks.path, auxiliary: false, seed: 1, channels_last: false })).rejects.toMatchObject({
      code: 'runtime.bad_params',
      message: expect.stringMatching(/weight mask .*shape/),
    });
    writeFileSync(join(dir, 'junk.pt'), 'not a torch file');
    await expect(client.request('build_eval', { architecture: { ...arch }, weight_masks: join(dir, 'junk.pt'), auxiliary: false, seed: 1, channels_last: false })).rejects.toMatchObject({
      code: 'runtime.bad_params',
      message: expect.stringContaining('junk.pt'),
    });
    const ok = await client.request('build_eval', { architecture: { ...arch }, weight_masks: masks.path, auxiliary: false, seed: 1, channels_last: false });
    expect(ok.masked_weights).toBe(0);
  });
});
