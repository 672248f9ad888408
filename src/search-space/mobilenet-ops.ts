// The MobileNet-like op vocabulary as data: each op declares its kernel, expansion, where it fits, the widths
// it lists in architecture.json and the parameters it costs at those widths.
import type { MobileNetOpName } from '../runtime/protocol.js';

export interface MbOpDeclaration {
  name: MobileNetOpName;
  kernel: number;
  /** Expansion ratio of an inverted-residual block; 0 for skip. */
  expansion: number;
  /** Whether the op is a candidate of a layer C_in → C_out with this stride (skip: stride 1 and C_in == C_out). */
  available(cIn: number, cOut: number, stride: number): boolean;
  /** Widths at the layer's nominal size: a block [C_in, C_in·e, C_out], skip [C]. */
  nominalWidths(cIn: number, cOut: number): number[];
  /** Index of the width the filter level prunes and a shrink changes (the expanded one); null: none. */
  expandedIndex: number | null;
  /** Parameters in the evaluation network (convs without bias, affine BNs). */
  parameters(widths: readonly number[]): number;
}

/** Affine BatchNorm: a scale and a shift per channel. */
const bn = (c: number) => 2 * c;

function block(k: number, e: number): MbOpDeclaration {
  return {
    name: `mb_k${k}_e${e}` as MobileNetOpName, kernel: k, expansion: e, available: () => true,
    nominalWidths: (cIn, cOut) => [cIn, cIn * e, cOut], expandedIndex: 1,
    // 1×1 expand + BN, k×k depthwise + BN, 1×1 project + BN
    parameters: ([cIn = 0, mid = 0, out = 0]) => cIn * mid + bn(mid) + mid * k * k + bn(mid) + mid * out + bn(out),
  };
}

export const MB_OPS: Record<MobileNetOpName, MbOpDeclaration> = {
  mb_k3_e3: block(3, 3),
  mb_k3_e6: block(3, 6),
  mb_k5_e3: block(5, 3),
  mb_k5_e6: block(5, 6),
  mb_k7_e3: block(7, 3),
  mb_k7_e6: block(7, 6),
  skip: {
    name: 'skip', kernel: 1, expansion: 0, available: (cIn, cOut, stride) => stride === 1 && cIn === cOut,
    nominalWidths: (cIn) => [cIn], expandedIndex: null, parameters: () => 0,
  },
};
