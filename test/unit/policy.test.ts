// Pure policy functions: the seeded RNG, regrowth sampling (SPEC §4.3), the width rule (SPEC §4.5).
import { describe, expect, it } from 'vitest';
import { NdArray } from '../../src/runtime/ndarray.js';
import { SeededRng } from '../../src/policy/rng.js';
import { regrowCount, regrowthBins, sampleRegrowth, type RegrowthInput } from '../../src/policy/regrowth.js';
import { ceilEven, cellWidth, sepMidWidth } from '../../src/policy/width-rule.js';

describe('SeededRng', () => {
  it('is reproducible from a seed and from a snapshot, and uniform enough', () => {
    const a = new SeededRng(42);
    const first = Array.from({ length: 5 }, () => a.next());
    const b = new SeededRng(42);
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    const resumed = new SeededRng(b.snapshot());
    expect(resumed.next()).toBe(b.next());
    const c = new SeededRng(7);
    const xs = Array.from({ length: 20000 }, () => c.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

/** 2 cells × 3 edges × 2 types, with the given live mask and values. */
function input(mask: number[], weights: number[], momentum: number[], lastCell = 1): RegrowthInput {
  const shape = [2, 3, 2];
  return { opMask: NdArray.from('uint8', shape, mask), weights: NdArray.from('float32', shape, weights), momentum: NdArray.from('float32', shape, momentum), lastCell };
}

describe('regrowth', () => {
  it('regrows int(0.2 × pruned)', () => {
    expect([0, 4, 5, 9, 10, 49].map((n) => regrowCount(n, 0.2))).toEqual([0, 0, 1, 1, 2, 9]);
  });

  it('bin probabilities: cell importance × op importance, summing to 1', () => {
    // cell 0: type 0 live on all edges, type 1 live on edge 0 only; cell 1: everything live.
    const mask = [1, 1, 1, 0, 1, 0, /* cell 1 */ 1, 1, 1, 1, 1, 1];
    const w = [0.6, 0.2, 0.6, 0, 0.6, 0, /* */ 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const m = [0.1, 0.3, 0.1, 0, 0.1, 0, /* */ 0.2, 0.2, 0.2, 0.2, 0.2, 0.2];
    const bins = regrowthBins(input(mask, w, m));
    expect(bins.reduce((s, b) => s + b.p, 0)).toBeCloseTo(1, 10);
    // Cell 0: grad means (0.1, 0.3), mag means (0.6, 0.2), 4 live ops → cell sums /live: grad 0.1, mag 0.2.
    // Cell 1: grad (0.2, 0.2), mag (0.5, 0.5), 6 live → grad 0.4/6, mag 1/6.
    const cellGrad0 = 0.1 / (0.1 + 0.4 / 6);
    const cellMag0 = 0.2 / (0.2 + 1 / 6);
    const cell0 = 0.5 * cellGrad0 + 0.5 * cellMag0;
    const op01 = 0.5 * (0.2 / 0.8) + 0.5 * (0.3 / 0.4);
    const bin01 = bins.find((b) => b.cell === 0 && b.type === 1)!;
    expect(bin01.p).toBeCloseTo(cell0 * op01, 6); // inputs are float32
    expect(bin01.edges).toEqual([1, 2]);
  });

  it('a type with no live position takes half the cell minimum of the others', () => {
    const mask = [1, 0, 1, 0, 1, 0, /* */ 1, 1, 1, 1, 1, 1];
    const w = [0.4, 0, 0.4, 0, 0.4, 0, /* */ 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const m = [0.2, 0, 0.2, 0, 0.2, 0, /* */ 0.2, 0.2, 0.2, 0.2, 0.2, 0.2];
    const bins = regrowthBins(input(mask, w, m));
    const [b0, b1] = bins.filter((b) => b.cell === 0);
    // type 1 gets grad 0.1, mag 0.2 → op importance 0.5·(0.2/0.6) + 0.5·(0.1/0.3) = 1/3; type 0: 2/3.
    expect(b1!.p / b0!.p).toBeCloseTo(0.5, 10);
  });

  it('samples only pruned ops, never one twice, reproducibly, within the stage cells', () => {
    const mask = [1, 0, 0, 1, 1, 0, /* */ 0, 0, 1, 0, 0, 1];
    const w = Array(12).fill(0.5);
    const m = Array(12).fill(0.1);
    const one = sampleRegrowth(input(mask, w, m, 0), 10, new SeededRng(3));
    // Cell 0 only (lastCell 0): its pruned ops are (0,1), (1,0), (2,1).
    expect(one.map((r) => `${r.cell}:${r.edge}:${r.op}`).sort()).toEqual(['0:0:1', '0:1:0', '0:2:1']);
    const again = sampleRegrowth(input(mask, w, m, 0), 10, new SeededRng(3));
    expect(again).toEqual(one);
    const two = sampleRegrowth(input(mask, w, m, 1), 2, new SeededRng(9));
    expect(two).toHaveLength(2);
    for (const r of two) expect(mask[r.cell * 6 + r.edge * 2 + r.op]).toBe(0);
    expect(new Set(two.map((r) => `${r.cell}:${r.edge}:${r.op}`)).size).toBe(2);
  });

  it('draws follow the bin probabilities', () => {
    // Cell 0 alone; type 0 is far more important than type 1, both have pruned edges.
    const mask = [1, 1, 0, 0, 0, 0];
    const shape = [1, 3, 2];
    const inp = { opMask: NdArray.from('uint8', shape, mask), weights: NdArray.from('float32', shape, [0.9, 0.1, 0, 0, 0, 0]), momentum: NdArray.from('float32', shape, [0.9, 0.1, 0, 0, 0, 0]), lastCell: 0 };
    const rng = new SeededRng(1);
    let type0 = 0;
    for (let i = 0; i < 2000; i++) if (sampleRegrowth(inp, 1, rng)[0]!.op === 0) type0++;
    expect(type0 / 2000).toBeCloseTo(0.9, 1);
  });
});

describe('width rule', () => {
  it.each([
    ['the mean when it is at least half', { nominal: 16, preprocessLive: [16, 14], nodeOutLive: [[12], [10, 11], [], [16]], full: false }, 14],
    ['the max when the mean is too small', { nominal: 16, preprocessLive: [2, 2], nodeOutLive: [[2], [], [2, 10], [2]], full: false }, 10],
    ['half the nominal as the floor', { nominal: 16, preprocessLive: [1, 2], nodeOutLive: [[3], [], [], [1]], full: false }, 8],
    ['full width when asked', { nominal: 16, preprocessLive: [1, 1], nodeOutLive: [[1], [1], [1], [1]], full: true }, 16],
    ['never above nominal', { nominal: 8, preprocessLive: [8, 8], nodeOutLive: [[8], [8], [8], [8]], full: false }, 8],
    ['odd counts round up to even', { nominal: 32, preprocessLive: [17, 17], nodeOutLive: [[17], [17], [17], [17]], full: false }, 18],
  ] as const)('%s', (_name, inp, expected) => {
    const w = cellWidth({ ...inp, preprocessLive: [...inp.preprocessLive] as [number, number], nodeOutLive: inp.nodeOutLive.map((n) => [...n]) });
    expect(w).toBe(expected);
    expect(w % 2).toBe(0);
  });

  it('a node without sep/dil feeders takes the previous node width', () => {
    // widths: 8, 8, 14, (14), (14), 2 → mean 10 ≥ 8
    expect(cellWidth({ nominal: 16, preprocessLive: [8, 8], nodeOutLive: [[14], [], [], [2]], full: false })).toBe(10);
  });

  it('sep mid width is at least ceil_even((in + out) / 2) and at most nominal', () => {
    expect(sepMidWidth(3, 10, 12, 16)).toBe(12);
    expect(sepMidWidth(15, 10, 12, 16)).toBe(16);
    expect(sepMidWidth(20, 10, 12, 16)).toBe(16);
    expect(sepMidWidth(4, 9, 10, 16)).toBe(10);
    expect([1, 2, 3, 4].map(ceilEven)).toEqual([2, 2, 4, 4]);
  });
});
