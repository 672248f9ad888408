// `mgdarts report` aggregation: sample std, grouping by experiment (not seed), empty cells, CSV quoting and the
// reference rows, from small result/manifest fixtures written into a temp directory.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupRuns, meanStd, referenceRows } from '../../src/report/aggregate.js';
import { csvField, formatReport } from '../../src/report/format.js';
import { deviceName, readRunRecord } from '../../src/report/read-runs.js';
import { REFERENCE_RESULTS } from '../../src/report/reference-results.js';
import { removeTemps, tempDir } from '../helpers/cli.js';

afterEach(removeTemps);

interface Fixture {
  name: string;
  seed: number;
  dataset?: string;
  kind?: 'retrain';
  final: number;
  best: number;
  dense?: number;
  nonzero?: number;
  searchSeconds?: number;
  peak?: number;
  device?: string;
  devices?: string[];
}

function writeRun(root: string, f: Fixture): string {
  const dir = join(root, `${f.name}-${f.seed}-${f.kind ?? 'run'}-${f.dataset ?? 'd'}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: f.name, seed: f.seed }));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ seed: f.seed, device: f.device ?? 'cpu', devices: f.devices ?? ['cpu'] }));
  const result: Record<string, unknown> = {
    dataset: f.dataset ?? 'cifar10', search_space: 'darts_like',
    test_accuracy: { final: f.final, best: f.best, best_epoch: 3 },
    params: { final_dense: f.dense ?? 2_000_000, final_nonzero: f.nonzero ?? 1_900_000 },
    train_seconds: 10, device: f.device ?? 'cpu',
  };
  if (f.kind) result.kind = f.kind;
  else Object.assign(result, { search_seconds: f.searchSeconds ?? 3600, peak_memory_bytes: f.peak ?? 2 * 1024 ** 3 });
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result));
  return dir;
}

describe('meanStd', () => {
  it('uses the sample standard deviation and has no std for one value', () => {
    const s = meanStd([1, 2, 3, 4])!;
    expect(s.mean).toBeCloseTo(2.5, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12); // Σ(x - x̄)² = 5, over n - 1 = 3
    expect(meanStd([7])).toEqual({ mean: 7, std: null, n: 1 });
    expect(meanStd([])).toBeNull();
  });
});

describe('groupRuns', () => {
  it('groups seeds of one experiment and keeps datasets and retrains apart', () => {
    const root = tempDir();
    const dirs = [
      writeRun(root, { name: 'c10', seed: 0, final: 0.97, best: 0.975, dense: 2_000_000, searchSeconds: 3600, device: 'cuda', devices: ['cpu', 'cuda:0 (NVIDIA H200)'] }),
      writeRun(root, { name: 'c10', seed: 1, final: 0.96, best: 0.97, dense: 3_000_000, searchSeconds: 7200, device: 'cuda', devices: ['cpu', 'cuda:0 (NVIDIA H200)'] }),
      writeRun(root, { name: 'c10', seed: 0, dataset: 'cifar100', final: 0.8, best: 0.81 }),
      writeRun(root, { name: 'c10', seed: 0, kind: 'retrain', final: 0.9, best: 0.92 }),
    ];
    const rows = groupRuns(dirs.map(readRunRecord));
    expect(rows.map((r) => [r.experiment, r.dataset, r.n])).toEqual([
      ['c10', 'cifar10', 2], ['c10 (retrain)', 'cifar10', 1], ['c10', 'cifar100', 1],
    ]);
    const c10 = rows[0]!;
    expect(c10.seeds).toEqual([0, 1]);
    expect(c10.final_error!.mean).toBeCloseTo(3.5, 9); // errors 3 % and 4 %
    expect(c10.final_error!.std).toBeCloseTo(Math.SQRT1_2, 9);
    expect(c10.best_error!.mean).toBeCloseTo(2.75, 9);
    expect(c10.params_dense_m!.mean).toBeCloseTo(2.5, 9);
    expect(c10.search_hours!.mean).toBeCloseTo(1.5, 9);
    expect(c10.device).toBe('NVIDIA H200');
    expect(c10.peak_memory_gib!.mean).toBeCloseTo(2, 9);
    const retrain = rows[1]!;
    expect(retrain.search_hours).toBeNull();
    expect(retrain.device).toBeNull();
    expect(retrain.peak_memory_gib).toBeNull();
  });

  it('names a run directory without result.json', () => {
    const root = tempDir();
    mkdirSync(join(root, 'unfinished'));
    expect(() => readRunRecord(join(root, 'unfinished'))).toThrow(/unfinished has no result.json/);
  });
});

describe('deviceName', () => {
  it('maps cuda and cuda:N to the name torch listed, and keeps cpu', () => {
    const devices = ['cpu', 'cuda:0 (NVIDIA A100)', 'cuda:1 (NVIDIA H200)'];
    expect(deviceName('cuda', devices)).toBe('NVIDIA A100');
    expect(deviceName('cuda:1', devices)).toBe('NVIDIA H200');
    expect(deviceName('cpu', devices)).toBe('cpu');
    expect(deviceName(null, devices)).toBeNull();
  });
});

describe('formatReport', () => {
  it('shows — for a single run\'s std in the table and leaves the CSV cell empty', () => {
    const root = tempDir();
    const rows = groupRuns([readRunRecord(writeRun(root, { name: 'one', seed: 3, final: 0.9, best: 0.95 }))]);
    const table = formatReport(rows, 'table');
    expect(table).toMatch(/^one\s+cifar10\s+darts_like\s+1\s+10\.00 ± —\s+5\.00 ± —/m);
    const csv = formatReport(rows, 'csv').split('\r\n');
    const header = csv[0]!.split(',');
    const cells = csv[1]!.split(',');
    expect(cells[header.indexOf('final_error_mean')]).toBe('10.0000');
    expect(cells[header.indexOf('final_error_std')]).toBe('');
    expect(cells[header.indexOf('reported_error')]).toBe('');
  });

  it('quotes CSV fields with commas, quotes, line breaks or edge spaces', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('')).toBe('');
  });

  it('puts every reference figure beside a numbered source, and leaves figures without one empty', () => {
    const md = formatReport(referenceRows(REFERENCE_RESULTS), 'markdown');
    const pdarts = md.split('\n').find((l) => l.startsWith('| P-DARTS |'))!;
    const cells = pdarts.split(' | ');
    expect(cells[6]).toBe(''); // P-DARTS' abstract gives no error figure: empty, never guessed
    expect(pdarts).toContain('7.000');
    const cited = [...md.matchAll(/\[(\d+)\] /g)].map((m) => Number(m[1]));
    expect(cited.length).toBeGreaterThan(0);
    for (const ref of REFERENCE_RESULTS) {
      for (const f of [ref.test_error, ref.params_m, ref.search_gpu_hours]) if (f) expect(f.source).toMatch(/arXiv \d{4}\.\d{5}|SPEC §6\.2/);
    }
    const mg = REFERENCE_RESULTS.filter((r) => r.method.startsWith('MG-DARTS'));
    expect(mg.every((r) => r.test_error === null && r.search_gpu_hours === null)).toBe(true); // SPEC §6.1
  });
});
