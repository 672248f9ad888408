// CIFAR-10 from synthetic files in the official format through the CLI, a missing CIFAR folder, and
// `mgdarts doctor --dataset` on a user factory that works and one that raises.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { listDir, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';

afterEach(removeTemps);

const FIXTURE = join(PACKAGE_ROOT, 'test', 'fixtures', 'user_dataset.py');

describe('CIFAR-10 smoke config', () => {
  it('runs on synthetic python batches written by scripts/make-synthetic-datasets.py', async () => {
    const cwd = tempDir();
    const data = join(cwd, 'data');
    const made = await runCli(['python', join(PACKAGE_ROOT, 'scripts', 'make-synthetic-datasets.py'), data], { cwd });
    expect(made.exitCode, made.stderr).toBe(0);
    expect(existsSync(join(data, 'pickle', 'cifar-10-batches-py', 'data_batch_5'))).toBe(true);
    expect(existsSync(join(data, 'binary', 'cifar-100-binary', 'train.bin'))).toBe(true);
    const out = join(cwd, 'out');
    const r = await runCli(['run', 'configs/cifar10-smoke.json', '--data-dir', join(data, 'pickle'), '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    // The parent folder was named; the runtime read the official sub-folder.
    expect(r.stderr).toContain(`data: cifar10 from ${join(data, 'pickle', 'cifar-10-batches-py')}: 180 search / 20 held-out / 100 test images`);
    expect(r.stdout).toMatch(/^architecture: 3 cells, \d+ of \d+ ops kept/m);
    expect(listDir(out)).toHaveLength(1);
  });

  it('stops with exit 2 naming the directory and the expected files, before any run directory exists', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const r = await runCli(['run', 'configs/cifar10-smoke.json', '--data-dir', cwd, '--out', out], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`dataset "cifar10" not found; looked in: ${cwd}`);
    expect(r.stderr).toContain('cifar-10-batches-bin/ (data_batch_1.bin');
    expect(listDir(out)).toHaveLength(0);
  });
});

describe('mgdarts doctor --dataset', () => {
  it('previews a working factory: sizes, item shape and dtype, classes from a scan', async () => {
    const r = await runCli(['doctor', '--dataset', `python:${FIXTURE}:make`], { cwd: tempDir() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}train +9 items$/m);
    expect(r.stdout).toMatch(/^ {2}test +3 items$/m);
    expect(r.stdout).toMatch(/^ {2}item +float32 \(3, 8, 8\)$/m);
    expect(r.stdout).toMatch(/^ {2}classes +3 \(from a scan of 9 training labels/m);
  });

  it('reports a factory that raises with its traceback and exit 2; a relative path is taken from the working directory', async () => {
    const r = await runCli(['doctor', '--dataset', 'python:user_dataset.py:broken'], { cwd: join(PACKAGE_ROOT, 'test', 'fixtures') });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('ERROR        python:' + FIXTURE + ':broken: the factory raised FileNotFoundError: labels.csv is missing');
    expect(r.stdout).toContain('Traceback (most recent call last)');
    expect(r.stdout).toContain('raise FileNotFoundError("labels.csv is missing")');
  });
});

describe('bad dataset settings', () => {
  it.each([
    ['a python: file that does not exist', { name: 'python:no_such.py:make' }, /dataset "python:no_such\.py:make" not found; looked in: .*no_such\.py\n {2}fix: dataset\.name names a \.py file relative to the config file's directory/],
    ['cifar100 with dataset.num_classes 10', { name: 'cifar100', num_classes: 10 }, /dataset\.num_classes: cifar100 has 100 classes; remove dataset\.num_classes or set it to 100, got 10/],
  ])('%s: exit 2 naming the field, before any run directory exists', async (_what, dataset, message) => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const r = await runCli(['run', writeConfig(cwd, 'bad.json', smokeConfig({ dataset })), '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(listDir(out)).toHaveLength(0);
  });

  it('a factory that raises is an error the runtime reports (exit 4): the field, the exception, its traceback and the doctor command; no run directory', async () => {
    const cwd = tempDir();
    const dataset = { name: `python:${FIXTURE}:broken`, workers: 0, train_limit: null };
    const r = await runCli(['run', writeConfig(cwd, 'raises.json', smokeConfig({ dataset })), '--out', join(cwd, 'out')], { cwd });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`load_data: dataset.name: python:${FIXTURE}:broken: the factory raised FileNotFoundError: labels.csv is missing; fix it, then try it alone with \`npx mgdarts doctor --dataset python:${FIXTURE}:broken\``);
    expect(r.stderr).toContain('raise FileNotFoundError("labels.csv is missing")');
    expect(r.stderr).toContain('(code runtime.bad_params)');
    expect(listDir(join(cwd, 'out')), 'no run directory for a dataset that does not load').toHaveLength(0);
  });
});
