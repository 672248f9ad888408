// The kept share of filters in an exported architecture (SPEC §4.5): filters of the preprocess layers and
// of the surviving sep/dil ops at their exported widths, against the same layers at nominal width.
import type { Architecture } from './derive.js';
import { OPS } from './ops.js';
import { mobileNetFilterRetention } from './mobilenet-like.js';
import type { OpName } from '../runtime/protocol.js';

export function filterRetention(arch: Architecture): number {
  if (arch.search_space === 'mobilenet_like') return mobileNetFilterRetention(arch);
  let kept = 0;
  let nominal = 0;
  for (const cell of arch.cells) {
    kept += cell.input_widths.reduce((a, b) => a + b, 0);
    nominal += cell.input_widths.length * cell.channels;
    for (const op of cell.ops) {
      const family = OPS[op.op as OpName].family;
      // Filters are the pointwise outputs: sep [in, mid, out] → mid and out; dil [in, out] → out.
      if (family === 'sep_conv') {
        kept += op.widths[1]! + op.widths[2]!;
        nominal += 2 * cell.channels;
      } else if (family === 'dil_conv') {
        kept += op.widths[1]!;
        nominal += cell.channels;
      }
    }
  }
  return nominal > 0 ? kept / nominal : 1;
}
