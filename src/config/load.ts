// Reads and validates an experiment config; every failing path is reported at once.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, UsageError, type ConfigIssue } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { ExperimentSchema, type ExperimentConfig } from './schema.js';

export const DEFAULT_CONFIG = 'configs/quickstart.json';

/** A config path as given: relative to the working directory first, then to the package. */
export function resolveConfigPath(given: string | undefined): string {
  const name = given ?? DEFAULT_CONFIG;
  const candidates = isAbsolute(name) ? [name] : [resolve(name), join(PACKAGE_ROOT, name)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UsageError(`config file not found: ${name}`, `looked in ${candidates.join(' and ')}`);
  return found;
}

export function loadConfig(path: string): ExperimentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseConfig(raw, path);
}

export function parseConfig(raw: unknown, source = '(config)'): ExperimentConfig {
  const parsed = ExperimentSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error));
  return parsed.data;
}

/** `search.warmup_epochs: expected ≥ 0, got -1`-style lines, one per failing path. */
export function formatIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: 'unknown key' }));
    }
    return [{ path: path || '(root)', message: issue.message }];
  });
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}
