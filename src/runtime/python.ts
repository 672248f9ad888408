// Finds the runtime's Python interpreter and creates the project's virtual environment.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { PythonEnvError } from '../errors.js';
import { REQUIREMENTS_FILE, venvDir, venvPython } from '../paths.js';

/** MGDARTS_PYTHON if set, else the project's venv; fails with the set-up command when neither exists. */
export function findPython(): string {
  const fromEnv = process.env.MGDARTS_PYTHON;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new PythonEnvError(`MGDARTS_PYTHON points at ${fromEnv}, which does not exist`, 'unset it or point it at a python with the packages of requirements.txt');
    }
    return fromEnv;
  }
  const venv = venvPython();
  if (existsSync(venv)) return venv;
  throw new PythonEnvError(`no Python environment for the runtime (looked for ${venv})`, 'run `npx mgdarts setup`, or set MGDARTS_PYTHON');
}

export function hasPython(): boolean {
  try {
    findPython();
    return true;
  } catch {
    return false;
  }
}

/**
 * Create the venv and install requirements.txt. MGDARTS_TORCH_SPEC replaces the torch line (a CUDA user
 * points it at another build); pip never retries unreachable indexes.
 */
export async function setupPythonEnv(log: (line: string) => void): Promise<string> {
  const dir = venvDir();
  const python = venvPython();
  if (!existsSync(python)) {
    const base = process.env.MGDARTS_BASE_PYTHON ?? 'python3';
    log(`creating the runtime's virtual environment in ${dir} (with ${base})`);
    await execa(base, ['-m', 'venv', dir], { stdio: 'inherit' }).catch((err: unknown) => {
      throw new PythonEnvError(`could not create a virtual environment with ${base}`, 'install python3 and python3-venv, or set MGDARTS_BASE_PYTHON', err);
    });
  }
  const args = ['-m', 'pip', 'install', '--retries', '0', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS_FILE];
  if (process.env.MGDARTS_TORCH_SPEC) args.push(process.env.MGDARTS_TORCH_SPEC);
  log('installing the runtime packages (requirements.txt)');
  await execa(python, args, { stdio: 'inherit' }).catch((err: unknown) => {
    throw new PythonEnvError('pip could not install requirements.txt into the runtime venv', 'read the pip output above; a CUDA user can set MGDARTS_TORCH_SPEC', err);
  });
  return python;
}

/** True when the venv already imports every runtime package (so set-up can be skipped). */
export async function pythonReady(python: string): Promise<boolean> {
  const probe = await execa(python, ['-c', 'import torch, zmq, msgpack, numpy'], { reject: false, timeout: 120_000 });
  return probe.exitCode === 0;
}

/** The interpreter to use; on first use (no MGDARTS_PYTHON, no venv yet) the venv is created. */
export async function ensurePython(log: (line: string) => void): Promise<string> {
  if (process.env.MGDARTS_PYTHON || hasPython()) return findPython();
  log("first run: setting up the runtime's Python environment (once; `npx mgdarts setup` does the same)");
  return setupPythonEnv(log);
}
