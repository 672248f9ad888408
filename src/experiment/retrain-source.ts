// What `mgdarts retrain` starts from: a run directory (its config.json, architecture.json, weight_masks.pt) or a
// bare architecture.json (a weight_masks.pt beside it is used when present). Bad files are config errors (exit 2).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../config/load.js';
import { ConfigError, UsageError } from '../errors.js';
import { ARCHITECTURE_FORMAT, type Architecture } from '../search-space/derive.js';
import { WEIGHT_MASKS_FILE } from './run-dir.js';

export interface RetrainSource {
  /** The run directory or architecture.json as given, resolved. */
  path: string;
  architecturePath: string;
  architecture: Architecture;
  weightMasks: string | null;
  /** The run directory's config.json; null for a bare architecture.json without one beside it. */
  configPath: string | null;
}

const count = z.number().int().nonnegative();
const width = z.number().int().positive();

// What every space's architecture.json has; the runtime checks the rest of its own space's shape.
const CommonSchema = z.looseObject({
  format: z.literal(ARCHITECTURE_FORMAT),
  search_space: z.string(),
  in_channels: width,
  num_classes: width,
  cells: z.array(z.looseObject({})).min(1),
});

// The DARTS-like shape the evaluation network needs (SPEC §5.1); the runtime checks edges and widths that join.
const DartsLikeSchema = z.looseObject({
  format: z.literal(ARCHITECTURE_FORMAT),
  search_space: z.literal('darts_like'),
  in_channels: width,
  num_classes: width,
  channels: width,
  stem_stride: z.union([z.literal(1), z.literal(2)]),
  layers: width,
  nodes: width,
  cells: z.array(
    z.looseObject({
      index: count,
      reduction: z.boolean(),
      channels: width,
      input_widths: z.array(width).length(2),
      node_widths: z.array(width).min(1),
      ops: z.array(z.looseObject({ op: z.string(), edge: count, from: count, to: count, widths: z.array(width).min(1) })),
    }),
  ),
}).refine((a) => a.cells.length === a.layers, { message: 'needs one entry in cells per layer', path: ['cells'] });

export function readRetrainSource(given: string): RetrainSource {
  const path = resolve(given);
  if (!existsSync(path)) throw new UsageError(`${given} does not exist`, 'pass a run directory made by `mgdarts run` or an architecture.json');
  const isDir = statSync(path).isDirectory();
  const architecturePath = isDir ? join(path, 'architecture.json') : path;
  if (!existsSync(architecturePath)) {
    throw new UsageError(`${path} has no architecture.json (the search did not finish?)`, 'pass a run directory whose search finished, or an architecture.json');
  }
  const architecture = readArchitecture(architecturePath);
  const masks = join(dirname(architecturePath), WEIGHT_MASKS_FILE);
  const config = join(dirname(architecturePath), 'config.json');
  return { path, architecturePath, architecture, weightMasks: existsSync(masks) ? masks : null, configPath: isDir && existsSync(config) ? config : null };
}

export function readArchitecture(path: string): Architecture {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const common = CommonSchema.safeParse(raw, { reportInput: true });
  if (!common.success) throw new ConfigError(path, formatIssues(common.error));
  if (common.data.search_space !== 'darts_like') return common.data as unknown as Architecture;
  const parsed = DartsLikeSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(path, formatIssues(parsed.error));
  return parsed.data as unknown as Architecture;
}
