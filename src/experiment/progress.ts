// What a person sees while a run works: one status line, redrawn in place on a terminal, and
// plain lines (at most one every few seconds) when stderr is a file or a pipe.

export interface ProgressState {
  phase: string;
  epoch: string;
  batch?: string;
  loss?: number;
  opsLeft?: string;
  lambda?: number;
}

export class ProgressLine {
  private readonly started = Date.now();
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  elapsed(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }

  update(p: ProgressState): void {
    if (this.quiet) return;
    const parts = [`[${p.phase}]`, `epoch ${p.epoch}`];
    if (p.batch) parts.push(`batch ${p.batch}`);
    if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(3)}`);
    if (p.opsLeft) parts.push(`ops ${p.opsLeft}`);
    if (p.lambda !== undefined) parts.push(`λ ${p.lambda.toExponential(1)}`);
    parts.push(this.elapsed());
    const line = parts.join('  ');
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${line}`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlain > 5000) {
      this.lastPlain = Date.now();
      this.stream.write(line + '\n');
    }
  }

  /** A line that stays (an epoch summary). */
  log(line: string): void {
    if (this.quiet) return;
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
    this.stream.write(line + '\n');
  }
}
