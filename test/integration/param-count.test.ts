// The exported model's parameter count, made independently from architecture.json in TypeScript, equals
// the count of the module the runtime builds from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NdArray } from '../../src/runtime/ndarray.js';
import type { RuntimeSession } from '../../src/runtime/session.js';
import { deriveArchitecture } from '../../src/search-space/derive.js';
import { countArchitectureParameters } from '../../src/search-space/param-count.js';
import { closeSessions, startRuntimeWithData, tinySpace } from '../helpers/runtime.js';

/** A seeded mask keeping roughly `keep` of the ops (never none in a node; the count must not care). */
function randomMask(layers: number, keep: number, seed: number): NdArray {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return NdArray.from('uint8', [layers, 14, 7], Array.from({ length: layers * 14 * 7 }, () => (next() < keep ? 1 : 0)));
}

describe('architecture parameter count', () => {
  let session: RuntimeSession;
  beforeAll(async () => {
    session = await startRuntimeWithData({ train_limit: 64 });
  });
  afterAll(closeSessions);

  it.each([
    ['all ops, 3 cells (two reductions)', 3, 1, 1],
    ['a third of the ops, 4 cells', 4, 1 / 3, 7],
    ['a few ops, 5 cells', 5, 0.1, 11],
  ])('%s', async (_name, layers, keep, seed) => {
    const space = { ...tinySpace(4, layers), num_classes: 10 };
    const arch = deriveArchitecture(space, randomMask(layers, keep, seed));
    const built = await session.client.request('build_eval', { architecture: { ...arch }, weight_masks: null, auxiliary: true, seed: 1, channels_last: false });
    expect(countArchitectureParameters(arch)).toBe(built.params);
    expect(built.params_with_aux).toBeGreaterThan(built.params);
  });
});
