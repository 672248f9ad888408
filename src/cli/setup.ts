// `mgdarts setup` (the runtime's venv) and `mgdarts python ...` (that venv's interpreter, runtime on path).
import { execa } from 'execa';
import { PY_RUNTIME_DIR } from '../paths.js';
import { findPython, hasPython, pythonReady, setupPythonEnv } from '../runtime/python.js';

export async function runSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`mgdarts setup: ${line}\n`);
  if (hasPython() && (await pythonReady(findPython()))) {
    log(`the runtime's Python is ready (${findPython()})`);
    return;
  }
  const python = await setupPythonEnv(log);
  log(`ready: ${python}`);
}

export async function runPython(args: string[]): Promise<number> {
  const result = await execa(findPython(), args, {
    stdio: 'inherit',
    reject: false,
    env: { PYTHONPATH: [PY_RUNTIME_DIR, process.env.PYTHONPATH].filter(Boolean).join(':') },
  });
  return result.exitCode ?? 1;
}
