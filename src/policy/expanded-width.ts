// The width rule of the MobileNet-like shrink: a block's expanded width goes to its live filters, rounded up to
// even, never below a floor share of its nominal width, never wider than it is now.
import { ceilEven } from './width-rule.js';

export function expandedWidth(input: { live: number; current: number; nominal: number; floorRatio: number }): number {
  const floor = Math.max(2, ceilEven(input.floorRatio * input.nominal));
  return Math.min(input.current, Math.max(ceilEven(input.live), floor));
}
