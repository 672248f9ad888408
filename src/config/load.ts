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
  return parseConfig(readConfigJson(path), path);
}

export function readConfigJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

export function parseConfig(raw: unknown, source = '(config)'): ExperimentConfig {
  const parsed = ExperimentSchema.safeParse(raw, { reportInput: true });
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
    return [{ path: path || '(root)', message: describeIssue(issue) }];
  });
}

/** "expected ≥ 1, got 0" where zod knows the bound and the value; zod's own text otherwise. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
  switch (issue.code) {
    case 'too_small':
      return `expected ${issue.inclusive ? '≥' : '>'} ${issue.minimum}${got}`;
    case 'too_big':
      return `expected ${issue.inclusive ? '≤' : '<'} ${issue.maximum}${got}`;
    case 'invalid_type':
      return `expected ${issue.expected}${'input' in issue ? `, got ${describeType(issue.input)}` : ''}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    default:
      return issue.message + got;
  }
}

function describeType(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}
