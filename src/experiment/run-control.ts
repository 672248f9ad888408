// Checkpoints and stops of one run. A checkpoint is written where the scheduler marks one (commit epochs, phase
// ends, every retraining epoch); after Ctrl-C or SIGTERM the next epoch boundary writes one and the run stops
// there, saying how to resume. A second signal stops at once (the last checkpoint stays).
import { InterruptedError } from '../errors.js';
import type { RuntimeClient } from '../runtime/client.js';
import { Checkpoints, type CheckpointRecord } from './checkpoints.js';
import type { JsonNdArray } from './json-ndarray.js';
import type { ProgressLine } from './progress.js';
import type { RetrainProgress } from './retrain.js';
import type { RunDir } from './run-dir.js';
import type { SearchOutcome, SearchSnapshot } from './search.js';

/** What a resumed run needs besides the run directory's config.json. */
export interface ResumeContext {
  configPath: string;
  datasetDir: string;
  /** SHA-256 of the run's config.json as the run wrote it: a resume refuses an edited one. */
  configHash: string;
}

export type SearchOutcomeJson = Omit<SearchOutcome, 'opMask'> & { opMask: JsonNdArray };

export interface WeightMasksRecord {
  path: string;
  bytes: number;
  masked: number;
  total: number;
}

export type RunCheckpoint =
  | { kind: 'search'; context: ResumeContext; search: SearchSnapshot }
  | { kind: 'retrain'; context: ResumeContext; search: SearchOutcomeJson; masks: WeightMasksRecord | null; retrain: RetrainProgress };

export class RunControl {
  private checkpoints: Checkpoints;
  private stopSignal: string | null = null;

  constructor(
    private readonly runDir: RunDir,
    client: RuntimeClient,
    private readonly context: ResumeContext,
    private readonly progress: ProgressLine,
    /** Stop as if interrupted right after the checkpoint of this label (MGDARTS_STOP_AT: tests and drills). */
    private readonly stopAt: string | undefined = process.env.MGDARTS_STOP_AT || undefined,
  ) {
    this.checkpoints = new Checkpoints(runDir, client);
  }

  /** A new runtime after a restart writes the next checkpoints. */
  attach(client: RuntimeClient): void {
    this.checkpoints = new Checkpoints(this.runDir, client);
  }

  get stopping(): boolean {
    return this.stopSignal !== null;
  }

  requestStop(signal: string): void {
    this.stopSignal = signal;
  }

  /** MGDARTS_STOP_AT named a label that no checkpoint of this run had. */
  unmatchedStop(): string | undefined {
    return this.stopAt;
  }

  resumeCommand(): string {
    return `npx mgdarts resume ${this.runDir.path}`;
  }

  readonly searchBoundary = async (label: string, due: boolean, snapshot: () => SearchSnapshot): Promise<void> => {
    if (!due && !this.stopHere(label)) return;
    const record = await this.checkpoints.write<RunCheckpoint>(label, 'supernet', { kind: 'search', context: this.context, search: snapshot() });
    this.stopIfAsked(record);
  };

  async retrainBoundary(label: string, retrain: RetrainProgress, search: SearchOutcomeJson, masks: WeightMasksRecord | null): Promise<void> {
    const record = await this.checkpoints.write<RunCheckpoint>(label, 'eval', { kind: 'retrain', context: this.context, search, masks, retrain });
    this.stopIfAsked(record);
  }

  private stopHere(label: string): boolean {
    return this.stopSignal !== null || this.stopAt === label;
  }

  private stopIfAsked(record: CheckpointRecord<RunCheckpoint>): void {
    if (!this.stopHere(record.label)) return;
    const signal = this.stopSignal ?? `MGDARTS_STOP_AT=${record.label}`;
    this.runDir.event('stopped', { signal, checkpoint: record.label });
    this.progress.log(`checkpoint ${record.seq} (${record.label}) written; stopped`);
    throw new InterruptedError(signal, `resume with: ${this.resumeCommand()}`);
  }
}
