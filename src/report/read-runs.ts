// Reads the run directories `mgdarts report` is given into flat records: one per finished run or retrain.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export interface RunRecord {
  dir: string;
  kind: 'run' | 'retrain';
  /** Experiment identity: the config's name, the dataset and the search space (not the seed). */
  name: string;
  dataset: string;
  search_space: string;
  seed: number | null;
  final_accuracy: number;
  best_accuracy: number;
  params_dense: number;
  params_nonzero: number;
  /** null for a retrain, which did not search. */
  search_seconds: number | null;
  peak_memory_bytes: number | null;
  /** The device's name as torch gives it ("NVIDIA H200", "cpu"). */
  device: string | null;
}

interface ResultFile {
  kind?: string;
  dataset?: unknown;
  search_space?: unknown;
  test_accuracy?: { final?: unknown; best?: unknown };
  params?: { final_dense?: unknown; final_nonzero?: unknown };
  search_seconds?: unknown;
  peak_memory_bytes?: unknown;
  device?: unknown;
}

interface ManifestFile {
  seed?: unknown;
  device?: unknown;
  devices?: unknown;
}

export function readRunRecord(dir: string): RunRecord {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`, 'pass run directories made by `mgdarts run` or `mgdarts retrain`');
  const result = readJson<ResultFile>(dir, 'result.json', true)!;
  const manifest = readJson<ManifestFile>(dir, 'manifest.json', false) ?? {};
  const config = readJson<{ name?: unknown; seed?: unknown }>(dir, 'config.json', false) ?? {};
  const file = join(dir, 'result.json');
  const final = need(result.test_accuracy?.final, file, 'test_accuracy.final');
  const best = need(result.test_accuracy?.best, file, 'test_accuracy.best');
  return {
    dir,
    kind: result.kind === 'retrain' ? 'retrain' : 'run',
    name: typeof config.name === 'string' ? config.name : '(unnamed)',
    dataset: typeof result.dataset === 'string' ? result.dataset : '(unknown)',
    search_space: typeof result.search_space === 'string' ? result.search_space : '(unknown)',
    seed: num(manifest.seed) ?? num(config.seed),
    final_accuracy: final,
    best_accuracy: best,
    params_dense: need(result.params?.final_dense, file, 'params.final_dense'),
    params_nonzero: need(result.params?.final_nonzero, file, 'params.final_nonzero'),
    search_seconds: result.kind === 'retrain' ? null : num(result.search_seconds),
    peak_memory_bytes: result.kind === 'retrain' ? null : num(result.peak_memory_bytes),
    device: deviceName(typeof manifest.device === 'string' ? manifest.device : typeof result.device === 'string' ? result.device : null, manifest.devices),
  };
}

/** "cuda" / "cuda:1" → the name torch listed for it in manifest.devices ("cuda:1 (NVIDIA H200)" → "NVIDIA H200"). */
export function deviceName(device: string | null, devices: unknown): string | null {
  if (!device) return null;
  const id = device === 'cuda' ? 'cuda:0' : device;
  const listed = Array.isArray(devices) ? devices.find((d): d is string => typeof d === 'string' && d.startsWith(`${id} (`)) : undefined;
  const named = listed?.match(/\((.+)\)$/)?.[1];
  return named ?? device;
}

function readJson<T>(dir: string, name: string, required: boolean): T | null {
  const path = join(dir, name);
  if (!existsSync(path)) {
    if (required) throw new UsageError(`${dir} has no ${name}: the run did not finish`, 'pass finished run directories (mgdarts inspect shows how far one got)');
    return null;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`, 'the file is damaged; re-run the experiment or leave the directory out');
  }
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function need(v: unknown, file: string, field: string): number {
  const n = num(v);
  if (n === null) throw new UsageError(`${file}: ${field} is missing or not a number`, 'the file is damaged or from another tool; leave the directory out');
  return n;
}
