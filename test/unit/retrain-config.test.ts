// What `mgdarts retrain` starts from: the per-dataset protocol table (SPEC §5.3), the config precedence
// (run's config.json < --config < command line) and clear errors for bad sources; no runtime involved.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import { prepareRetrainConfig } from '../../src/experiment/retrain-config.js';
import { RETRAIN_PROTOCOLS, applyRetrainProtocol } from '../../src/experiment/retrain-defaults.js';
import { readRetrainSource } from '../../src/experiment/retrain-source.js';
import { ARCHITECTURE_FORMAT } from '../../src/search-space/derive.js';
import { removeTemps, smokeConfig, tempDir } from '../helpers/cli.js';

afterEach(removeTemps);

const ARCH = {
  format: ARCHITECTURE_FORMAT, search_space: 'darts_like', in_channels: 1, num_classes: 10, channels: 4, stem_stride: 1, layers: 1, nodes: 4,
  cells: [{ index: 0, reduction: false, channels: 4, input_widths: [4, 4], node_widths: [4, 4, 4, 4], ops: [{ op: 'skip_connect', edge: 0, from: 0, to: 2, widths: [4] }] }],
};

/** A run directory as `mgdarts run` leaves it: the resolved config.json and an architecture.json. */
function runDir(config: Record<string, unknown> = smokeConfig()): string {
  const dir = join(tempDir(), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(parseConfig(config)));
  writeFileSync(join(dir, 'architecture.json'), JSON.stringify(ARCH));
  return dir;
}

describe('applyRetrainProtocol', () => {
  // The CIFAR readers may not be in the schema yet: the table is keyed by dataset name, so a cast is enough here.
  const as = (name: string) => {
    const c = parseConfig(smokeConfig());
    return { ...c, dataset: { ...c.dataset, name } } as typeof c;
  };

  it('gives CIFAR-10 and CIFAR-100 the reference protocol and seed 0', () => {
    const c10 = applyRetrainProtocol(as('cifar10'));
    expect(c10.retrain).toMatchObject({ epochs: 600, batch_size: 96, lr: 0.025, momentum: 0.9, weight_decay: 3e-4, grad_clip: 5, drop_path: 0.2, auxiliary: true, aux_weight: 0.4, augment: { crop_padding: 4, flip: true, cutout: 16 } });
    expect(c10.seed).toBe(0);
    const c100 = applyRetrainProtocol(as('cifar100'));
    expect(c100.retrain).toMatchObject({ epochs: 600, batch_size: 64, lr: 0.02, weight_decay: 5e-4 });
    expect(c100.retrain.augment).toEqual({ crop_padding: 4, flip: true, cutout: 16, auto_augment: false });
    // The smoke config's cap on batches is a smoke setting, not part of the protocol: it stays.
    expect(c100.retrain.max_batches).toBe(3);
  });

  it('keeps what a --config file sets explicitly, and a Fashion-MNIST config as it is', () => {
    const chosen = applyRetrainProtocol({ ...as('cifar10'), seed: 5, retrain: { ...as('cifar10').retrain, epochs: 7 } }, { epochs: 7 }, true);
    expect(chosen.retrain.epochs).toBe(7);
    expect(chosen.retrain.batch_size).toBe(RETRAIN_PROTOCOLS.cifar10!.retrain.batch_size);
    expect(chosen.seed).toBe(5);
    const fashion = parseConfig(smokeConfig());
    expect(applyRetrainProtocol(fashion)).toEqual(fashion);
  });
});

describe('prepareRetrainConfig', () => {
  it('takes the run directory\'s config, then --config, then the command-line options', () => {
    const dir = runDir();
    const fromRun = prepareRetrainConfig(readRetrainSource(dir), {});
    expect(fromRun.config.retrain).toMatchObject({ epochs: 2, batch_size: 32 });
    expect(fromRun.path).toBe(join(dir, 'config.json'));

    const other = join(tempDir(), 'other.json');
    writeFileSync(other, JSON.stringify(smokeConfig({ name: 'other', retrain: { epochs: 4 } })));
    const withConfig = prepareRetrainConfig(readRetrainSource(dir), { config: other, epochs: 9, batchSize: 16, seed: 11, maxBatches: 1 });
    expect(withConfig.config.name).toBe('other');
    expect(withConfig.config.retrain).toMatchObject({ epochs: 9, batch_size: 16, max_batches: 1 });
    expect(withConfig.config.seed).toBe(11);
  });

  it('asks for --config when a bare architecture.json has no config beside it', () => {
    const dir = join(tempDir(), 'bare');
    mkdirSync(dir);
    writeFileSync(join(dir, 'architecture.json'), JSON.stringify(ARCH));
    expect(() => prepareRetrainConfig(readRetrainSource(join(dir, 'architecture.json')), {})).toThrow(UsageError);
    expect(() => prepareRetrainConfig(readRetrainSource(join(dir, 'architecture.json')), {})).toThrow(/pass --config|dataset to retrain on is unknown/);
  });

  it('configs/cifar100-darts-large.json as --config transfers under the whole CIFAR-100 protocol, seed 0 included', () => {
    const data = tempDir();
    mkdirSync(join(data, 'cifar-100-binary'));
    for (const f of ['train.bin', 'test.bin']) writeFileSync(join(data, 'cifar-100-binary', f), '');
    const t = prepareRetrainConfig(readRetrainSource(runDir()), { config: 'configs/cifar100-darts-large.json', dataDir: data }).config;
    expect(t.dataset.name).toBe('cifar100');
    expect(t.retrain).toEqual({ ...RETRAIN_PROTOCOLS.cifar100!.retrain, augment: { crop_padding: 4, flip: true, cutout: 16, auto_augment: false }, max_batches: null });
    expect(t.seed).toBe(RETRAIN_PROTOCOLS.cifar100!.seed);
  });

  it('retrains on every training image: the per-class subset of class folders is for the search only', () => {
    const data = tempDir();
    for (const split of ['train', 'val']) mkdirSync(join(data, split));
    const dir = runDir(smokeConfig({ dataset: { name: 'image-folder', subset_fraction: 0.1, image_size: 32, workers: 0 } }));
    const t = prepareRetrainConfig(readRetrainSource(dir), { dataDir: data }).config;
    expect(t.dataset).toMatchObject({ name: 'image-folder', subset_fraction: 1, image_size: 32, workers: 0, data_dir: data });
  });

  it('rejects a bad --epochs value through the schema', () => {
    expect(() => prepareRetrainConfig(readRetrainSource(runDir()), { epochs: 0 })).toThrow(/retrain\.epochs/);
  });
});

describe('readRetrainSource', () => {
  it('names a missing, unreadable or invalid architecture.json', () => {
    const root = tempDir();
    mkdirSync(join(root, 'empty'));
    expect(() => readRetrainSource(join(root, 'empty'))).toThrow(/has no architecture\.json/);
    expect(() => readRetrainSource(join(root, 'nothing-here'))).toThrow(/does not exist/);
    writeFileSync(join(root, 'broken.json'), '{"format": ');
    expect(() => readRetrainSource(join(root, 'broken.json'))).toThrow(ConfigError);
    writeFileSync(join(root, 'format.json'), JSON.stringify({ ...ARCH, format: 'other/1' }));
    expect(() => readRetrainSource(join(root, 'format.json'))).toThrow(/format: expected one of "mgdarts\.architecture\/1", got "other\/1"/);
    writeFileSync(join(root, 'layers.json'), JSON.stringify({ ...ARCH, layers: 2 }));
    expect(() => readRetrainSource(join(root, 'layers.json'))).toThrow(/cells: needs one entry in cells per layer/);
  });

  it('uses a weight_masks.pt beside the architecture when there is one', () => {
    const dir = runDir();
    expect(readRetrainSource(dir).weightMasks).toBeNull();
    writeFileSync(join(dir, 'weight_masks.pt'), 'x');
    expect(readRetrainSource(join(dir, 'architecture.json')).weightMasks).toBe(join(dir, 'weight_masks.pt'));
  });
});
