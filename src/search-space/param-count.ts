// Parameters of the evaluation network, counted from architecture.json alone (without the auxiliary
// head): an independent check of what the runtime builds (SPEC §5.2).
import type { Architecture } from './derive.js';
import { OPS } from './ops.js';
import { countMobileNetParameters } from './mobilenet-like.js';
import type { OpName } from '../runtime/protocol.js';

export function countArchitectureParameters(arch: Architecture): number {
  if (arch.search_space === 'mobilenet_like') return countMobileNetParameters(arch);
  const stemWidth = 3 * arch.channels;
  let total = arch.in_channels * stemWidth * 9 + 2 * stemWidth; // 3×3 conv, affine BN
  let cPrevPrev = stemWidth;
  let cPrev = stemWidth;
  for (const cell of arch.cells) {
    const [w0 = 0, w1 = 0] = cell.input_widths;
    // Preprocess: 1×1 ReLU-conv-BN, or a FactorizedReduce after a reduction cell: the same count.
    total += cPrevPrev * w0 + 2 * w0 + cPrev * w1 + 2 * w1;
    for (const op of cell.ops) total += OPS[op.op as OpName].parameters(op.widths, cell.reduction && op.from < 2 ? 2 : 1);
    cPrevPrev = cPrev;
    cPrev = cell.node_widths.reduce((a, b) => a + b, 0);
  }
  return total + cPrev * arch.num_classes + arch.num_classes; // classifier
}
