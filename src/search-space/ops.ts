// The op vocabulary as data: each op declares its family, kernel and the cost the size counter charges.
import type { OpName } from '../runtime/protocol.js';

export interface OpDeclaration {
  name: OpName;
  family: 'skip' | 'sep_conv' | 'dil_conv' | 'pool';
  kernel: number;
  /** Widths an exported op lists: sep [in, mid, out], dil [in, out], others [w] (SPEC §5.1). */
  widths(c: number): number[];
  /** Which of those widths are filter counts the filter level prunes (the pointwise outputs; SPEC §4.5). */
  filterWidths: readonly number[];
  /** The width a shrink sets per op rather than per node (sep's mid width, SPEC §4.6); null: none. */
  midWidth: number | null;
  /**
   * Conv weights the reference's size counter charges (SPEC §3.4): depthwise and pointwise weights of
   * sep/dil ops; a skip on a stride-2 edge is a FactorizedReduce of c² weights; pools cost nothing.
   */
  countedCost(c: number, stride: number): number;
  /** Parameters of the op in the evaluation network at these widths (convs, affine BNs; SPEC §5.2). */
  parameters(widths: readonly number[], stride: number): number;
}

/** Affine BatchNorm: a scale and a shift per channel. */
const bn = (c: number) => 2 * c;

function sepConv(name: OpName, k: number): OpDeclaration {
  return {
    name, family: 'sep_conv', kernel: k, widths: (c) => [c, c, c], filterWidths: [1, 2], midWidth: 1, countedCost: (c) => 2 * (c * k * k + c * c),
    parameters: ([cin = 0, mid = 0, out = 0]) => cin * k * k + cin * mid + bn(mid) + mid * k * k + mid * out + bn(out),
  };
}

function dilConv(name: OpName, k: number): OpDeclaration {
  return {
    name, family: 'dil_conv', kernel: k, widths: (c) => [c, c], filterWidths: [1], midWidth: null, countedCost: (c) => c * k * k + c * c,
    parameters: ([cin = 0, out = 0]) => cin * k * k + cin * out + bn(out),
  };
}

function pool(name: OpName): OpDeclaration {
  return { name, family: 'pool', kernel: 3, widths: (c) => [c], filterWidths: [], midWidth: null, countedCost: () => 0, parameters: ([c = 0]) => bn(c) };
}

export const OPS: Record<OpName, OpDeclaration> = {
  skip_connect: {
    name: 'skip_connect', family: 'skip', kernel: 1, widths: (c) => [c], filterWidths: [], midWidth: null, countedCost: (c, stride) => (stride === 2 ? c * c : 0),
    // Identity on stride 1; a FactorizedReduce (two 1×1 convs into halves of c, then BN) on stride 2.
    parameters: ([c = 0], stride) => (stride === 2 ? c * c + bn(c) : 0),
  },
  sep_conv_3x3: sepConv('sep_conv_3x3', 3),
  sep_conv_5x5: sepConv('sep_conv_5x5', 5),
  dil_conv_3x3: dilConv('dil_conv_3x3', 3),
  dil_conv_5x5: dilConv('dil_conv_5x5', 5),
  avg_pool_3x3: pool('avg_pool_3x3'),
  max_pool_3x3: pool('max_pool_3x3'),
};
