// When masks are committed and when a search phase stops (SPEC §3.2, §3.4).

/** Masks are committed on the last batch of every even search-loop epoch from 2 on: 2, 4, 6, ... */
export function isCommitEpoch(epoch: number): boolean {
  return epoch >= 2 && epoch % 2 === 0;
}

export interface StopInput {
  /** Search-loop epoch just finished (0-based). */
  epoch: number;
  committed: boolean;
  sizeNow: number;
  sizeAtStart: number;
  targetRatio: number;
  maxEpochs: number;
}

export type StopReason = 'target_reached' | 'epoch_cap' | null;

/** Stop at the first commit epoch at or below the target size, or when the epoch cap is reached. */
export function stopReason(s: StopInput): StopReason {
  if (s.committed && s.sizeNow <= s.targetRatio * s.sizeAtStart) return 'target_reached';
  if (s.epoch + 1 >= s.maxEpochs) return 'epoch_cap';
  return null;
}
