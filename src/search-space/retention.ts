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
      // Filters are the widths each op declares as such (sep: mid and out; dil: out; the others none).
      const decl = OPS[op.op as OpName];
      const full = decl.widths(cell.channels);
      for (const i of decl.filterWidths) {
        kept += op.widths[i]!;
        nominal += full[i]!;
      }
    }
  }
  return nominal > 0 ? kept / nominal : 1;
}
