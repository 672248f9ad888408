// The smoke twins of the paper configs that no other e2e file runs, from the built CLI on synthetic files in the
// official formats (scripts/make-synthetic-datasets.py): CIFAR-10 small on the binary batches, ImageNet-style
// class folders in the DARTS-like and the MobileNet-like space.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { listDir, removeTemps, runCli, tempDir } from '../helpers/cli.js';

let data = '';
beforeAll(async () => {
  data = join(tempDir(), 'synthetic');
  const made = await runCli(['python', join(PACKAGE_ROOT, 'scripts', 'make-synthetic-datasets.py'), data], { cwd: PACKAGE_ROOT });
  expect(made.exitCode, made.stderr).toBe(0);
});
afterAll(removeTemps);

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

describe.each([
  { config: 'configs/cifar10-small-smoke.json', dir: 'binary', dataset: 'cifar10', space: 'darts_like', input: [3, 32, 32], read: /^data: cifar10 from .*cifar-10-batches-bin: 180 search \/ 20 held-out \/ 100 test images$/m },
  { config: 'configs/imagenet-smoke.json', dir: 'image-folder', dataset: 'image-folder', space: 'darts_like', input: [3, 32, 32], read: /^data: search subset: 12 of 24 training images \(0\.5 of each class, seeded\)$/m },
  { config: 'configs/imagenet-mobilenet-smoke.json', dir: 'image-folder', dataset: 'image-folder', space: 'mobilenet_like', input: [3, 32, 32], read: /^data: search subset: 12 of 24 training images \(0\.5 of each class, seeded\)$/m },
])('mgdarts run $config', ({ config, dir, dataset, space, input, read }) => {
  it('searches, retrains and exports on synthetic files of the same format', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const r = await runCli(['run', config, '--data-dir', join(data, dir), '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(read);
    expect(r.stdout).toMatch(/^architecture: \d+ cells, \d+ of \d+ ops kept/m);
    const runs = listDir(out);
    expect(runs).toHaveLength(1);
    const run = join(out, runs[0]!);
    for (const f of ['architecture.json', 'model.pt', 'model.torchscript.pt', 'result.json']) expect(existsSync(join(run, f)), f).toBe(true);
    const result = readJson(join(run, 'result.json'));
    expect(result).toMatchObject({ dataset, search_space: space });
    expect(result.stages.map((s: { name: string }) => s.name)).toEqual(['stage1', 'stage2', 'stage3', 'final']);
    expect(result.params.from_architecture).toBe(result.params.final_dense);
    expect(result.export.input_shape).toEqual(input);
  });
});
