// Where the package's own files are, whether run from a checkout or from an installed package.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the folder holding package.json (dist/ is one level below it). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const PY_RUNTIME_DIR = join(PACKAGE_ROOT, 'py_runtime');
export const REQUIREMENTS_FILE = join(PACKAGE_ROOT, 'requirements.txt');
export const CONFIGS_DIR = join(PACKAGE_ROOT, 'configs');
export const SAMPLE_DATA_DIR = join(PACKAGE_ROOT, 'data', 'fashion-mnist-sample');
export const PROTOCOL_JSON = join(PY_RUNTIME_DIR, 'mgdarts_runtime', 'protocol.json');

/** The runtime's virtual environment: MGDARTS_VENV, else `.venv` in the package root. */
export function venvDir(): string {
  return process.env.MGDARTS_VENV ? resolve(process.env.MGDARTS_VENV) : join(PACKAGE_ROOT, '.venv');
}

export function venvPython(): string {
  return join(venvDir(), 'bin', 'python');
}
