// The persistent runtime: start, status, runs in a row on the warm runtime, busy for a second controller, a killed
// controller's lease lapsing, stop; binds off loopback refused without CURVE keys; CURVE serving only its clients.
import { execa } from 'execa';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PY_RUNTIME_DIR } from '../../src/paths.js';
import { venvPython } from '../../src/paths.js';
import { BIN, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';
import { isAlive, waitFor } from '../helpers/runtime.js';

const home = tempDir('mgdarts-home-');
const work = tempDir();
const env = { MGDARTS_HOME: home };
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { cwd: work, env: { ...env, ...extra } });
const started: number[] = [];

afterAll(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  removeTemps();
});

const pidOf = (stdout: string) => Number(/pid (\d+)/.exec(stdout)?.[1]);

describe('mgdarts runtime (ipc, default bind)', () => {
  // The cheapest whole run: one phase at the operation level, one retrain epoch.
  const config = writeConfig(work, 'smoke.json', smokeConfig({
    granularities: ['operation'], search: { stages: 1, warmup_epochs: 1, max_epochs: 3, max_batches: 2 }, retrain: { epochs: 1, max_batches: 2 },
  }));
  const endpoint = `ipc://${join(home, 'runtime.sock')}`;
  let pid = 0;

  it('start answers with the endpoint and status shows it free', async () => {
    const start = await cli(['runtime', 'start', '--threads', '1', '--lease', '5']);
    expect(start.exitCode, start.stderr).toBe(0);
    expect(start.stdout).toContain(`runtime ready at ${endpoint}`);
    pid = pidOf(start.stdout);
    started.push(pid);
    expect(isAlive(pid)).toBe(true);
    const status = await cli(['runtime', 'status']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/idle, free; running nothing/);
    const again = await cli(['runtime', 'start']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already running');
  });

  it('two runs in a row use the same warm runtime', async () => {
    const first = await cli(['run', config, '--runtime', endpoint, '--out', join(work, 'runs')]);
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await cli(['run', config, '--runtime', endpoint, '--out', join(work, 'runs')]);
    expect(second.exitCode, second.stderr).toBe(0);
    const line = (s: string) => /pid (\d+), persistent, up (\d+) s/.exec(s);
    const [a, b] = [line(first.stderr), line(second.stderr)];
    expect(Number(a?.[1])).toBe(pid);
    expect(Number(b?.[1])).toBe(pid); // same process: torch was not imported again
    expect(Number(b?.[2])).toBeGreaterThan(Number(a?.[2]));
  });

  it('a second controller is told busy and changes nothing; a killed controller loses the runtime after its lease', async () => {
    const out = join(work, 'busy');
    const owner = execa('node', [BIN, 'run', config, '--runtime', endpoint, '--out', out], { env, cwd: work, reject: false, stdin: 'ignore' });
    let ownerErr = '';
    owner.stderr?.on('data', (d: Buffer) => (ownerErr += d.toString()));
    await waitFor(() => /warmup\] +epoch 1\/1 +batch/.test(ownerErr) || owner.exitCode !== null, 60_000, 'the first run training');
    const second = await cli(['run', config, '--runtime', endpoint, '--out', join(work, 'second')]);
    expect(second.exitCode, second.stderr).toBe(3);
    expect(second.stderr).toContain('the runtime is busy');
    expect(existsSync(join(work, 'second'))).toBe(false);
    const stop = await cli(['runtime', 'stop']);
    expect(stop.exitCode, stop.stderr).toBe(3);
    expect(stop.stderr).toContain('--force');
    expect(isAlive(pid)).toBe(true);

    owner.kill('SIGKILL');
    await owner;
    // The lease is 5 s: then the runtime drops the dead controller's epoch and serves the next one.
    const deadline = Date.now() + 20_000;
    let status = '';
    while (!/free/.test(status) && Date.now() < deadline) status = (await cli(['runtime', 'status'])).stdout;
    expect(status).toMatch(/idle, free/);
    const after = await cli(['run', config, '--runtime', endpoint, '--out', join(work, 'after')]);
    expect(after.exitCode, after.stderr).toBe(0);
  });

  it('stop shuts it down and removes its socket', async () => {
    const stop = await cli(['runtime', 'stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    await waitFor(() => !isAlive(pid), 10_000, 'the runtime to exit');
    expect(existsSync(join(home, 'runtime.sock'))).toBe(false);
    const status = await cli(['runtime', 'status']);
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toContain('none started here');
  });
});

describe('security', () => {
  it('a bind off loopback without keys is refused by the CLI and by the runtime itself (exit 2)', async () => {
    const r = await cli(['runtime', 'start', '--bind', 'tcp://0.0.0.0:5599']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('mgdarts runtime keygen');
    const py = await execa(venvPython(), ['-m', 'mgdarts_runtime', '--endpoint', 'tcp://*:5599'], { env: { PYTHONPATH: PY_RUNTIME_DIR }, reject: false });
    expect(py.exitCode).toBe(2);
    expect(py.stderr).toContain('without CURVE keys');
  });

  it('with CURVE keys only a client holding the authorised key pair is served', async () => {
    const keys = join(work, 'keys');
    const gen = await cli(['runtime', 'keygen', '--dir', keys]);
    expect(gen.exitCode, gen.stderr).toBe(0);
    const port = 40000 + (process.pid % 20000);
    const endpoint = `tcp://127.0.0.1:${port}`;
    const start = await cli(['runtime', 'start', '--bind', endpoint, '--keys', keys, '--threads', '1']);
    expect(start.exitCode, start.stderr).toBe(0);
    const pid = pidOf(start.stdout);
    started.push(pid);
    try {
      const ok = await cli(['runtime', 'status', '--runtime', endpoint, '--keys', keys]);
      expect(ok.exitCode, ok.stderr).toBe(0);
      // Another key pair that knows the server's public key: not in the runtime's clients/, so never answered.
      const stranger = join(work, 'stranger');
      expect((await cli(['runtime', 'keygen', '--dir', stranger])).exitCode).toBe(0);
      rmSync(join(stranger, 'server.key'));
      cpSync(join(keys, 'server.key'), join(stranger, 'server.key'));
      const refused = await cli(['runtime', 'status', '--runtime', endpoint, '--keys', stranger]);
      expect(refused.exitCode, refused.stderr).toBe(3);
      expect(refused.stderr).toContain('refused this client');
      // A plain client without CURVE gets nothing either.
      const plain = await cli(['run', writeConfig(work, 'c.json', smokeConfig()), '--runtime', endpoint, '--out', join(work, 'plain')]);
      expect(plain.exitCode, plain.stderr).toBe(3);
      expect(plain.stderr).toContain('pass --keys');
      expect(existsSync(join(work, 'plain'))).toBe(false);
    } finally {
      const stop = await cli(['runtime', 'stop', '--runtime', endpoint, '--keys', keys]);
      expect(stop.exitCode, stop.stderr).toBe(0);
    }
  });
});
