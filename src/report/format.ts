// Renders report rows as an aligned text table, a Markdown table with numbered sources, or CSV (RFC 4180).
import type { ReportRow, Stat } from './aggregate.js';

export const REPORT_FORMATS = ['table', 'markdown', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const HEADERS = [
  'experiment', 'dataset', 'space', 'n', 'final-epoch error %', 'best-epoch error % (optimistic)', 'reported error %',
  'params dense M', 'params non-zero M', 'search cost device-h', 'device', 'peak search memory GiB', 'source',
];

/** "2.57 ± 0.07"; a single value's std is "—"; no figure is an empty cell. */
export function formatStat(s: Stat | null, digits: number, withStd = true): string {
  if (!s) return '';
  const mean = s.mean.toFixed(digits);
  if (!withStd) return mean;
  return `${mean} ± ${s.std === null ? '—' : s.std.toFixed(digits)}`;
}

function cells(row: ReportRow, source: string): string[] {
  return [
    row.experiment, row.dataset, row.search_space, row.n === null ? '' : String(row.n),
    formatStat(row.final_error, 2), formatStat(row.best_error, 2),
    // A reference's ± only where its source gives one.
    row.reported_error ? (row.reported_error.std === null ? row.reported_error.mean.toFixed(2) : formatStat(row.reported_error, 2)) : '',
    formatStat(row.params_dense_m, 3, false), formatStat(row.params_nonzero_m, 3, false),
    formatStat(row.search_hours, 3, false), row.device ?? '', formatStat(row.peak_memory_gib, 2, false), source,
  ];
}

export function formatReport(rows: readonly ReportRow[], format: ReportFormat): string {
  if (format === 'csv') return formatCsv(rows);
  const numbered: string[] = [];
  const body = rows.map((row) => {
    if (row.origin === 'ours') return cells(row, row.seeds.length ? `ours, seeds ${row.seeds.join(' ')}` : 'ours');
    const refs = row.sources.map((s) => {
      numbered.push(s);
      return `[${numbered.length}]`;
    });
    return cells(row, refs.join(' ') || 'no figure could be read from a source');
  });
  const notes = [
    'Final-epoch error is the last retraining epoch; best-epoch error is the best over epochs, chosen by the test set, so optimistic.',
    'Empty cells: no figure (a reference figure that could not be read from a source stays empty; SPEC §6.1).',
    ...numbered.map((s, i) => `[${i + 1}] ${s}`),
  ];
  if (format === 'markdown') {
    const line = (c: string[]) => `| ${c.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`;
    return [line(HEADERS), line(HEADERS.map(() => '---')), ...body.map(line), '', ...notes.map((n) => `${n}  `)].join('\n') + '\n';
  }
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', ...notes].join('\n') + '\n';
}

const CSV_HEADERS = [
  'origin', 'experiment', 'dataset', 'search_space', 'n', 'seeds', 'final_error_mean', 'final_error_std', 'best_error_mean',
  'best_error_std', 'reported_error', 'reported_error_std', 'params_dense_m', 'params_nonzero_m', 'search_device_hours',
  'device', 'peak_search_memory_gib', 'sources',
];

function formatCsv(rows: readonly ReportRow[]): string {
  const v = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '' : x.toFixed(digits));
  const lines = rows.map((r) => [
    r.origin, r.experiment, r.dataset, r.search_space, r.n === null ? '' : String(r.n), r.seeds.join(' '),
    v(r.final_error?.mean, 4), v(r.final_error?.std, 4), v(r.best_error?.mean, 4), v(r.best_error?.std, 4),
    v(r.reported_error?.mean, 2), v(r.reported_error?.std, 2), v(r.params_dense_m?.mean, 6), v(r.params_nonzero_m?.mean, 6),
    v(r.search_hours?.mean, 6), r.device ?? '', v(r.peak_memory_gib?.mean, 4), r.sources.join('; '),
  ]);
  return [CSV_HEADERS, ...lines].map((c) => c.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180: a field with a comma, quote, line break or edge space is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
