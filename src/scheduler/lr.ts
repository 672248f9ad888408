// Learning-rate and drop-path schedules of the retraining protocol (SPEC §5.3).

/** Cosine from `base` to 0 over `epochs`, stepped at the start of each epoch (the reference's old style). */
export function cosineLr(base: number, epoch: number, epochs: number): number {
  return 0.5 * base * (1 + Math.cos((Math.PI * epoch) / epochs));
}

/** Drop-path probability ramps linearly: max × epoch / epochs. */
export function dropPathProb(max: number, epoch: number, epochs: number): number {
  return (max * epoch) / epochs;
}
