// The dataset section for CIFAR, class folders and user datasets: names, where the files are looked for,
// and the load_data request (a python: file made absolute against the config's directory).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataParams, runtimeDatasetName } from '../../src/config/dataset-request.js';
import { readsDirectory, resolveDatasetDir } from '../../src/config/dataset.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, DatasetNotFoundError } from '../../src/errors.js';

const temps: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mgdarts-ds-'));
  temps.push(d);
  return d;
}
const savedData = process.env.MGDARTS_DATA;
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  if (savedData === undefined) delete process.env.MGDARTS_DATA;
  else process.env.MGDARTS_DATA = savedData;
});

function cifar10Binary(root: string): string {
  const folder = join(root, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) writeFileSync(join(folder, `${f}.bin`), '');
  return folder;
}

describe('dataset names', () => {
  it.each(['cifar10', 'cifar100', 'image-folder', 'python:data/my_data.py:make', 'python:pkg.data:build_sets'])('accepts %s', (name) => {
    expect(parseConfig({ dataset: { name } }, 'c.json').dataset.name).toBe(name);
  });

  it.each(['cifar-10', 'python:my_data.py', 'python:my_data.py:1bad'])('refuses %s naming the field', (name) => {
    expect(() => parseConfig({ dataset: { name } }, 'c.json')).toThrow(ConfigError);
    expect(() => parseConfig({ dataset: { name } }, 'c.json')).toThrow(/dataset\.name/);
  });

  it('--data-dir applies to the datasets read from a directory', () => {
    expect(['fashion-mnist', 'cifar10', 'cifar100', 'image-folder'].map(readsDirectory)).toEqual([true, true, true, true]);
    expect(['fashion-mnist-sample', 'python:a.py:make'].map(readsDirectory)).toEqual([false, false]);
  });
});

describe('CIFAR directory', () => {
  it('is the named folder itself or its official sub-folder', () => {
    const root = temp();
    const folder = cifar10Binary(root);
    expect(resolveDatasetDir('cifar10', root)).toBe(folder);
    expect(resolveDatasetDir('cifar10', folder)).toBe(folder);
    process.env.MGDARTS_DATA = root;
    expect(resolveDatasetDir('cifar10', null)).toBe(folder);
  });

  it('a folder of the other dataset is not found, naming the directory', () => {
    const root = temp();
    cifar10Binary(root);
    expect(() => resolveDatasetDir('cifar100', root)).toThrow(DatasetNotFoundError);
    expect(() => resolveDatasetDir('cifar100', root)).toThrow(`looked in: ${root}`);
  });
});

describe('load_data request', () => {
  it('makes a python: file absolute against the config directory and sends the loader settings', () => {
    expect(runtimeDatasetName('python:data/my_data.py:make', '/x/configs')).toBe('python:/x/configs/data/my_data.py:make');
    expect(runtimeDatasetName('python:pkg.data:make', '/x/configs')).toBe('python:pkg.data:make');
    const config = parseConfig({ dataset: { name: 'python:my_data.py:make', num_classes: 7, workers: 0 } }, 'c.json');
    const params = loadDataParams(config, '/x/configs', '/x/configs');
    expect(params).toMatchObject({ dataset: 'python:/x/configs/my_data.py:make', data_dir: null, module_dir: '/x/configs', num_classes: 7, workers: 0 });
  });
});

describe('found before anything runs', () => {
  it('a python: .py file that does not exist is not found, naming the file and the doctor command', () => {
    const dir = temp();
    expect(() => resolveDatasetDir('python:sets/mine.py:make', null, dir)).toThrow(`looked in: ${join(dir, 'sets', 'mine.py')}`);
    expect(() => resolveDatasetDir('python:sets/mine.py:make', null, dir)).toThrow(DatasetNotFoundError);
    mkdirSync(join(dir, 'sets'));
    writeFileSync(join(dir, 'sets', 'mine.py'), 'def make(): pass\n');
    expect(resolveDatasetDir('python:sets/mine.py:make', null, dir)).toBe(dir);
    // a dotted module (and the factory) are the runtime's to look up
    expect(resolveDatasetDir('python:sets.mine:make', null, dir)).toBe(dir);
    const err = (() => {
      try {
        return resolveDatasetDir('python:other.py:make', null, dir);
      } catch (e) {
        return e as DatasetNotFoundError;
      }
    })();
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect((err as DatasetNotFoundError).hint).toContain(`npx mgdarts doctor --dataset python:${join(dir, 'other.py')}:make`);
  });

  it.each([
    ['cifar100', 10, 100],
    ['cifar10', 100, 10],
    ['fashion-mnist', 20, 10],
  ])('%s with dataset.num_classes %d is refused at that field (it has %d classes)', (name, configured, fixed) => {
    expect(() => parseConfig({ dataset: { name, num_classes: configured } }, 'c.json')).toThrow(
      `dataset.num_classes: ${name} has ${fixed} classes; remove dataset.num_classes or set it to ${fixed}, got ${configured}`,
    );
    expect(parseConfig({ dataset: { name, num_classes: fixed } }, 'c.json').dataset.num_classes).toBe(fixed);
  });
});
