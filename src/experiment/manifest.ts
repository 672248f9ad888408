// manifest.json of a run directory: config hash, seed, versions, device and the dataset's fingerprint.
import { createHash } from 'node:crypto';
import type { ExperimentConfig } from '../config/schema.js';
import type { HelloResult } from '../runtime/client.js';
import { PROTOCOL_VERSION, type RequestResult } from '../runtime/protocol.js';
import { PACKAGE_VERSION } from '../version.js';
import type { RunDir } from './run-dir.js';

export function writeManifest(runDir: RunDir, input: { configPath: string; config: ExperimentConfig; hello: HelloResult; data: RequestResult<'load_data'>; extra?: Record<string, unknown> }): void {
  const { configPath, config, hello, data } = input;
  runDir.writeJson('manifest.json', {
    config_file: configPath,
    config_hash: createHash('sha256').update(JSON.stringify(config)).digest('hex'),
    seed: config.seed,
    versions: { mgdarts: PACKAGE_VERSION, node: process.version, protocol: PROTOCOL_VERSION, torch: hello.torch_version, python: hello.python_version, runtime: hello.runtime_version },
    device: hello.device,
    devices: hello.devices,
    dataset: { name: data.dataset, directory: data.directory, fingerprint: data.fingerprint, train: data.full_train_size, test: data.test_size },
    ...input.extra,
    created: new Date().toISOString(),
  });
}
