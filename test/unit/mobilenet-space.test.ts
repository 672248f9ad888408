// The MobileNet-like space: layers from blocks, stages by resolution, candidates, architecture.json and its
// parameter count, the expanded-width rule, regrowth over candidates, and the config's discriminated union.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { MobileNetSpaceConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { expandedWidth } from '../../src/policy/expanded-width.js';
import { regrowthBins, sampleRegrowth } from '../../src/policy/regrowth.js';
import { SeededRng } from '../../src/policy/rng.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { MOBILENET_OP_VOCABULARY } from '../../src/runtime/protocol.js';
import { candidateMask, countMobileNetParameters, decideExpandedWidths, deriveMobileNet, mobileNetShape, mobileNetStageEnds, planLayers } from '../../src/search-space/mobilenet-like.js';
import { MOBILENET_PRESETS } from '../../src/search-space/mobilenet-presets.js';
import { searchSpaceFor } from '../../src/search-space/space.js';

const K = MOBILENET_OP_VOCABULARY.length;
const SKIP = MOBILENET_OP_VOCABULARY.indexOf('skip');
const DATA = { in_channels: 1, num_classes: 10 };

function tinyShape() {
  const config = parseConfig({ dataset: { name: 'fashion-mnist-sample' }, search_space: { name: 'mobilenet_like', preset: 'tiny' } });
  return mobileNetShape(config.search_space as MobileNetSpaceConfig, DATA);
}

describe('layers and stages', () => {
  it('each block gives `repeat` layers, the first with its stride', () => {
    const layers = planLayers([{ channels: 8, stride: 1, repeat: 1 }, { channels: 16, stride: 2, repeat: 2 }], 4);
    expect(layers).toEqual([
      { index: 0, inChannels: 4, channels: 8, stride: 1 },
      { index: 1, inChannels: 8, channels: 16, stride: 2 },
      { index: 2, inChannels: 16, channels: 16, stride: 1 },
    ]);
  });

  it.each([
    // 5 resolution groups (112, 56, 28, 14, 7 px): stages end after groups 0 and 2
    ['imagenet_224', [0, 5, 16]],
    // 3 groups: one stage per resolution
    ['tiny', [0, 2, 4]],
  ] as const)('%s stage ends by resolution: %j', (preset, ends) => {
    const p = MOBILENET_PRESETS[preset];
    expect(mobileNetStageEnds(planLayers(p.blocks, p.stem_channels))).toEqual(ends);
  });

  it('fewer than three resolutions fall back to the rule over layers', () => {
    const layers = planLayers([{ channels: 8, stride: 1, repeat: 6 }], 8);
    expect(mobileNetStageEnds(layers)).toEqual([1, 3, 5]);
  });

  it('skip is a candidate only at stride 1 with equal widths', () => {
    const shape = tinyShape();
    const mask = candidateMask(shape);
    expect(mask.shape).toEqual([5, 1, K]);
    // tiny: 8→8 s1, 8→16 s2, 16→16 s1, 16→24 s2, 24→24 s1
    expect(shape.layers.map((l) => mask.at(l.index, 0, SKIP))).toEqual([1, 0, 1, 0, 1]);
    expect(shape.layers.every((l) => mask.at(l.index, 0, 0) === 1)).toBe(true);
  });
});

describe('architecture.json', () => {
  const shape = tinyShape();
  const opMask = (ones: [number, number][]) => {
    const data = new Uint8Array(shape.layers.length * K);
    for (const [layer, k] of ones) data[layer * K + k] = 1;
    return new NdArray('uint8', [shape.layers.length, 1, K], data);
  };
  const e6 = MOBILENET_OP_VOCABULARY.indexOf('mb_k5_e6');
  const e3 = MOBILENET_OP_VOCABULARY.indexOf('mb_k3_e3');

  it('lists each layer as a one-edge cell with its live ops at their shrunk expanded widths', () => {
    const shapes = shape.layers.map(() => ({ width: 0, sepMid: { [`0,${e6}`]: 10 } }));
    const arch = deriveMobileNet(shape, opMask([[0, e6], [0, SKIP], [1, e3], [2, e3], [3, e3], [4, e6]]), shapes);
    expect(arch).toMatchObject({ search_space: 'mobilenet_like', channels: 8, stem_stride: 2, head_channels: 64, layers: 5, nodes: 1 });
    expect(arch.cells[0]).toEqual({
      index: 0, reduction: false, stride: 1, channels: 8, input_widths: [8], node_widths: [8],
      ops: [{ op: 'mb_k5_e6', edge: 0, from: 0, to: 1, widths: [8, 10, 8] }, { op: 'skip', edge: 0, from: 0, to: 1, widths: [8] }],
    });
    expect(arch.cells[1]!.ops).toEqual([{ op: 'mb_k3_e3', edge: 0, from: 0, to: 1, widths: [8, 24, 16] }]);
    expect(arch.cells[1]!.reduction).toBe(true);
  });

  it('counts parameters from the widths alone', () => {
    const arch = deriveMobileNet(shape, opMask([[0, SKIP], [1, e3], [2, SKIP], [3, e3], [4, SKIP]]));
    const block = (cin: number, mid: number, out: number, k: number) => cin * mid + 2 * mid + mid * k * k + 2 * mid + mid * out + 2 * out;
    const stem = 1 * 8 * 9 + 16;
    const head = 24 * 64 + 128 + 64 * 10 + 10;
    expect(countMobileNetParameters(arch)).toBe(stem + block(8, 24, 16, 3) + block(16, 48, 24, 3) + head);
  });
});

describe('expanded-width rule', () => {
  it.each([
    [{ live: 7, current: 48, nominal: 48, floorRatio: 0.25 }, 12], // the floor: a quarter of nominal
    [{ live: 19, current: 48, nominal: 48, floorRatio: 0.25 }, 20], // live, rounded up to even
    [{ live: 40, current: 30, nominal: 48, floorRatio: 0.25 }, 30], // never wider than now
    [{ live: 0, current: 6, nominal: 6, floorRatio: 0.25 }, 2], // at least 2
  ])('%j → %i', (input, width) => expect(expandedWidth(input)).toBe(width));

  it('decides the expanded width of every live block up to the stage end and no layer width', () => {
    const shape = tinyShape();
    const cell = (c: number, live: Record<string, number>, current: Record<string, number>) => ({
      cell: c, width: 8, nominal: 8, preprocess_live: [0, 0] as [number, number], node_out_live: [], sep_mid_live: live, sep_mid: current,
    });
    const decision = decideExpandedWidths(shape, { cells: [cell(0, { '0,1': 5 }, { '0,1': 48 }), cell(1, { '0,0': 3 }, { '0,0': 24 })] }, 0);
    expect(decision).toEqual({ cell_widths: [], mid_widths: [{ cell: 0, edge: 0, op: 1, width: 12 }] });
  });
});

describe('regrowth over candidates', () => {
  it('never revives an op that is not a candidate of its layer', () => {
    const shape = tinyShape();
    const candidates = candidateMask(shape);
    const L = shape.layers.length;
    // every block pruned except one per layer; skip pruned where it is a candidate
    const live = Array.from({ length: L * K }, (_, i) => (i % K === 0 ? 1 : 0));
    const input = {
      weights: NdArray.from('float32', [L, 1, K], Array(L * K).fill(0.5)), momentum: NdArray.from('float32', [L, 1, K], Array(L * K).fill(0.1)),
      opMask: NdArray.from('uint8', [L, 1, K], live), lastCell: L - 1, candidates,
    };
    const picked = sampleRegrowth(input, L * (K - 1), new SeededRng(3));
    expect(picked.length).toBe(L * (K - 2) + 3); // every pruned candidate, and skip only in layers 0, 2, 4
    expect(picked.every((r) => candidates.at(r.cell, r.edge, r.op) === 1)).toBe(true);
    // skip weighs nothing in the stride-2 layers, where it is no candidate
    const bins = regrowthBins(input);
    expect(bins.filter((b) => b.type === SKIP).map((b) => b.p > 0)).toEqual([true, false, true, false, true]);
  });
});

describe('config', () => {
  it('mobilenet_like takes its defaults and ops; darts_like stays the default space', () => {
    const config = parseConfig({ dataset: { name: 'fashion-mnist-sample' }, search_space: { name: 'mobilenet_like' } });
    expect(config.search_space).toMatchObject({ name: 'mobilenet_like', preset: 'imagenet_224', stem_stride: 2, ops: [...MOBILENET_OP_VOCABULARY], min_expanded_ratio: 0.25 });
    const space = searchSpaceFor(config, DATA);
    expect(space.layers).toBe(17);
    expect(space.buildParams(true)).toMatchObject({ space: 'mobilenet_like', channels: 32, layers: 17, mobilenet: { head_channels: 1280, stage_ends: [0, 5, 16] } });
    const darts = parseConfig({ dataset: { name: 'fashion-mnist-sample' } });
    expect(darts.search_space).toMatchObject({ name: 'darts_like', channels: 16, layers: 8 });
    expect(searchSpaceFor(darts, DATA).buildParams(true)).toMatchObject({ space: 'darts_like', mobilenet: null, nodes: 4 });
  });

  it.each([
    [{ name: 'mobilenet_like', ops: ['mb_k3_e3', 'sep_conv_3x3'] }, 'search_space.ops[1]'],
    [{ name: 'mobilenet_like', blocks: [{ channels: 8, stride: 3 }] }, 'search_space.blocks[0].stride'],
    [{ name: 'mobilenet_like', layers: 8 }, 'search_space.layers'], // a darts_like field: unknown here
    [{ name: 'resnet_like' }, 'search_space.name'],
    [{ name: 'mobilenet_like', ops: ['skip'] }, 'search_space.ops'],
    [{ name: 'mobilenet_like', retrain_auxiliary: true }, 'retrain.auxiliary'],
  ])('%j is refused at %s', ({ retrain_auxiliary, ...searchSpace }: Record<string, unknown>, path) => {
    try {
      parseConfig({ dataset: { name: 'fashion-mnist-sample' }, search_space: searchSpace, ...(retrain_auxiliary ? { retrain: { auxiliary: true } } : {}) });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path)).toContain(path);
      return;
    }
    throw new Error('expected a ConfigError');
  });
});
