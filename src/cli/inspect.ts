// `mgdarts inspect <run-dir>`: the architecture per cell (ops per edge with widths), retention per
// granularity, parameters and the stage history. A run that has not finished shows what it has so far.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../experiment/result.js';
import type { PhaseRecord } from '../experiment/search.js';
import { UsageError } from '../errors.js';
import { ARCHITECTURE_FORMAT, stemWidth, type Architecture } from '../search-space/derive.js';
import { formatCells, formatParams, formatRetention, formatStages, pct } from './report-format.js';
import { formatRetrainLines } from './retrain-summary.js';
import type { RetrainResult } from '../experiment/retrain-result.js';

export function inspectRunDir(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} is not a directory`, 'pass a run directory, e.g. runs/quickstart-<time>');
  }
  const result = readJson<RunResult>(dir, 'result.json');
  const arch = readJson<Architecture>(dir, 'architecture.json');
  if (!result && !arch && !existsSync(join(dir, 'events.jsonl'))) {
    throw new UsageError(`${dir} is not a run directory: no result.json, architecture.json or events.jsonl`, 'pass a directory that `mgdarts run` created');
  }
  if (arch && arch.format !== ARCHITECTURE_FORMAT) {
    throw new UsageError(`${join(dir, 'architecture.json')}: format ${JSON.stringify(arch.format)}, expected ${ARCHITECTURE_FORMAT}`);
  }
  const stages = result?.stages ?? stagesFromEvents(dir);
  const lines = [`run: ${dir}${result ? '' : ' (no result.json: unfinished or failed)'}`];
  if (arch) {
    const ops = arch.cells.reduce((a, c) => a + c.ops.length, 0);
    lines.push(`architecture: ${arch.layers} cells, ${ops} ops, stem ${stemWidth(arch)} channels, ${arch.num_classes} classes`, ...formatCells(arch, true));
  }
  if (result && (result as { kind?: string }).kind === 'retrain') {
    lines.push(...formatRetrainLines(result as unknown as RetrainResult));
  } else if (result) {
    lines.push(formatRetention(result), formatParams(result));
    lines.push(`reference counter (conv weights, SPEC §3.4): ${result.size_counted.start.toLocaleString('en-US')} → ${result.size_counted.end.toLocaleString('en-US')}`);
    lines.push(`test accuracy: final epoch ${pct(result.test_accuracy.final)}, best epoch ${pct(result.test_accuracy.best)}`);
  }
  if (stages.length) lines.push(...formatStages({ stages } as RunResult));
  return lines.join('\n') + '\n';
}

function readJson<T>(dir: string, name: string): T | null {
  const path = join(dir, name);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`, 'the file is damaged; re-run the experiment');
  }
}

/** The `stage_done` records of events.jsonl (an unfinished run); unreadable lines are skipped. */
function stagesFromEvents(dir: string): PhaseRecord[] {
  const path = join(dir, 'events.jsonl');
  if (!existsSync(path)) return [];
  const records: PhaseRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const event = JSON.parse(line) as { event?: string } & PhaseRecord;
      if (event.event === 'stage_done') records.push(event);
    } catch {
      // a line cut short by an interrupted write
    }
  }
  return records;
}
