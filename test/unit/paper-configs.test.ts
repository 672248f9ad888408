// Every paper config in configs/ has a smoke twin: the same dataset, format, search space and augmentation at a
// size that runs in seconds on CPU; test/e2e/smoke-configs.test.ts and the other e2e files run the twins.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { CONFIGS_DIR } from '../../src/paths.js';

/** Paper config → its smoke twin, and the e2e test that runs the twin. */
export const PAPER_TWINS: Record<string, { smoke: string; runBy: string }> = {
  'cifar10-darts-large.json': { smoke: 'cifar10-smoke.json', runBy: 'test/e2e/datasets.test.ts' },
  'cifar10-darts-small.json': { smoke: 'cifar10-small-smoke.json', runBy: 'test/e2e/smoke-configs.test.ts' },
  // CIFAR-100 is reached by transfer (SPEC §5.3): the twin is the --config of a retrain of a CIFAR-10 architecture.
  'cifar100-darts-large.json': { smoke: 'cifar100-smoke.json', runBy: 'test/e2e/retrain-report.test.ts' },
  'imagenet-darts.json': { smoke: 'imagenet-smoke.json', runBy: 'test/e2e/smoke-configs.test.ts' },
  'imagenet-mobilenet.json': { smoke: 'imagenet-mobilenet-smoke.json', runBy: 'test/e2e/smoke-configs.test.ts' },
};

describe('paper configs and their smoke twins', () => {
  it('lists every shipped config that is neither a smoke config nor a Fashion-MNIST one', () => {
    const paper = readdirSync(CONFIGS_DIR).filter((f) => f.endsWith('.json') && !f.includes('smoke') && !['quickstart.json', 'fashion-mnist.json'].includes(f));
    expect(paper.sort()).toEqual(Object.keys(PAPER_TWINS).sort());
  });

  it.each(Object.entries(PAPER_TWINS))('%s has the twin %s', (paper, { smoke, runBy }) => {
    const full = loadConfig(join(CONFIGS_DIR, paper));
    const twin = loadConfig(join(CONFIGS_DIR, smoke));
    expect(readFileSync(join(CONFIGS_DIR, '..', runBy), 'utf8'), runBy).toContain(`'configs/${smoke}'`);
    expect(twin.dataset.name).toBe(full.dataset.name);
    expect(twin.search_space.name).toBe(full.search_space.name);
    expect(twin.granularities).toEqual(full.granularities);
    expect(twin.search.stages).toBe(full.search.stages);
    expect(twin.search.augment).toEqual(full.search.augment);
    expect(twin.retrain.augment).toEqual(full.retrain.augment);
    expect(twin.retrain.auxiliary).toBe(full.retrain.auxiliary);
    expect(twin.search.target_params === undefined).toBe(full.search.target_params === undefined);
    expect(twin.seed).toBe(full.seed);
    expect(twin.device).toBe('cpu');
    expect(twin.threads).toBe(1);
    expect(twin.description).toContain(`configs/${paper}`);
  });
});
