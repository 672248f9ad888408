// Command-line overrides and run-time refusals applied to a config before anything is created.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { prepareConfig } from '../../src/experiment/run.js';

const dirs: string[] = [];
function configFile(body: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'mgdarts-prep-'));
  dirs.push(dir);
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('prepareConfig', () => {
  it('applies --device and --threads over the config', () => {
    const { config } = prepareConfig({ config: configFile({ dataset: { name: 'fashion-mnist-sample' } }), device: 'cpu', threads: 3 });
    expect(config.device).toBe('cpu');
    expect(config.threads).toBe(3);
  });

  it.each([[['operation', 'filter']], [['weight']], [['operation']]])('accepts granularities %j', (granularities) => {
    const file = configFile({ dataset: { name: 'fashion-mnist-sample' }, granularities });
    expect(prepareConfig({ config: file }).config.granularities).toEqual(granularities);
  });

  it('defaults to all three granularities and three stages', () => {
    const { config } = prepareConfig({ config: configFile({ dataset: { name: 'fashion-mnist-sample' } }) });
    expect(config.granularities).toEqual(['operation', 'filter', 'weight']);
    expect(config.search.stages).toBe(3);
  });

  it('three stages on fewer than three cells is a config error naming search.stages', () => {
    const file = configFile({ dataset: { name: 'fashion-mnist-sample' }, search_space: { layers: 2 } });
    expect(() => prepareConfig({ config: file })).toThrow(ConfigError);
    expect(() => prepareConfig({ config: file })).toThrow(/search\.stages: 3 stages need at least 3 cells/);
    const single = configFile({ dataset: { name: 'fashion-mnist-sample' }, search_space: { layers: 2 }, search: { stages: 1 } });
    expect(prepareConfig({ config: single }).config.search.stages).toBe(1);
  });
});

describe('configs that could never prune', () => {
  it('search.max_epochs below 3 (no commit epoch) is a config error naming the field', () => {
    const file = configFile({ dataset: { name: 'fashion-mnist-sample' }, search: { max_epochs: 2 } });
    expect(() => prepareConfig({ config: file })).toThrow(/search\.max_epochs: expected ≥ 3, got 2/);
  });
});
