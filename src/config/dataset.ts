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

/** The directory holding the dataset's files; throws DatasetNotFoundError naming every place searched. */
export function resolveDatasetDir(name: string, dataDir: string | null | undefined): string {
  const candidates = name === 'fashion-mnist-sample' ? [SAMPLE_DATA_DIR] : fashionMnistCandidates(dataDir);
  const found = candidates.find(hasFashionMnist);
  if (!found) throw new DatasetNotFoundError(name, candidates);
  return found;
}
