// The shrink decision (width rule over shrink_statistics), architecture.json at shrunk widths, the filter
// retention made from it, and `mgdarts inspect` on run directories, finished or not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectRunDir } from '../../src/cli/inspect.js';
import { UsageError } from '../../src/errors.js';
import { decideWidths } from '../../src/experiment/reevaluate.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { OP_VOCABULARY } from '../../src/runtime/protocol.js';
import { deriveArchitecture, type SpaceShape } from '../../src/search-space/derive.js';
import { countArchitectureParameters } from '../../src/search-space/param-count.js';
import { filterRetention } from '../../src/search-space/retention.js';

const K = OP_VOCABULARY.length;
const SEP3 = OP_VOCABULARY.indexOf('sep_conv_3x3');
const DIL3 = OP_VOCABULARY.indexOf('dil_conv_3x3');
const SKIP = OP_VOCABULARY.indexOf('skip_connect');
const space: SpaceShape = { in_channels: 1, num_classes: 10, channels: 8, layers: 3, nodes: 4, stem_stride: 2, ops: [...OP_VOCABULARY] };

function mask(ones: [number, number, number][]): NdArray {
  const data = new Uint8Array(3 * 14 * K);
  for (const [c, e, k] of ones) data[(c * 14 + e) * K + k] = 1;
  return new NdArray('uint8', [3, 14, K], data);
}

const stat = (cell: number, width: number, nominal: number, extra: Partial<{ pre: [number, number]; nodes: number[][]; mids: Record<string, number> }> = {}) => ({
  cell, width, nominal, preprocess_live: extra.pre ?? [width, width], node_out_live: extra.nodes ?? [[width], [width], [width], [width]],
  sep_mid_live: extra.mids ?? {}, sep_mid: Object.fromEntries(Object.keys(extra.mids ?? {}).map((k) => [k, width])),
});

describe('decideWidths', () => {
  it('applies the width rule up to the given cell, keeps full cells, and sizes every live sep mid', () => {
    const stats = { cells: [
      stat(0, 8, 8, { pre: [3, 5], nodes: [[2, 4], [], [6], [1]], mids: { '0,1': 1 } }),
      stat(1, 16, 16, { pre: [1, 1], nodes: [[1], [1], [1], [1]] }),
      stat(2, 32, 32, { pre: [2, 2], nodes: [[2], [2], [2], [2]] }),
    ] };
    const d = decideWidths(stats, 1, new Set([1, 2]));
    // cell 0: widths [4, 6, 4, 4, 6, 2] → mean 4.33 ≥ 4 → 6 (even); cell 1 is full; cell 2 is beyond upTo.
    expect(d.cell_widths).toEqual([{ cell: 0, width: 6 }, { cell: 1, width: 16 }]);
    // mid: live 1, but at least ceil_even((6 + 6) / 2) = 6, and never wider than now (8).
    expect(d.mid_widths).toEqual([{ cell: 0, edge: 0, op: 1, width: 6 }]);
  });

  it('never widens a cell that an earlier shrink made narrower', () => {
    const d = decideWidths({ cells: [stat(0, 4, 8, { pre: [4, 4], nodes: [[8], [8], [8], [8]] })] }, 0, new Set());
    expect(d.cell_widths).toEqual([{ cell: 0, width: 4 }]);
  });

  it('never goes below half the nominal width', () => {
    const d = decideWidths({ cells: [stat(0, 16, 16, { pre: [0, 0], nodes: [[0], [0], [], [0]] })] }, 0, new Set());
    expect(d.cell_widths).toEqual([{ cell: 0, width: 8 }]);
  });
});

describe('architecture at shrunk widths', () => {
  const ops = mask([[0, 0, SEP3], [0, 1, SKIP], [1, 0, DIL3], [1, 1, SKIP], [2, 0, SEP3]]);
  const shapes = [{ width: 6, sepMid: { [`0,${SEP3}`]: 4 } }, { width: 12, sepMid: {} }, { width: 32, sepMid: { [`0,${SEP3}`]: 32 } }];
  const arch = deriveArchitecture(space, ops, shapes);

  it('lists each op at its cell width, sep mids as recorded, and keeps the nominal channels', () => {
    expect(arch.cells.map((c) => c.node_widths)).toEqual([[6, 6, 6, 6], [12, 12, 12, 12], [32, 32, 32, 32]]);
    expect(arch.cells.map((c) => c.channels)).toEqual([8, 16, 32]);
    expect(arch.cells[0]!.ops.map((o) => o.widths)).toEqual([[6, 4, 6], [6]]);
    expect(arch.cells[1]!.ops.map((o) => o.widths)).toEqual([[12, 12], [12]]);
  });

  it('counts fewer parameters than at nominal widths', () => {
    expect(countArchitectureParameters(arch)).toBeLessThan(countArchitectureParameters(deriveArchitecture(space, ops)));
  });

  it('filter retention: kept preprocess and pointwise filters of live ops against nominal', () => {
    // cell 0: pre 12/16, sep mid+out 10/16; cell 1: pre 24/32, dil out 12/16; cell 2: pre 64/64, sep 64/64.
    expect(filterRetention(arch)).toBeCloseTo((12 + 10 + 24 + 12 + 64 + 64) / (16 + 16 + 32 + 16 + 64 + 64), 10);
    expect(filterRetention(deriveArchitecture(space, ops))).toBe(1);
  });
});

describe('mgdarts inspect', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const runDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'mgdarts-inspect-'));
    dirs.push(d);
    return d;
  };

  it('an unfinished run shows its architecture-less stage history from events.jsonl', () => {
    const dir = runDir();
    const stage = { event: 'stage_done', name: 'stage1', last_cell: 0, head: 'aux1', warmup_epochs: 1, epochs: 5, ops_pruned: 9, ops_regrown: 0, size_start: 100, size_target: 30, size_stop: 20, size_end: 20, params_derived: 500, widths_after: [6, 16, 32], peak_memory_bytes: 1, stop_reason: 'target_reached', seconds: 3 };
    writeFileSync(join(dir, 'events.jsonl'), `{"event":"supernet_built"}\n${JSON.stringify(stage)}\n{"event":"epo`);
    const text = inspectRunDir(dir);
    expect(text).toContain('no result.json: unfinished or failed');
    expect(text).toMatch(/stage1 cells 0-0, 1\+5 epochs, -9 ops, \+0 regrown, size 100 → 20 \(target 30\), 500 params derived, widths 6 16 32; target_reached/);
  });

  it('prints ops per edge with widths from architecture.json', () => {
    const dir = runDir();
    writeFileSync(join(dir, 'architecture.json'), JSON.stringify(deriveArchitecture(space, mask([[0, 0, SEP3], [0, 0, SKIP]]), [{ width: 6, sepMid: { [`0,${SEP3}`]: 4 } }, { width: 16, sepMid: {} }, { width: 32, sepMid: {} }])));
    const text = inspectRunDir(dir);
    expect(text).toContain('  cell 0, width 6 of 8: 2 ops');
    expect(text).toContain('    in0 → n2: skip_connect [6], sep_conv_3x3 [6,4,6]');
  });

  it('refuses a directory that is not a run, and a damaged JSON file, naming the file', () => {
    const dir = runDir();
    expect(() => inspectRunDir(dir)).toThrow(UsageError);
    expect(() => inspectRunDir(join(dir, 'missing'))).toThrow(/is not a directory/);
    writeFileSync(join(dir, 'result.json'), '{"stages": [');
    expect(() => inspectRunDir(dir)).toThrow(/result\.json is not valid JSON/);
  });
});
