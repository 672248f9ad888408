// The op vocabulary as data: each op declares its family, kernel and the cost the size counter charges.
import type { OpName } from '../runtime/protocol.js';

export interface OpDeclaration {
  name: OpName;
  family: 'skip' | 'sep_conv' | 'dil_conv' | 'pool';
  kernel: number;
  /** Widths an exported op lists: sep [in, mid, out], dil [in, out], others [w] (SPEC §5.1). */
  widths(c: number): number[];
  /**
   * Conv weights the reference's size counter charges (SPEC §3.4): depthwise and pointwise weights of
   * sep/dil ops; a skip on a stride-2 edge is a FactorizedReduce of c² weights; pools cost nothing.
   */
  countedCost(c: number, stride: number): number;
}

function sepConv(name: OpName, k: number): OpDeclaration {
  return { name, family: 'sep_conv', kernel: k, widths: (c) => [c, c, c], countedCost: (c) => 2 * (c * k * k + c * c) };
}

function dilConv(name: OpName, k: number): OpDeclaration {
  return { name, family: 'dil_conv', kernel: k, widths: (c) => [c, c], countedCost: (c) => c * k * k + c * c };
}

function pool(name: OpName): OpDeclaration {
  return { name, family: 'pool', kernel: 3, widths: (c) => [c], countedCost: () => 0 };
}

export const OPS: Record<OpName, OpDeclaration> = {
  skip_connect: { name: 'skip_connect', family: 'skip', kernel: 1, widths: (c) => [c], countedCost: (c, stride) => (stride === 2 ? c * c : 0) },
  sep_conv_3x3: sepConv('sep_conv_3x3', 3),
  sep_conv_5x5: sepConv('sep_conv_5x5', 5),
  dil_conv_3x3: dilConv('dil_conv_3x3', 3),
  dil_conv_5x5: dilConv('dil_conv_5x5', 5),
  avg_pool_3x3: pool('avg_pool_3x3'),
  max_pool_3x3: pool('max_pool_3x3'),
};
