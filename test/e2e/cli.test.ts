// The built CLI as a user runs it: `node bin/mgdarts.js ...` in a temp directory, with --out in a temp dir.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ARCHITECTURE_FORMAT } from '../../src/search-space/derive.js';
import { BIN, listDir, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';
import { delay, isAlive, waitFor } from '../helpers/runtime.js';

afterEach(removeTemps);

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

/** A TCP port on loopback with nothing listening (bound once by us, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('mgdarts run configs/smoke.json', () => {
  it('exits 0, prints the summary and writes the run directory contract', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const r = await runCli(['run', 'configs/smoke.json', '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^architecture: 3 cells, \d+ of \d+ ops kept/m);
    expect(r.stdout).toMatch(/^ {2}cell 0, width \d+( of 4)?: \d+ ops/m);
    expect(r.stdout).toMatch(/^retention: operation [\d.]+%, filter [\d.]+%, weight [\d.]+%/m);
    expect(r.stdout).toMatch(/^parameters: supernet [\d,]+, final [\d,]+ dense/m);
    expect(r.stdout).toMatch(/^test accuracy: final epoch [\d.]+%, best epoch [\d.]+%/m);

    const runs = listDir(out);
    expect(runs).toHaveLength(1);
    const dir = join(out, runs[0]!);
    expect(r.stdout).toContain(`run directory: ${dir}`);
    for (const f of ['config.json', 'manifest.json', 'events.jsonl', 'architecture.json', 'weight_masks.pt', 'model.pt', 'model.torchscript.pt', 'result.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(listDir(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const config = readJson(join(dir, 'config.json'));
    expect(config).toMatchObject({ name: 'smoke', seed: 2, dataset: { name: 'fashion-mnist-sample' } });

    const manifest = readJson(join(dir, 'manifest.json'));
    expect(manifest.seed).toBe(2);
    expect(manifest.config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.versions).toMatchObject({ node: process.version, mgdarts: expect.any(String), protocol: expect.any(String) });
    expect(manifest.versions.torch).toMatch(/^\d+\.\d+/);
    expect(manifest.device).toBe('cpu');
    expect(manifest.dataset).toMatchObject({ name: 'fashion-mnist-sample', fingerprint: expect.stringMatching(/\w{8,}/) });

    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(3);
    for (const e of events) expect(e).toMatchObject({ time: expect.any(String), event: expect.any(String) });
    expect(events.map((e) => e.event)).toContain('supernet_built');
    expect(events.at(-1)!.event).toBe('run_done');

    const arch = readJson(join(dir, 'architecture.json'));
    expect(arch.format).toBe(ARCHITECTURE_FORMAT);
    expect(arch.cells).toHaveLength(3);
    for (const cell of arch.cells) {
      expect(cell).toMatchObject({ index: expect.any(Number), reduction: expect.any(Boolean), channels: expect.any(Number) });
      expect(cell.ops.length).toBeGreaterThan(0);
      for (const op of cell.ops) expect(op).toMatchObject({ op: expect.any(String), edge: expect.any(Number), widths: expect.any(Array) });
    }
    expect(statSync(join(dir, 'model.pt')).size).toBeGreaterThan(1000);

    const result = readJson(join(dir, 'result.json'));
    expect(result).toMatchObject({
      dataset: 'fashion-mnist-sample',
      search_space: 'darts_like',
      params: { supernet: expect.any(Number), final_dense: expect.any(Number), final_nonzero: expect.any(Number) },
      retention: { operation: expect.any(Number) },
      test_accuracy: { final: expect.any(Number), best: expect.any(Number) },
      search_seconds: expect.any(Number),
      train_seconds: expect.any(Number),
      device: 'cpu',
    });
    expect(result.retention).toHaveProperty('filter');
    expect(result.retention).toHaveProperty('weight');
    expect(result.export).toMatchObject({ torchscript: 'model.torchscript.pt', input_shape: [1, 28, 28] });
    expect(result.export.max_abs_diff).toBeLessThan(1e-4);
    expect(result.retention.operation).toBeGreaterThan(0);
    expect(result.retention.operation).toBeLessThanOrEqual(1);
    expect(result.test_accuracy.best).toBeGreaterThanOrEqual(result.test_accuracy.final);
    expect(result.stages[0].peak_memory_bytes).toBeGreaterThan(0);
    expect(r.stdout).toContain(`final epoch ${(100 * result.test_accuracy.final).toFixed(2)}%`);

    // The multi-stage search: three stages by resolution, regrowth after stages 2 and 3, then the final phase.
    expect(result.stages.map((s: { name: string }) => s.name)).toEqual(['stage1', 'stage2', 'stage3', 'final']);
    expect(result.stages.map((s: { last_cell: number }) => s.last_cell)).toEqual([0, 1, 2, 2]);
    expect(result.stages[0].ops_regrown).toBe(0);
    for (const s of result.stages.slice(1, 3)) expect(s.ops_regrown).toBe(Math.floor(0.2 * s.ops_pruned));
    expect(result.stages.reduce((a: number, s: { ops_pruned: number }) => a + s.ops_pruned, 0)).toBeGreaterThan(0);
    // The exported model is physically smaller, and its count from architecture.json alone matches the runtime's.
    expect(result.params.final_dense).toBe(result.params.from_architecture);
    expect(result.params.final_dense).toBeLessThan(result.params.supernet);
    expect(result.params.final_nonzero).toBeLessThan(result.params.final_dense);
    expect(arch.cells.some((c: { node_widths: number[]; channels: number }) => c.node_widths[0]! < c.channels)).toBe(true);
    expect(arch.cells.at(-1).node_widths).toEqual([16, 16, 16, 16]); // the last cell keeps the classifier's width
    for (const g of ['operation', 'filter', 'weight']) expect(result.retention[g]).toBeLessThan(1);

    const inspect = await runCli(['inspect', dir], { cwd });
    expect(inspect.exitCode, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/^ {4}in[01] → n2: \w+ \[[\d,]+\]/m);
    expect(inspect.stdout).toContain(`retention: operation ${(100 * result.retention.operation).toFixed(2)}%`);
    expect(inspect.stdout).toMatch(/^ {2}stage2 cells 0-1, .* \+\d+ regrown/m);
    expect(inspect.stdout).toContain(`final ${result.params.final_dense.toLocaleString('en-US')} dense`);
  });

  it('granularities ["operation"] with stages: 1 is the op-only, single-stage baseline', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const config = writeConfig(cwd, 'baseline.json', smokeConfig({ granularities: ['operation'], search: { stages: 1, batch_size: 32, warmup_epochs: 1, max_epochs: 3, max_batches: 3, lambda: { lambda0: 0.5 } } }));
    const r = await runCli(['run', config, '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = join(out, listDir(out)[0]!);
    const result = readJson(join(dir, 'result.json'));
    expect(result.stages.map((s: { name: string }) => s.name)).toEqual(['final']);
    expect(result.retention).toMatchObject({ filter: null, weight: null });
    expect(result.params.final_nonzero).toBe(result.params.final_dense);
    expect(existsSync(join(dir, 'weight_masks.pt'))).toBe(false);
    const arch = readJson(join(dir, 'architecture.json'));
    for (const cell of arch.cells) expect(cell.node_widths).toEqual(Array(4).fill(cell.channels));
  });

  it('inspect on a directory that is not a run exits 2 and says so', async () => {
    const cwd = tempDir();
    const r = await runCli(['inspect', cwd], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is not a run directory');
  });
});

describe('bad configs exit 2, list every failing path, and create no run directory', () => {
  const cases: Array<{ name: string; config: unknown; expect: RegExp[] }> = [
    {
      name: 'unknown keys',
      config: { ...smokeConfig(), bogus: 1, search: { ...(smokeConfig().search as object), warmup: 2 } },
      expect: [/^ {2}bogus: unknown key$/m, /^ {2}search\.warmup: unknown key$/m, /2 problems/],
    },
    {
      name: 'wrong types',
      config: smokeConfig({ seed: 'two', search_space: { channels: 4.5 }, dataset: { valid_fraction: '0.1' } }),
      expect: [/^ {2}seed: .*expected number/m, /^ {2}search_space\.channels: .*expected int/m, /^ {2}dataset\.valid_fraction: .*expected number/m, /3 problems/],
    },
    {
      name: 'retrain.epochs: 0',
      config: smokeConfig({ retrain: { epochs: 0 } }),
      expect: [/^ {2}retrain\.epochs: .*expected .*(> ?0|≥ ?1|>= ?1)/m, /1 problem\b/],
    },
    {
      name: 'not JSON',
      config: '{"name": ',
      expect: [/\(file\): not valid JSON/],
    },
  ];

  it.each(cases)('$name', async ({ config, expect: patterns }) => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const file = join(cwd, 'bad.json');
    if (typeof config === 'string') writeFileSync(file, config);
    else writeConfig(cwd, 'bad.json', config);
    const r = await runCli(['run', file, '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('(code config.invalid)');
    for (const p of patterns) expect(r.stderr).toMatch(p);
    expect(existsSync(out)).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('a config file that does not exist is a usage error (exit 2)', async () => {
    const cwd = tempDir();
    const r = await runCli(['run', 'nope.json', '--out', join(cwd, 'out')], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/config file not found: nope\.json/);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  // The Debian path is always searched last, so "not found" is reachable from the CLI only where it is
  // absent; test/integration/dataset-not-found.test.ts covers the code path everywhere.
  it('--data-dir without the dataset is an error naming it, even where another copy exists (exit 2)', async () => {
    const cwd = tempDir();
    const empty = tempDir('mgdarts-empty-');
    const out = join(cwd, 'out');
    const file = writeConfig(cwd, 'fm.json', smokeConfig({ dataset: { name: 'fashion-mnist' } }));
    const r = await runCli(['run', file, '--out', out, '--data-dir', empty], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('(code config.dataset_not_found)');
    expect(r.stderr).toContain(`looked in: ${empty}`);
    expect(existsSync(out)).toBe(false);
  });
});

describe('runtime failures seen from the CLI', () => {
  it('run --runtime at a port with nothing listening exits 3 with "runtime not reachable"', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const started = Date.now();
    const r = await runCli(['run', 'configs/smoke.json', '--runtime', `tcp://127.0.0.1:${port}`, '--out', join(cwd, 'out')], { cwd, timeout: 30_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('runtime not reachable');
    expect(r.stderr).toContain(`tcp://127.0.0.1:${port}`);
    expect(seconds).toBeLessThan(10);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  it('SIGKILL of the CLI mid-epoch leaves no runtime process behind', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    // Many batches per epoch, so the kill lands inside an epoch.
    const file = writeConfig(cwd, 'long.json', smokeConfig({ dataset: { train_limit: 2000 }, search: { batch_size: 16, max_batches: 100 } }));
    const child = execa('node', [BIN, 'run', file, '--out', out], { cwd, reject: false, stdin: 'ignore', buffer: false });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let runtimePid: number | undefined;
    try {
      await waitFor(() => /\[stage1 warmup\] +epoch 1\/1 +batch \d+\/100/.test(stderr) || child.exitCode !== null, 90_000, 'warm-up progress on stderr');
      expect(child.exitCode, stderr).toBeNull();
      runtimePid = Number(/runtime: torch .* pid (\d+)/.exec(stderr)?.[1]);
      expect(runtimePid).toBeGreaterThan(0);
      expect(isAlive(runtimePid)).toBe(true);
      child.kill('SIGKILL');
      await child;
      const killedAt = Date.now();
      await waitFor(() => !isAlive(runtimePid!), 5000, `runtime pid ${runtimePid} to exit after the CLI was killed`);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      // The runtime exits cleanly on its parent's death, so its ipc socket file goes with it.
      expect(listDir(tmpdir()).filter((f) => f.startsWith(`mgdarts-${child.pid}-`) && f.endsWith('.sock'))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (runtimePid && isAlive(runtimePid)) process.kill(runtimePid, 'SIGKILL'); // never leave an orphan, even on failure
      await delay(100);
      // Tidy up after a failed run of this test (named after the CLI's pid).
      for (const f of listDir(tmpdir())) if (f.startsWith(`mgdarts-${child.pid}-`) && f.endsWith('.sock')) rmSync(join(tmpdir(), f), { force: true });
    }
  });
});

describe('doctor and help', () => {
  it('doctor exits 0 and reports torch, devices and the sample dataset', async () => {
    const r = await runCli(['doctor'], { cwd: tempDir() });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}torch +\d+\.\d+/m);
    expect(r.stdout).toMatch(/^ {2}devices +.*cpu/m);
    expect(r.stdout).toMatch(/^ {2}sample +found: .*fashion-mnist-sample/m);
    expect(r.stdout).not.toContain('MISMATCH');
  });

  it('doctor with MGDARTS_PYTHON=/nonexistent exits 3 and says so', async () => {
    const r = await runCli(['doctor'], { cwd: tempDir(), env: { MGDARTS_PYTHON: '/nonexistent' } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('MGDARTS_PYTHON points at /nonexistent, which does not exist');
    expect(r.stderr).toContain('(code python.unavailable)');
  });

  it('--help exits 0 and lists the commands', async () => {
    const r = await runCli(['--help'], { cwd: tempDir() });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Usage: mgdarts/);
    for (const c of ['run', 'doctor', 'setup']) expect(r.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, 'm'));
  });
});
