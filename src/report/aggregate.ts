// Pure aggregation for `mgdarts report`: runs grouped by experiment (config name, dataset, search space and
// kind; seeds are what varies inside a group), mean and sample std per figure, beside the reference rows.
import type { RunRecord } from './read-runs.js';
import type { ReferenceResult, SourcedFigure } from './reference-results.js';

/** Mean and sample standard deviation (n − 1); std is null for a single value. */
export interface Stat {
  mean: number;
  std: number | null;
  n: number;
}

export interface ReportRow {
  origin: 'ours' | 'reference';
  experiment: string;
  dataset: string;
  search_space: string;
  /** Runs in the group (seeds); null for a reference row. */
  n: number | null;
  seeds: number[];
  /** Test error in %, of the last retraining epoch and of the best one (chosen by the test set: optimistic). */
  final_error: Stat | null;
  best_error: Stat | null;
  /** A reference's test error as its source reports it. */
  reported_error: Stat | null;
  params_dense_m: Stat | null;
  params_nonzero_m: Stat | null;
  search_hours: Stat | null;
  device: string | null;
  peak_memory_gib: Stat | null;
  sources: string[];
}

export function meanStd(values: readonly number[]): Stat | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: null, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance), n };
}

const GIB = 1024 ** 3;

export function groupRuns(records: readonly RunRecord[]): ReportRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = JSON.stringify([r.name, r.dataset, r.search_space, r.kind]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((runs): ReportRow => {
    const first = runs[0]!;
    const present = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
    // The device of the search cost: only runs that searched have one.
    const devices = [...new Set(runs.filter((r) => r.search_seconds !== null).map((r) => r.device ?? 'unknown device'))];
    return {
      origin: 'ours',
      experiment: first.kind === 'retrain' ? `${first.name} (retrain)` : first.name,
      dataset: first.dataset,
      search_space: first.search_space,
      n: runs.length,
      seeds: present(runs.map((r) => r.seed)).sort((a, b) => a - b),
      final_error: meanStd(runs.map((r) => 100 * (1 - r.final_accuracy))),
      best_error: meanStd(runs.map((r) => 100 * (1 - r.best_accuracy))),
      reported_error: null,
      params_dense_m: meanStd(runs.map((r) => r.params_dense / 1e6)),
      params_nonzero_m: meanStd(runs.map((r) => r.params_nonzero / 1e6)),
      search_hours: meanStd(present(runs.map((r) => r.search_seconds)).map((s) => s / 3600)),
      device: devices.length ? devices.join(', ') : null,
      peak_memory_gib: meanStd(present(runs.map((r) => r.peak_memory_bytes)).map((b) => b / GIB)),
      sources: [],
    };
  });
  return rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.experiment.localeCompare(b.experiment));
}

export function referenceRows(refs: readonly ReferenceResult[]): ReportRow[] {
  const stat = (f: SourcedFigure | null): Stat | null => (f ? { mean: f.value, std: f.std ?? null, n: 1 } : null);
  return refs.map((ref) => {
    const sources = (
      [
        ['error', ref.test_error],
        ['params', ref.params_m],
        ['search cost', ref.search_gpu_hours],
      ] as const
    ).flatMap(([what, f]) => (f ? [`${what}: ${f.source}${f.secondary ? ' (secondary source)' : ''}`] : []));
    return {
      origin: 'reference',
      experiment: ref.method,
      dataset: ref.dataset,
      search_space: ref.search_space,
      n: null,
      seeds: [],
      final_error: null,
      best_error: null,
      reported_error: stat(ref.test_error),
      params_dense_m: stat(ref.params_m),
      params_nonzero_m: null,
      search_hours: stat(ref.search_gpu_hours),
      device: ref.search_gpu_hours ? (ref.search_gpu_hours.device ?? 'GPU') : null,
      peak_memory_gib: null,
      sources,
    };
  });
}
