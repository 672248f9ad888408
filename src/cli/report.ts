// `mgdarts report <run-dirs...>`: our runs grouped by experiment (mean ± std over seeds) beside the published
// reference rows, as a table, Markdown or CSV, on stdout or in --out.
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { groupRuns, referenceRows } from '../report/aggregate.js';
import { formatReport, type ReportFormat } from '../report/format.js';
import { readRunRecord } from '../report/read-runs.js';
import { REFERENCE_RESULTS } from '../report/reference-results.js';

export function buildReport(dirs: readonly string[], format: ReportFormat): string {
  if (!dirs.length) throw new UsageError('no run directories given', 'pass one or more run directories, e.g. mgdarts report runs/*');
  const rows = [...groupRuns(dirs.map(readRunRecord)), ...referenceRows(REFERENCE_RESULTS)];
  return formatReport(rows, format);
}

export function writeReport(dirs: readonly string[], format: ReportFormat, out: string | undefined): void {
  const text = buildReport(dirs, format);
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (err) {
    throw new UsageError(`cannot write ${out}: ${(err as Error).message}`, 'pass --out <a writable file>');
  }
  process.stderr.write(`mgdarts: report written to ${out}\n`);
}
