// Test helpers for the built CLI: run `node bin/mgdarts.js ...` as a child process in a temp directory.
import { execa } from 'execa';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const BIN = join(PACKAGE_ROOT, 'bin', 'mgdarts.js');

const temps: string[] = [];

/** A fresh temp directory, removed by `removeTemps`. */
export function tempDir(prefix = 'mgdarts-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export function removeTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Write `config` as JSON in `dir`; returns its path. */
export function writeConfig(dir: string, name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion; never rejects on a non-zero exit. */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; timeout?: number }): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], { reject: false, stdin: 'ignore', timeout: 110_000, ...options });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A smoke-sized config (the shipped configs/smoke.json) with overrides merged one level deep. */
export function smokeConfig(overrides: Record<string, Record<string, unknown> | unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    name: 'e2e',
    seed: 2,
    device: 'cpu',
    threads: 1,
    dataset: { name: 'fashion-mnist-sample', valid_fraction: 0.1, train_limit: 300 },
    search_space: { channels: 4, layers: 3, stem_stride: 2 },
    search: { batch_size: 32, warmup_epochs: 1, max_epochs: 3, max_batches: 3, lambda: { lambda0: 0.01 } },
    retrain: { epochs: 2, batch_size: 32, max_batches: 3, drop_path: 0.1 },
  };
  for (const [k, v] of Object.entries(overrides)) {
    const b = base[k];
    base[k] = b && typeof b === 'object' && v && typeof v === 'object' && !Array.isArray(v) ? { ...b, ...v } : v;
  }
  return base;
}
