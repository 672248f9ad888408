// The MobileNet-like space: a stride-2 stem, searchable layers (fixed widths and strides from the config's
// blocks) grouped into resolution stages, a 1×1 conv head, pool and linear. Each layer is a one-edge "cell",
// so op masks are (L, 1, K) and the DARTS-like scheduler, λ schedule, regrowth and guard apply unchanged.
import type { MobileNetSpaceConfig } from '../config/schema.js';
import { NdArray } from '../runtime/ndarray.js';
import type { MobileNetOpName, RequestParams, RequestResult } from '../runtime/protocol.js';
import { expandedWidth } from '../policy/expanded-width.js';
import { ARCHITECTURE_FORMAT, type Architecture, type ArchitectureCell, type CellShape } from './derive.js';
import { MB_OPS } from './mobilenet-ops.js';
import { MOBILENET_PRESETS, type MobileNetBlock } from './mobilenet-presets.js';

export interface MobileNetLayer {
  index: number;
  inChannels: number;
  channels: number;
  stride: number;
}

export interface MobileNetShape {
  in_channels: number;
  num_classes: number;
  stem_channels: number;
  stem_stride: number;
  head_channels: number;
  aux_channels: number;
  layers: MobileNetLayer[];
  ops: readonly MobileNetOpName[];
  minExpandedRatio: number;
}

/** The config with its preset's values filled in, as layers. */
export function mobileNetShape(sp: MobileNetSpaceConfig, data: { in_channels: number; num_classes: number }): MobileNetShape {
  const preset = MOBILENET_PRESETS[sp.preset];
  const stem = sp.stem_channels ?? preset.stem_channels;
  return {
    ...data, stem_channels: stem, stem_stride: sp.stem_stride, head_channels: sp.head_channels ?? preset.head_channels,
    aux_channels: sp.aux_channels ?? preset.aux_channels, layers: planLayers(sp.blocks ?? preset.blocks, stem), ops: sp.ops,
    minExpandedRatio: sp.min_expanded_ratio,
  };
}

/** Each block gives `repeat` layers; the first has the block's stride, the rest stride 1. */
export function planLayers(blocks: readonly MobileNetBlock[], stemChannels: number): MobileNetLayer[] {
  const layers: MobileNetLayer[] = [];
  let c = stemChannels;
  for (const b of blocks) {
    for (let r = 0; r < b.repeat; r++) {
      layers.push({ index: layers.length, inChannels: c, channels: b.channels, stride: r === 0 ? b.stride : 1 });
      c = b.channels;
    }
  }
  return layers;
}

/**
 * Last layer of each search stage. Resolution groups start at every stride-2 layer; with G groups the stages end
 * after groups ⌊G/3⌋−1 and ⌊2G/3⌋−1 (the DARTS-like rule L//3−1, 2L//3−1 over resolutions), and at the last layer.
 * Fewer than 3 groups: the rule over layers.
 */
export function mobileNetStageEnds(layers: readonly MobileNetLayer[]): [number, number, number] {
  const last = layers.length - 1;
  const groupEnds: number[] = [];
  layers.forEach((l, i) => {
    if (i > 0 && l.stride === 2) groupEnds.push(i - 1);
  });
  groupEnds.push(last);
  const g = groupEnds.length;
  if (g < 3) return [Math.floor(layers.length / 3) - 1, Math.floor((2 * layers.length) / 3) - 1, last];
  return [groupEnds[Math.floor(g / 3) - 1]!, groupEnds[Math.floor((2 * g) / 3) - 1]!, last];
}

/** 1 where an op is a candidate of a layer (uint8, (L, 1, K)). */
export function candidateMask(shape: MobileNetShape): NdArray {
  const values = shape.layers.flatMap((l) => shape.ops.map((name) => (MB_OPS[name].available(l.inChannels, l.channels, l.stride) ? 1 : 0)));
  return NdArray.from('uint8', [shape.layers.length, 1, shape.ops.length], values);
}

/** The build_supernet fields of this space (the stem width travels as `channels`). */
export function mobileNetBuildParams(shape: MobileNetShape, stageHeads: boolean) {
  return {
    space: 'mobilenet_like' as const, channels: shape.stem_channels, layers: shape.layers.length, nodes: 1, reduction_cells: [],
    stem_stride: shape.stem_stride as 1 | 2, ops: [...shape.ops],
    mobilenet: {
      layers: shape.layers.map((l) => ({ channels: l.channels, stride: l.stride as 1 | 2 })), head_channels: shape.head_channels,
      aux_channels: shape.aux_channels, stage_ends: stageHeads ? mobileNetStageEnds(shape.layers) : ([0, 0, shape.layers.length - 1] as [number, number, number]),
    },
  };
}

/** architecture.json: per layer (a one-edge cell) its live ops with their widths, the expanded ones as shrunk. */
export function deriveMobileNet(shape: MobileNetShape, opMask: NdArray, shapes?: readonly CellShape[]): Architecture {
  const cells = shape.layers.map((l): ArchitectureCell => {
    const ops = shape.ops.flatMap((name, k) => {
      if (!opMask.at(l.index, 0, k)) return [];
      const decl = MB_OPS[name];
      const widths = decl.nominalWidths(l.inChannels, l.channels);
      const shrunk = shapes?.[l.index]?.sepMid[`0,${k}`];
      if (decl.expandedIndex !== null && shrunk !== undefined) widths[decl.expandedIndex] = shrunk;
      return [{ op: name, edge: 0, from: 0, to: 1, widths }];
    });
    return { index: l.index, reduction: l.stride === 2, stride: l.stride, channels: l.channels, input_widths: [l.inChannels], node_widths: [l.channels], ops };
  });
  return {
    format: ARCHITECTURE_FORMAT, search_space: 'mobilenet_like', in_channels: shape.in_channels, num_classes: shape.num_classes,
    channels: shape.stem_channels, stem_stride: shape.stem_stride, layers: shape.layers.length, nodes: 1, cells, head_channels: shape.head_channels,
  };
}

/** Parameters of the evaluation network from architecture.json alone: stem conv + BN, the ops, head conv + BN, linear. */
export function countMobileNetParameters(arch: Architecture): number {
  const stem = arch.channels;
  const head = arch.head_channels ?? 0;
  let total = arch.in_channels * stem * 9 + 2 * stem;
  let c = stem;
  for (const cell of arch.cells) {
    for (const op of cell.ops) total += MB_OPS[op.op as MobileNetOpName].parameters(op.widths);
    c = cell.node_widths[0] ?? c;
  }
  return total + c * head + 2 * head + head * arch.num_classes + arch.num_classes;
}

/** Kept share of the expanded filters of the kept blocks, at their exported widths against nominal. */
export function mobileNetFilterRetention(arch: Architecture): number {
  let kept = 0;
  let nominal = 0;
  for (const cell of arch.cells) {
    for (const op of cell.ops) {
      const decl = MB_OPS[op.op as MobileNetOpName];
      if (decl.expandedIndex === null) continue;
      kept += op.widths[decl.expandedIndex]!;
      nominal += decl.nominalWidths(cell.input_widths[0]!, cell.channels)[decl.expandedIndex]!;
    }
  }
  return nominal > 0 ? kept / nominal : 1;
}

/** The shrink decision over layers 0..upTo: every live block's expanded width by the expanded-width rule. */
export function decideExpandedWidths(shape: MobileNetShape, stats: RequestResult<'shrink_statistics'>, upTo: number): RequestParams<'shrink'> {
  const midWidths: RequestParams<'shrink'>['mid_widths'] = [];
  for (const c of stats.cells) {
    if (c.cell > upTo) continue;
    const layer = shape.layers[c.cell]!;
    for (const [key, live] of Object.entries(c.sep_mid_live)) {
      const [edge, op] = key.split(',').map(Number) as [number, number];
      const decl = MB_OPS[shape.ops[op]!];
      const nominal = decl.nominalWidths(layer.inChannels, layer.channels)[decl.expandedIndex ?? 0]!;
      midWidths.push({ cell: c.cell, edge, op, width: expandedWidth({ live, current: c.sep_mid[key]!, nominal, floorRatio: shape.minExpandedRatio }) });
    }
  }
  return { cell_widths: [], mid_widths: midWidths };
}
