// The experiment config: every shipped config parses, defaults follow SPEC §2.1/§3.3, and every failing
// path is reported (ConfigError, code config.invalid) at once.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, resolveConfigPath } from '../../src/config/load.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import { CONFIGS_DIR } from '../../src/paths.js';

const MINIMAL = { dataset: { name: 'fashion-mnist-sample' } };

/** The ConfigError thrown by parsing `raw`; fails the test if parsing succeeds. */
function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}`);
}

/** MINIMAL with `patch` merged one level deep. */
function withPatch(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...MINIMAL, ...patch };
}

const tmp = mkdtempSync(join(tmpdir(), 'mgdarts-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shipped configs', () => {
  const files = readdirSync(CONFIGS_DIR).filter((f) => f.endsWith('.json'));

  it('there is at least the quickstart config', () => {
    expect(files).toContain('quickstart.json');
  });

  it.each(files)('configs/%s parses', (file) => {
    const config = loadConfig(join(CONFIGS_DIR, file));
    expect(config.dataset.name).toMatch(/^(fashion-mnist|fashion-mnist-sample|cifar10|cifar100|image-folder)$/);
  });
});

describe('defaults (SPEC §2.1, §3.3)', () => {
  const config = parseConfig(MINIMAL);

  it.each([
    ['search.lr.weights', config.search.lr.weights, 0.01],
    ['search.lr.alpha', config.search.lr.alpha, 1.0],
    ['search.lr.op_threshold', config.search.lr.op_threshold, 0.1],
    ['search.lr.filter_score', config.search.lr.filter_score, 1.0],
    ['search.lr.filter_threshold', config.search.lr.filter_threshold, 0.1],
    ['search.lr.weight_threshold', config.search.lr.weight_threshold, 0.001],
    ['search.momentum', config.search.momentum, 0.9],
    ['search.weight_decay', config.search.weight_decay, 3e-4],
    ['search.grad_clip', config.search.grad_clip, 5],
    ['search.lambda.lambda0', config.search.lambda.lambda0, 1e-5],
    ['search.lambda.c0', config.search.lambda.c0, 2],
    ['search.lambda.prune_threshold', config.search.lambda.prune_threshold, 12],
    ['search.batch_size', config.search.batch_size, 96],
    ['search.mu', config.search.mu, 0],
    ['seed', config.seed, 2],
  ])('%s = %s', (_path, got, expected) => {
    expect(got).toBe(expected);
  });

  it('the op list defaults to the whole vocabulary in SPEC order', () => {
    expect(config.search_space.ops).toEqual([
      'skip_connect',
      'sep_conv_3x3',
      'sep_conv_5x5',
      'dil_conv_3x3',
      'dil_conv_5x5',
      'avg_pool_3x3',
      'max_pool_3x3',
    ]);
  });

  it('a partial nested object keeps the defaults of its siblings', () => {
    const c = parseConfig(withPatch({ search: { lr: { alpha: 0.5 }, lambda: { c0: 3 } } }));
    expect(c.search.lr).toEqual({ weights: 0.01, alpha: 0.5, op_threshold: 0.1, filter_score: 1, filter_threshold: 0.1, weight_threshold: 0.001 });
    expect(c.search.lambda.lambda0).toBe(1e-5);
    expect(c.search.lambda.c0).toBe(3);
  });
});

describe('each failure is reported with its path', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['unknown key at the root', { foo: 1 }, 'foo'],
    ['unknown nested key', { search: { foo: 1 } }, 'search.foo'],
    ['unknown key two levels down', { search: { lr: { beta: 1 } } }, 'search.lr.beta'],
    ['wrong type', { search: { batch_size: '64' } }, 'search.batch_size'],
    ['zero retrain epochs', { retrain: { epochs: 0 } }, 'retrain.epochs'],
    ['negative max_epochs', { search: { max_epochs: -1 } }, 'search.max_epochs'],
    ['negative warmup_epochs', { search: { warmup_epochs: -1 } }, 'search.warmup_epochs'],
    ['fractional batch size', { search: { batch_size: 1.5 } }, 'search.batch_size'],
    ['unknown dataset name', { dataset: { name: 'cifar-11' } }, 'dataset.name'],
    ['unknown op', { search_space: { ops: ['skip_connect', 'conv_7x7'] } }, 'search_space.ops[1]'],
    ['repeated op', { search_space: { ops: ['skip_connect', 'sep_conv_3x3', 'skip_connect'] } }, 'search_space.ops'],
    ['empty op list', { search_space: { ops: [] } }, 'search_space.ops'],
    ['bad device string', { device: 'gpu0' }, 'device'],
    ['cuda with a bad index', { device: 'cuda:x' }, 'device'],
  ])('%s → %s', (_name, patch, path) => {
    const err = configError(withPatch(patch));
    expect(err.code).toBe('config.invalid');
    expect(err.issues.map((i) => i.path)).toEqual([path]);
    expect(err.issues[0]?.message).toBeTruthy();
    expect(err.message).toContain(path);
  });

  // formatIssues promises `search.warmup_epochs: expected ≥ 0, got -1`-style lines (STYLE.md: "expected ≥ 1, got 0").
  it('a bound failure names the value it got', () => {
    const [issue] = configError(withPatch({ search: { warmup_epochs: -1 } })).issues;
    expect(issue?.path).toBe('search.warmup_epochs');
    expect(issue?.message).toMatch(/got -1\b/);
  });

  it('a missing dataset is reported at `dataset`', () => {
    expect(configError({}).issues.map((i) => i.path)).toEqual(['dataset']);
  });

  it('a non-object config is reported at (root)', () => {
    expect(configError([1, 2]).issues.map((i) => i.path)).toEqual(['(root)']);
  });

  it('several problems at once: all paths are listed', () => {
    const err = configError({
      foo: 1,
      device: 'gpu',
      dataset: { name: 'cifar-11' },
      search: { batch_size: '64', max_epochs: 0, bar: true },
      retrain: { epochs: -3 },
    });
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      ['foo', 'device', 'dataset.name', 'search.batch_size', 'search.max_epochs', 'search.bar', 'retrain.epochs'].sort(),
    );
    expect(err.issues).toHaveLength(7);
    expect(err.message).toMatch(/7 problems/);
  });

  it('the source file is named in the error', () => {
    try {
      parseConfig(withPatch({ foo: 1 }), 'my.json');
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).file).toBe('my.json');
      expect((err as ConfigError).message).toBe('my.json: 1 problem\n  foo: unknown key');
    }
  });
});

describe('files', () => {
  it('an invalid JSON file is a ConfigError naming the file', () => {
    const path = join(tmp, 'broken.json');
    writeFileSync(path, '{ "dataset": { "name": "fashion-mnist-sample" }, }');
    let caught: unknown;
    try {
      loadConfig(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('config.invalid');
    expect(err.file).toBe(path);
    expect(err.message).toContain(path);
    expect(err.issues[0]?.message).toMatch(/not valid JSON/);
  });

  it('a valid file on disk loads', () => {
    const path = join(tmp, 'ok.json');
    writeFileSync(path, JSON.stringify(MINIMAL));
    expect(loadConfig(path).search.lambda.prune_threshold).toBe(12);
  });

  it('a file with a failing field is a ConfigError naming the file and the path', () => {
    const path = join(tmp, 'bad-field.json');
    writeFileSync(path, JSON.stringify(withPatch({ retrain: { epochs: 0 } })));
    expect(() => loadConfig(path)).toThrow(ConfigError);
    expect(() => loadConfig(path)).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^]*retrain\\.epochs`));
  });

  it('a missing config file is a UsageError (cli.usage)', () => {
    let caught: unknown;
    try {
      resolveConfigPath(join(tmp, 'does-not-exist.json'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).code).toBe('cli.usage');
    expect((caught as UsageError).message).toContain('does-not-exist.json');
  });

  it('a relative name resolves to the package configs folder', () => {
    expect(resolveConfigPath('configs/quickstart.json')).toBe(join(CONFIGS_DIR, 'quickstart.json'));
  });

  it('no name means the quickstart config', () => {
    expect(resolveConfigPath(undefined)).toMatch(/configs[/\\]quickstart\.json$/);
  });
});
