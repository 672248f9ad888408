// The built CLI against the runtime's numerical and memory fault switches: a NaN loss in the second search
// epoch and out of memory each stop the run with exit code 4, a message naming where it happened and the
// fix, and a run directory that keeps what was written before.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { latestCheckpoint } from '../../src/experiment/checkpoints.js';
import { listDir, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';

afterEach(removeTemps);

function runDirOf(out: string): string {
  const runs = listDir(out);
  expect(runs).toHaveLength(1);
  return join(out, runs[0]!);
}

function events(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('mgdarts run with numerical and memory faults', () => {
  it('MGDARTS_FAULT=nan_loss in epoch 1: exit 4 naming stage, epoch, batch and the fix; events.jsonl keeps the epochs done', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const config = writeConfig(cwd, 'nan.json', smokeConfig({ name: 'nan' }));
    const env = { MGDARTS_FAULT: 'nan_loss', MGDARTS_FAULT_EPOCH: '1' };
    const r = await runCli(['run', config, '--out', out], { cwd, env });
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toContain("mgdarts: train_epoch: the loss is nan in stage 'stage1' (search), epoch 1 (counting from 0), batch 2 of 3;");
    expect(r.stderr).toContain('no optimizer step was taken for it');
    expect(r.stderr).toMatch(/fix: lower the learning rates .*events\.jsonl/);
    expect(r.stderr).toContain('(code runtime.nan_loss)');
    expect(r.stderr).not.toMatch(/Traceback|at .*\.js:\d+/);

    const dir = runDirOf(out);
    for (const f of ['config.json', 'manifest.json', 'events.jsonl']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, 'result.json'))).toBe(false);
    const epochs = events(dir).filter((e) => e.event === 'epoch');
    // Warm-up epoch 0 and search epoch 0 of stage1 finished; search epoch 1 did not.
    expect(epochs.map((e) => [e.stage, e.phase, e.epoch])).toEqual([
      ['stage1', 'warmup', 0],
      ['stage1', 'search', 0],
    ]);
    expect(epochs.every((e) => Number.isFinite(e.ce))).toBe(true);
  });

  it('a NaN after the first checkpoint leaves it intact; the run resumes from it once the cause is gone', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const config = writeConfig(cwd, 'nan.json', smokeConfig({ name: 'nan', search: { max_epochs: 5 } }));
    const r = await runCli(['run', config, '--out', out], { cwd, env: { MGDARTS_FAULT: 'nan_loss', MGDARTS_FAULT_EPOCH: '3' } });
    expect(r.exitCode, r.stderr).toBe(4);
    const dir = runDirOf(out);
    expect(r.stderr).toContain(`continue with: npx mgdarts resume ${dir}`);
    const latest = latestCheckpoint(dir);
    expect(latest.rejected).toEqual([]);
    expect(latest.record?.label).toBe('stage1-epoch-2');
    const resumed = await runCli(['resume', dir, '--quiet'], { cwd });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('(stage1-epoch-2,');
    expect(existsSync(join(dir, 'result.json'))).toBe(true);
  });

  it('MGDARTS_FAULT=oom: exit 4 naming the batch size and the memory, with the fix', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const config = writeConfig(cwd, 'oom.json', smokeConfig({ name: 'oom' }));
    const r = await runCli(['run', config, '--out', out], { cwd, env: { MGDARTS_FAULT: 'oom' } });
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toContain("mgdarts: train_epoch: out of memory in stage 'stage1' (warmup), epoch 0 with batch size 32");
    expect(r.stderr).toMatch(/at the failure cpu: peak resident [\d.]+ GiB, [\d.]+ GiB free of [\d.]+ GiB total/);
    expect(r.stderr).toMatch(/fix: lower search\.batch_size/);
    expect(r.stderr).toContain('(code runtime.oom)');
    expect(existsSync(join(runDirOf(out), 'events.jsonl'))).toBe(true);
  });
});
