// The width rule of the physical shrink (SPEC §4.5, §8.1 item 8): one even width for every node of a
// cell, never below half the nominal width; the last cell (and the cell feeding an aux head) stays full.

export const ceilEven = (n: number): number => 2 * Math.ceil(n / 2);

export interface CellWidthInput {
  /** The cell's nominal channel count C_stage. */
  nominal: number;
  /** Live filters of the two preprocess layers. */
  preprocessLive: [number, number];
  /** Per intermediate node: live out-filters of each sep/dil op feeding it. */
  nodeOutLive: number[][];
  /** Keep the nominal width (the network's last cell, or the cell an aux head reads). */
  full: boolean;
}

export function cellWidth(input: CellWidthInput): number {
  const half = input.nominal / 2;
  if (input.full) return input.nominal;
  const widths = input.preprocessLive.map((n) => Math.max(2, ceilEven(n)));
  for (const feeders of input.nodeOutLive) {
    // A node with no sep/dil feeder takes the previous node's width.
    widths.push(feeders.length ? ceilEven(Math.max(...feeders)) : widths[widths.length - 1]!);
  }
  const mean = widths.reduce((a, b) => a + b, 0) / widths.length;
  const max = Math.max(...widths);
  const chosen = mean >= half ? mean : max >= half ? max : half;
  return Math.min(input.nominal, ceilEven(chosen));
}

/** A sep_conv's middle width: its live filters, but at least ceil_even((in + out) / 2), at most nominal. */
export function sepMidWidth(liveMid: number, widthIn: number, widthOut: number, nominalMid: number): number {
  return Math.min(nominalMid, Math.max(ceilEven(liveMid), ceilEven((widthIn + widthOut) / 2)));
}
