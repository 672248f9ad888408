// The run's seeded random number generator (mulberry32): small, fast, and its whole state is one
// integer, so a checkpoint can store it and a resumed run draws the same numbers.

export class SeededRng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  snapshot(): number {
    return this.state;
  }
}
