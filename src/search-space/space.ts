// One small interface per search space, so the search loop and the run never branch on the space: how to
// build the supernet, where the stages end, how to derive and count the architecture, how to decide a shrink.
import type { ExperimentConfig } from '../config/schema.js';
import type { NdArray } from '../runtime/ndarray.js';
import type { RequestParams, RequestResult } from '../runtime/protocol.js';
import { decideWidths } from '../experiment/reevaluate.js';
import { stageEnds } from '../scheduler/stages.js';
import { reductionCells } from './darts-like.js';
import { deriveArchitecture, type Architecture, type CellShape, type SpaceShape } from './derive.js';
import { candidateMask, decideExpandedWidths, deriveMobileNet, mobileNetBuildParams, mobileNetShape, mobileNetStageEnds } from './mobilenet-like.js';
import { countArchitectureParameters } from './param-count.js';

type BuildFields = Pick<RequestParams<'build_supernet'>, 'space' | 'channels' | 'layers' | 'nodes' | 'reduction_cells' | 'stem_stride' | 'ops' | 'mobilenet'>;

export interface SearchSpaceModule {
  name: ExperimentConfig['search_space']['name'];
  /** Cells (DARTS-like) or searchable layers (MobileNet-like). */
  layers: number;
  buildParams(stageHeads: boolean): BuildFields;
  stageEnds(): [number, number, number];
  derive(opMask: NdArray, shapes?: readonly CellShape[]): Architecture;
  countParameters(arch: Architecture): number;
  /** The shrink of cells 0..upTo; cells in `full` keep their nominal width where the space has cell widths. */
  decideShrink(stats: RequestResult<'shrink_statistics'>, upTo: number, full: ReadonlySet<number>): RequestParams<'shrink'>;
  /** 1 where an op is a candidate at all (regrowth never picks the others); null: every op everywhere. */
  candidates(): NdArray | null;
}

export function dartsSpace(shape: SpaceShape): SearchSpaceModule {
  return {
    name: 'darts_like', layers: shape.layers,
    buildParams: () => ({
      space: 'darts_like', channels: shape.channels, layers: shape.layers, nodes: shape.nodes, reduction_cells: reductionCells(shape.layers),
      stem_stride: shape.stem_stride as 1 | 2, ops: [...shape.ops], mobilenet: null,
    }),
    stageEnds: () => stageEnds(shape.layers),
    derive: (opMask, shapes) => deriveArchitecture(shape, opMask, shapes),
    countParameters: countArchitectureParameters,
    decideShrink: decideWidths,
    candidates: () => null,
  };
}

/** The module of the config's space, for a dataset with these input channels and classes. */
export function searchSpaceFor(config: ExperimentConfig, data: { in_channels: number; num_classes: number }): SearchSpaceModule {
  const sp = config.search_space;
  if (sp.name === 'darts_like') {
    return dartsSpace({ ...data, channels: sp.channels, layers: sp.layers, nodes: sp.nodes, stem_stride: sp.stem_stride, ops: sp.ops });
  }
  const shape = mobileNetShape(sp, data);
  return {
    name: 'mobilenet_like', layers: shape.layers.length,
    buildParams: (stageHeads) => mobileNetBuildParams(shape, stageHeads),
    stageEnds: () => mobileNetStageEnds(shape.layers),
    derive: (opMask, shapes) => deriveMobileNet(shape, opMask, shapes),
    countParameters: countArchitectureParameters,
    decideShrink: (stats, upTo) => decideExpandedWidths(shape, stats, upTo),
    candidates: () => candidateMask(shape),
  };
}
