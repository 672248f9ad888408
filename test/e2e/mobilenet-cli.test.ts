// The MobileNet-like space from the built CLI: configs/mobilenet-smoke.json searches three resolution stages and
// the final phase, exports architecture.json with shrunk expanded widths, and retrains a physically smaller model.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHITECTURE_FORMAT } from '../../src/search-space/derive.js';
import { MB_OPS } from '../../src/search-space/mobilenet-ops.js';
import { listDir, removeTemps, runCli, tempDir } from '../helpers/cli.js';

afterEach(removeTemps);

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

describe('mgdarts run configs/mobilenet-smoke.json', () => {
  it('searches, exports and retrains the MobileNet-like space', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'out');
    const r = await runCli(['run', 'configs/mobilenet-smoke.json', '--out', out], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^architecture: 5 cells, \d+ of 33 ops kept/m);
    const dir = join(out, listDir(out)[0]!);
    for (const f of ['architecture.json', 'weight_masks.pt', 'model.pt', 'result.json']) expect(existsSync(join(dir, f)), f).toBe(true);

    const arch = readJson(join(dir, 'architecture.json'));
    expect(arch).toMatchObject({ format: ARCHITECTURE_FORMAT, search_space: 'mobilenet_like', in_channels: 1, channels: 8, head_channels: 64, layers: 5, nodes: 1 });
    let shrunk = 0;
    for (const cell of arch.cells) {
      expect(cell.ops.length).toBeGreaterThan(0); // the guard keeps one op per layer
      for (const op of cell.ops) {
        const decl = MB_OPS[op.op as keyof typeof MB_OPS];
        const nominal = decl.nominalWidths(cell.input_widths[0], cell.channels);
        expect(op.widths.length).toBe(nominal.length);
        if (decl.expandedIndex === null) continue;
        expect(op.widths[0]).toBe(cell.input_widths[0]);
        expect(op.widths[2]).toBe(cell.channels);
        const mid = op.widths[decl.expandedIndex];
        expect(mid % 2).toBe(0);
        expect(mid).toBeGreaterThanOrEqual(Math.ceil(nominal[decl.expandedIndex]! / 4));
        if (mid < nominal[decl.expandedIndex]!) shrunk++;
      }
    }
    expect(shrunk).toBeGreaterThan(0);

    const result = readJson(join(dir, 'result.json'));
    expect(result).toMatchObject({ search_space: 'mobilenet_like', dataset: 'fashion-mnist-sample' });
    expect(result.stages.map((s: { name: string }) => s.name)).toEqual(['stage1', 'stage2', 'stage3', 'final']);
    expect(result.stages.map((s: { last_cell: number }) => s.last_cell)).toEqual([0, 2, 4, 4]);
    for (const s of result.stages.slice(1, 3)) expect(s.ops_regrown).toBe(Math.floor(0.2 * s.ops_pruned));
    expect(result.params.from_architecture).toBe(result.params.final_dense);
    expect(result.params.final_dense).toBeLessThan(result.params.supernet);
    expect(result.params.final_nonzero).toBeLessThanOrEqual(result.params.final_dense);
    for (const g of ['operation', 'filter']) expect(result.retention[g]).toBeLessThan(1);
  });
});
