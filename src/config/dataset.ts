// Finds a dataset's directory before anything runs, so a missing dataset is a config error (exit 2).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetNotFoundError } from '../errors.js';
import { SAMPLE_DATA_DIR } from '../paths.js';

export const FASHION_MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

export function hasFashionMnist(dir: string): boolean {
  return FASHION_MNIST_FILES.every((f) => existsSync(join(dir, f)) || existsSync(join(dir, `${f}.gz`)));
}

/**
 * Where `fashion-mnist` is looked for: the directory the user named (--data-dir or the config), else
 * MGDARTS_DATA, else the Debian path. A named directory is the only candidate: a wrong one is an error,
 * never a silent fall-back to another copy.
 */
export function fashionMnistCandidates(dataDir: string | null | undefined): string[] {
  const named = dataDir || process.env.MGDARTS_DATA;
  return (named ? [named] : [DEBIAN_FASHION_MNIST]).map((d) => resolve(d));
}

/** The directory holding the dataset's files; throws DatasetNotFoundError naming every place searched.
 * For a `python:` dataset it is the config file's directory (`configDir`), where its module is looked for. */
export function resolveDatasetDir(name: string, dataDir: string | null | undefined, configDir?: string): string {
  if (isPythonDataset(name)) return resolvePythonDatasetDir(name, resolve(configDir ?? '.'));
  const layouts = CIFAR_LAYOUTS[name];
  if (layouts) return resolveCifarDir(name, layouts, dataDir);
  if (name === 'image-folder') return resolveImageFolderDir(dataDir);
  const candidates = name === 'fashion-mnist-sample' ? [SAMPLE_DATA_DIR] : fashionMnistCandidates(dataDir);
  const found = candidates.find(hasFashionMnist);
  if (!found) throw new DatasetNotFoundError(name, candidates);
  return found;
}

/** A `python:<file.py>:<factory>` whose file does not exist is a config error, found before anything runs; a
 * dotted module (and the factory inside a file) is looked up by the runtime. */
function resolvePythonDatasetDir(name: string, configDir: string): string {
  const body = name.slice('python:'.length);
  const module = body.slice(0, body.lastIndexOf(':'));
  const factory = body.slice(body.lastIndexOf(':') + 1);
  if (module.endsWith('.py')) {
    const file = resolve(configDir, module);
    if (!existsSync(file)) {
      throw new DatasetNotFoundError(name, [file], `dataset.name names a .py file relative to the config file's directory (${configDir}); correct the path, then try the dataset alone with \`npx mgdarts doctor --dataset python:${file}:${factory}\``);
    }
  }
  return configDir;
}

/** Datasets read from a directory the user names (--data-dir applies to them). */
export function readsDirectory(name: string): boolean {
  return name === 'fashion-mnist' || name === 'image-folder' || name in CIFAR_LAYOUTS;
}

export function isPythonDataset(name: string): boolean {
  return name.startsWith('python:');
}

/** The official folders (SPEC §5.3 datasets): python-pickle batches and binary batches, mirrored in cifar.py. */
export const CIFAR_LAYOUTS: Record<string, { folder: string; files: string[] }[]> = {
  cifar10: [
    { folder: 'cifar-10-batches-py', files: ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'] },
    { folder: 'cifar-10-batches-bin', files: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'] },
  ],
  cifar100: [
    { folder: 'cifar-100-python', files: ['train', 'test'] },
    { folder: 'cifar-100-binary', files: ['train.bin', 'test.bin'] },
  ],
};

/** The named directory (or MGDARTS_DATA) itself or its official sub-folder, whichever holds a complete format. */
function resolveCifarDir(name: string, layouts: { folder: string; files: string[] }[], dataDir: string | null | undefined): string {
  const named = dataDir || process.env.MGDARTS_DATA;
  const expected = layouts.map((l) => `${l.folder}/ (${l.files.join(', ')})`).join(' or ');
  const hint = `put the official ${name} files (${expected}) in that directory or in its sub-folder of that name (from https://www.cs.toronto.edu/~kriz/cifar.html), then pass it as --data-dir, dataset.data_dir or MGDARTS_DATA`;
  if (!named) throw new DatasetNotFoundError(name, [], hint);
  const root = resolve(named);
  for (const layout of layouts) {
    for (const dir of [root, join(root, layout.folder)]) {
      if (layout.files.every((f) => existsSync(join(dir, f)))) return dir;
    }
  }
  throw new DatasetNotFoundError(name, [root], hint);
}

/** ImageNet-style class folders: `train/<class>/` and `val/<class>/` under the named directory. */
function resolveImageFolderDir(dataDir: string | null | undefined): string {
  const named = dataDir || process.env.MGDARTS_DATA;
  const hint = 'pass --data-dir (or dataset.data_dir, MGDARTS_DATA) naming a directory with train/<class>/*.jpg|png and val/<class>/*.jpg|png';
  if (!named) throw new DatasetNotFoundError('image-folder', [], hint);
  const root = resolve(named);
  if (!['train', 'val'].every((s) => existsSync(join(root, s)))) throw new DatasetNotFoundError('image-folder', [root], hint);
  return root;
}
