// Checkpoints in <run>/checkpoints/: NNNN-<label>.pt (the runtime's tensors, written by it) and NNNN-<label>.json
// (the controller's state, the .pt's SHA-256 and the record's own SHA-256), the .json written last and atomically,
// so a checkpoint exists once its record does. A record or tensor file whose hash does not match is skipped and
// the one before it is used. The last KEEP checkpoints are kept.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeClient } from '../runtime/client.js';
import type { RunDir } from './run-dir.js';
import { writeAtomic } from './run-dir.js';

export const CHECKPOINT_DIR = 'checkpoints';
const KEEP = 3;
const FORMAT = 1;

export interface CheckpointRecord<S = unknown> {
  format: number;
  seq: number;
  label: string;
  created: string;
  model: 'supernet' | 'eval';
  runtime_file: string;
  runtime_sha256: string;
  state: S;
  sha256: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** JSON with sorted keys: the hash must not depend on the key order a parser hands back. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(',')}]`
    : value !== null && typeof value === 'object'
      ? `{${Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
          .join(',')}}`
      : JSON.stringify(value) ?? 'null';
const recordHash = (record: Omit<CheckpointRecord, 'sha256'>) => sha256(canonical(record));
const nameOf = (seq: number, label: string) => `${String(seq).padStart(4, '0')}-${label}`;

export class Checkpoints {
  private next: number;

  constructor(
    private readonly runDir: RunDir,
    private readonly client: RuntimeClient,
  ) {
    this.next = Math.max(0, ...listRecords(runDir.path).map((r) => r.seq)) + 1;
    // A write cut short (the runtime killed while saving) leaves its temporary file; the run lock says no one else writes.
    if (existsSync(this.dir)) for (const f of readdirSync(this.dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(this.dir, f), { force: true });
  }

  get dir(): string {
    return join(this.runDir.path, CHECKPOINT_DIR);
  }

  async write<S>(label: string, model: 'supernet' | 'eval', state: S): Promise<CheckpointRecord<S>> {
    mkdirSync(this.dir, { recursive: true });
    const seq = this.next++;
    const name = nameOf(seq, label);
    const saved = await this.client.request('save_checkpoint', { model, path: join(this.dir, `${name}.pt`) });
    const body = { format: FORMAT, seq, label, created: new Date().toISOString(), model, runtime_file: `${name}.pt`, runtime_sha256: saved.sha256, state };
    const record = { ...body, sha256: recordHash(body) };
    writeAtomic(join(this.dir, `${name}.json`), JSON.stringify(record) + '\n');
    this.prune();
    this.runDir.event('checkpoint', { seq, label, model, file: `${CHECKPOINT_DIR}/${name}.json`, bytes: saved.bytes });
    return record;
  }

  private prune(): void {
    const records = listRecords(this.runDir.path);
    for (const old of records.slice(0, Math.max(0, records.length - KEEP))) {
      rmSync(join(this.dir, `${old.name}.json`), { force: true }); // the record first: a half-deleted checkpoint is no checkpoint
      rmSync(join(this.dir, `${old.name}.pt`), { force: true });
    }
  }
}

interface Listed {
  seq: number;
  name: string;
}

function listRecords(runDir: string): Listed[] {
  const dir = join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^(\d{4,})-(.+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ seq: Number(m[1]), name: `${m[1]}-${m[2]}` }))
    .sort((a, b) => a.seq - b.seq);
}

export interface LatestCheckpoint<S> {
  record: CheckpointRecord<S> | null;
  /** Newer checkpoints passed over, with the reason. */
  rejected: { file: string; reason: string }[];
}

/** The newest checkpoint whose record and tensor file both match their hashes. */
export function latestCheckpoint<S>(runDir: string): LatestCheckpoint<S> {
  const rejected: LatestCheckpoint<S>['rejected'] = [];
  const dir = join(runDir, CHECKPOINT_DIR);
  for (const { name } of listRecords(runDir).reverse()) {
    const file = join(CHECKPOINT_DIR, `${name}.json`);
    const reason = verify(dir, name);
    if (typeof reason === 'string') rejected.push({ file, reason });
    else return { record: reason as CheckpointRecord<S>, rejected };
  }
  return { record: null, rejected };
}

function verify(dir: string, name: string): CheckpointRecord | string {
  let record: CheckpointRecord;
  try {
    record = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as CheckpointRecord;
  } catch (err) {
    return `unreadable record (${(err as Error).message})`;
  }
  const { sha256: stated, ...body } = record;
  if (record.format !== FORMAT) return `format ${record.format}, this mgdarts reads ${FORMAT}`;
  if (stated !== recordHash(body)) return 'the record does not match its SHA-256';
  const tensors = join(dir, record.runtime_file);
  if (!existsSync(tensors)) return `${record.runtime_file} is missing`;
  if (sha256(readFileSync(tensors)) !== record.runtime_sha256) return `${record.runtime_file} does not match its SHA-256 (truncated or corrupted)`;
  return record;
}

export const checkpointPath = (runDir: string, record: CheckpointRecord) => join(runDir, CHECKPOINT_DIR, record.runtime_file);
