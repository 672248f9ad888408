// Checkpoints and exact resume through the built CLI, deterministic mode on CPU: a run stopped mid-stage, right
// after a shrink, in the final phase and in the retraining, then resumed, ends with the same architecture.json and
// the same model.pt as the run that was never stopped; a truncated checkpoint is passed over for the one before;
// a runtime killed mid-epoch is restarted and the run resumes from its last checkpoint; Ctrl-C checkpoints and stops.
import { execa } from 'execa';
import { readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, listDir, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';
import { isAlive, waitFor } from '../helpers/runtime.js';

const work = tempDir();
// Prunes, regrows and shrinks at every stage (configs/smoke.json's λ), in a few seconds per stage.
const config = writeConfig(work, 'det.json', smokeConfig({
  name: 'det', deterministic: true,
  search: { batch_size: 32, warmup_epochs: 1, max_epochs: 5, max_batches: 2, target_params: 20000, lambda: { lambda0: 0.5 } },
  retrain: { epochs: 2, batch_size: 32, max_batches: 2, drop_path: 0.1 },
}));
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: work, env, timeout: 200_000 });
const onlyRun = (out: string) => join(out, listDir(out)[0]!);
const read = (dir: string, file: string) => readFileSync(join(dir, file));
const events = (dir: string) => read(dir, 'events.jsonl').toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

afterAll(removeTemps);

/** The CLI in the background on the slow_batches runtime (0.2 s per batch, so that signals land mid-epoch), once
 * its stderr matches `ready`; `stderr()` reads what it wrote so far. */
async function slowCli(args: string[], ready: RegExp, what: string, options: { detached?: boolean } = {}) {
  const child = execa('node', [BIN, ...args], { cwd: work, reject: false, env: { MGDARTS_FAULT: 'slow_batches' }, timeout: 200_000, ...options });
  let text = '';
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const stderr = () => text;
  await waitFor(() => ready.test(text), 120_000, what);
  return { process: child, stderr };
}

describe('checkpoints and resume (deterministic, CPU)', () => {
  let baseline = '';
  beforeAll(async () => {
    const r = await cli(['run', config, '--out', join(work, 'baseline'), '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    baseline = onlyRun(join(work, 'baseline'));
  }, 200_000);

  it('writes checkpoints at commit epochs, phase ends and retraining epochs, keeping the last three', () => {
    const labels = events(baseline).filter((e) => e.event === 'checkpoint').map((e) => e.label);
    expect(labels).toEqual(expect.arrayContaining(['stage1-epoch-2', 'stage1-end', 'stage2-end', 'stage3-end', 'final-end', 'retrain-0', 'retrain-1']));
    const files = readdirSync(join(baseline, 'checkpoints'));
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(3);
    expect(files.filter((f) => f.endsWith('.pt'))).toHaveLength(3);
  });

  it.each(['stage1-epoch-2', 'stage1-end', 'final-epoch-2', 'retrain-0'])('stopped at %s and resumed: the same architecture.json and model.pt', async (label) => {
    const out = join(work, `stop-${label}`);
    const stopped = await cli(['run', config, '--out', out, '--quiet'], { MGDARTS_STOP_AT: label });
    expect(stopped.exitCode, stopped.stderr).toBe(130);
    const dir = onlyRun(out);
    expect(stopped.stderr).toContain(`npx mgdarts resume ${dir}`);
    expect(listDir(dir)).not.toContain('result.json');
    const resumed = await cli(['resume', dir, '--quiet']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`(${label},`);
    expect(read(dir, 'architecture.json').toString()).toBe(read(baseline, 'architecture.json').toString());
    expect(read(dir, 'model.pt').equals(read(baseline, 'model.pt'))).toBe(true);
    expect(events(dir).some((e) => e.event === 'resumed' && e.checkpoint === label)).toBe(true);
    // A finished run is not resumed again.
    const again = await cli(['resume', dir]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('has finished');
  }, 200_000);

  it('a truncated checkpoint is detected by its hash and the one before it is used', async () => {
    const out = join(work, 'truncated');
    expect((await cli(['run', config, '--out', out, '--quiet'], { MGDARTS_STOP_AT: 'stage1-end' })).exitCode).toBe(130);
    const dir = onlyRun(out);
    const newest = readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('-stage1-end.pt'))[0]!;
    truncateSync(join(dir, 'checkpoints', newest), 1000);
    const resumed = await cli(['resume', dir, '--quiet']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/stage1-end\.pt does not match its SHA-256/);
    expect(resumed.stderr).toContain('(stage1-epoch-4,');
    expect(read(dir, 'architecture.json').toString()).toBe(read(baseline, 'architecture.json').toString());
  }, 200_000);

  it('a runtime killed with SIGKILL mid-epoch is restarted within seconds and the run finishes as if never stopped', async () => {
    const out = join(work, 'killed');
    // slow_batches (0.2 s per batch) keeps an epoch running long enough to kill it in the middle.
    const { process: run, stderr } = await slowCli(['run', config, '--out', out], /\[stage1\] epoch 4\/5/, 'a search epoch after the first checkpoint');
    const pid = Number(/runtime: .* pid (\d+)/.exec(stderr())![1]);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    const done = await run;
    expect(done.exitCode, stderr()).toBe(0);
    const dir = onlyRun(out);
    const restart = events(dir).find((e) => e.event === 'runtime_restart')!;
    expect(restart).toMatchObject({ restart: 1, from_checkpoint: expect.stringMatching(/^stage1-epoch-[24]$/) });
    expect(Date.parse(restart.time as string) - killedAt).toBeLessThan(5_000);
    expect(isAlive(pid)).toBe(false);
    expect(read(dir, 'architecture.json').toString()).toBe(read(baseline, 'architecture.json').toString());
  }, 200_000);

  it('Ctrl-C writes a checkpoint at the end of the epoch, exits 130 naming the resume command, and leaves no runtime', async () => {
    const out = join(work, 'sigint');
    const { process: run, stderr } = await slowCli(['run', config, '--out', out], /\[stage1 warmup\] epoch 1\/1/, 'the warm-up epoch');
    const pid = Number(/runtime: .* pid (\d+)/.exec(stderr())![1]);
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(130);
    const dir = onlyRun(out);
    expect(stderr()).toMatch(/checkpoint 1 \(stage1-epoch-\d\) written; stopped/);
    expect(stderr()).toContain(`npx mgdarts resume ${dir}`);
    expect(events(dir).find((e) => e.event === 'stopped')).toMatchObject({ signal: 'SIGINT', checkpoint: expect.stringMatching(/^stage1-epoch-\d$/) });
    await waitFor(() => !isAlive(pid), 10_000, 'the runtime to exit');
  }, 200_000);

  it('SIGTERM to the whole process group (a scheduler, `timeout`) reaches only the CLI: it checkpoints and stops', async () => {
    const out = join(work, 'sigterm');
    // detached: the CLI leads its own group, as a shell job does; the signal goes to the group.
    const { process: run, stderr } = await slowCli(['run', config, '--out', out], /\[stage1 warmup\] epoch 1\/1/, 'the warm-up epoch', { detached: true });
    process.kill(-run.pid!, 'SIGTERM');
    const done = await run;
    expect(done.exitCode, stderr()).toBe(130);
    expect(stderr()).toMatch(/checkpoint 1 \(stage1-epoch-\d\) written; stopped/);
    expect(stderr()).not.toContain('runtime exited');
  }, 200_000);

  it('one controller per run directory; an edited config.json is refused; both exit 2 and change nothing', async () => {
    const out = join(work, 'guarded');
    expect((await cli(['run', config, '--out', out, '--quiet'], { MGDARTS_STOP_AT: 'stage1-epoch-2' })).exitCode).toBe(130);
    const dir = onlyRun(out);
    const original = read(dir, 'config.json').toString();
    writeFileSync(join(dir, 'config.json'), original.replace('"seed": 2', '"seed": 5'));
    const edited = await cli(['resume', dir]);
    expect(edited.exitCode, edited.stderr).toBe(2);
    expect(edited.stderr).toContain(`${join(dir, 'config.json')} changed since the run wrote it`);
    writeFileSync(join(dir, 'config.json'), original);

    const { process: first, stderr } = await slowCli(['resume', dir], /supernet: restored/, 'the first resume to start');
    const second = await cli(['resume', dir]);
    expect(second.exitCode, second.stderr).toBe(2);
    expect(second.stderr).toContain(`is in use by another mgdarts (pid ${first.pid})`);
    const done = await first;
    expect(done.exitCode, stderr()).toBe(0);
    expect(events(dir).filter((e) => e.event === 'resumed')).toHaveLength(1);
    expect(listDir(dir)).not.toContain('run.lock');
    expect(read(dir, 'architecture.json').toString()).toBe(read(baseline, 'architecture.json').toString());
  }, 200_000);

  it('resume refuses a directory without checkpoints, saying why (exit 2)', async () => {
    const r = await cli(['resume', work]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no run directory');
  });
});
