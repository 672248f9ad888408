// The run directory contract (ARCHITECTURE.md): config.json, manifest.json, events.jsonl,
// architecture.json with weight_masks.pt beside it, model.pt, result.json. JSON files are written atomically.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The weight masks of the exported architecture (torch.save'd dict "cell,edge,op.conv" → bool tensor). */
export const WEIGHT_MASKS_FILE = 'weight_masks.pt';

export class RunDir {
  private constructor(readonly path: string) {}

  /** A new, unique directory `<root>/<name>-<timestamp>`. */
  static create(root: string, name: string, now = new Date()): RunDir {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let path = resolve(root, `${name}-${stamp}`);
    for (let i = 2; existsSync(path); i++) path = resolve(root, `${name}-${stamp}-${i}`);
    mkdirSync(path, { recursive: true });
    return new RunDir(path);
  }

  /** An existing run directory (resume). */
  static open(path: string): RunDir {
    return new RunDir(resolve(path));
  }

  file(name: string): string {
    return join(this.path, name);
  }

  writeJson(name: string, value: unknown): void {
    writeAtomic(this.file(name), JSON.stringify(value, null, 2) + '\n');
  }

  /** One JSON line per epoch, stage or decision. */
  event(kind: string, fields: Record<string, unknown>): void {
    appendFileSync(this.file('events.jsonl'), JSON.stringify({ time: new Date().toISOString(), event: kind, ...fields }) + '\n');
  }
}

/** Temporary file, fsync, rename: a reader never sees half a file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
