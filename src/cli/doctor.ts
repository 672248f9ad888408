// `mgdarts doctor`: what this machine offers the runtime. The interpreter is probed through pythonia,
// so a broken Python environment is named before any run starts.
import * as zmq from 'zeromq';
import { DEBIAN_FASHION_MNIST, fashionMnistCandidates, hasFashionMnist } from '../config/dataset.js';
import { PythonEnvError } from '../errors.js';
import { datasetToPreview, previewInPython, printPreview, type DatasetPreview, type DatasetToPreview } from './dataset-preview.js';
import { PY_RUNTIME_DIR, SAMPLE_DATA_DIR } from '../paths.js';
import { OP_VOCABULARY, PROTOCOL_VERSION, opVocabularyHash } from '../runtime/protocol.js';
import { findPython } from '../runtime/python.js';
import { PACKAGE_VERSION } from '../version.js';

interface PythonReport {
  python: string;
  torch: string;
  devices: string[];
  pyzmq: string;
  protocol: string;
  opHash: string;
  preview?: DatasetPreview;
}

const PROBE_TIMEOUT_MS = 90_000;

/** Import torch, pyzmq and the runtime's protocol module in the interpreter, through pythonia; with `dataset`,
 * also preview that user dataset (mgdarts_runtime.userdata.preview_dataset) in the same interpreter. */
export async function probePython(interpreter: string, dataset?: DatasetToPreview): Promise<PythonReport> {
  process.env.PYTHON_BIN = interpreter;
  process.env.PYTHONPATH = [PY_RUNTIME_DIR, process.env.PYTHONPATH].filter(Boolean).join(':');
  const { python } = (await import('pythonia')).default;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${interpreter} within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
  });
  const probe = async (): Promise<PythonReport> => {
    const sys = await python('sys');
    const builtins = await python('builtins');
    const torch = await python('torch');
    const zmqPy = await python('zmq');
    await python('msgpack');
    await python('numpy');
    const device = await python('mgdarts_runtime.device');
    const protocol = await python('mgdarts_runtime.protocol');
    const spec = await protocol.spec();
    return {
      python: String(await sys.version).split(' ')[0] ?? '?',
      torch: String(await builtins.str(await torch.__version__)),
      devices: (await (await device.visible_devices()).valueOf()) as string[],
      pyzmq: String(await zmqPy.__version__),
      protocol: String(await spec.get('protocol_version')),
      opHash: String(await spec.get('op_vocab_hash')),
      preview: dataset ? await previewInPython(python, dataset) : undefined,
    };
  };
  try {
    return await Promise.race([probe(), timeout]);
  } catch (err) {
    throw new PythonEnvError(
      `the runtime's Python (${interpreter}) is not usable: ${describePythonError(err)}`,
      process.env.MGDARTS_PYTHON
        ? `install requirements.txt into that interpreter (\`${interpreter} -m pip install -r requirements.txt\`), or unset MGDARTS_PYTHON to use the project's venv`
        : 'run `npx mgdarts setup` to (re)install requirements.txt, or point MGDARTS_PYTHON at a working interpreter',
      err,
    );
  } finally {
    clearTimeout(timer);
    python.exit();
  }
}

/** pythonia puts the Python traceback in `stack` (with colours) and leaves `message` empty. */
function describePythonError(err: unknown): string {
  const e = err as Error;
  const text = `${e.message}\n${e.stack ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '').replace(/\*\*\* JS \*\*\*/g, '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.reverse().find((l) => /(Error|Exception)\b/.test(l) && !/^at /.test(l)) ?? lines.at(-1) ?? 'unknown error';
}

export async function runDoctor(dataDir?: string, datasetSpec?: string): Promise<number> {
  const dataset = datasetSpec ? datasetToPreview(datasetSpec) : undefined;
  const out = (label: string, value: string) => process.stdout.write(`${label.padEnd(14)} ${value}\n`);
  out('mgdarts', PACKAGE_VERSION);
  out('node', process.version);
  out('zeromq', `${zmq.version} (zeromq.js)`);
  out('protocol', `${PROTOCOL_VERSION}, op vocabulary ${opVocabularyHash(OP_VOCABULARY)}`);
  let ok = true;
  const interpreter = findPython();
  out('python', interpreter);
  const report = await probePython(interpreter, dataset);
  out('  version', report.python);
  out('  torch', report.torch);
  out('  devices', report.devices.join(', '));
  out('  pyzmq', report.pyzmq);
  const match = report.protocol === PROTOCOL_VERSION && report.opHash === opVocabularyHash(OP_VOCABULARY);
  out('  protocol', `${report.protocol}, op vocabulary ${report.opHash}${match ? '' : '  MISMATCH: runtime files differ from this CLI'}`);
  ok &&= match;
  out('datasets', '');
  out('  sample', `${hasFashionMnist(SAMPLE_DATA_DIR) ? 'found' : 'MISSING'}: ${SAMPLE_DATA_DIR}`);
  const candidates = fashionMnistCandidates(dataDir);
  const found = candidates.find(hasFashionMnist);
  out('  fashion-mnist', found ? `found: ${found}` : `not found (looked in ${candidates.join(', ')}; the Debian package dataset-fashion-mnist installs it in ${DEBIAN_FASHION_MNIST})`);
  if (report.preview) {
    printPreview(report.preview, out);
    if (report.preview.error) return 2;
  }
  return ok ? 0 : 3;
}
