// A missing fashion-mnist is a config error (exit 2) that names the place searched, and no run directory
// is created. A named directory (--data-dir, config, MGDARTS_DATA) is the only place looked at; the
// Debian path is the default and exists on some machines (this one), so it is hidden here by making
// existsSync deny it; everything else is the real code path.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const hidden = '/usr/share/datasets/fashion-mnist';
  const existsSync = (p: import('node:fs').PathLike) => !String(p).startsWith(hidden) && fs.existsSync(p);
  return { ...fs, existsSync, default: { ...fs, existsSync } };
});

const { DEBIAN_FASHION_MNIST, resolveDatasetDir } = await import('../../src/config/dataset.js');
const { DatasetNotFoundError, exitCodeFor } = await import('../../src/errors.js');
const { reportError } = await import('../../src/cli/report-error.js');
const { runExperiment } = await import('../../src/experiment/run.js');

const temps: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mgdarts-nf-'));
  temps.push(d);
  return d;
}

describe('fashion-mnist not found', () => {
  const savedData = process.env.MGDARTS_DATA;
  afterEach(() => {
    if (savedData === undefined) delete process.env.MGDARTS_DATA;
    else process.env.MGDARTS_DATA = savedData;
    for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it.each([
    ['--data-dir wins over MGDARTS_DATA', 'dir', 'env', 'dir'],
    ['MGDARTS_DATA when no directory is named', null, 'env', 'env'],
    ['the Debian path when nothing is named', null, null, 'debian'],
  ])('%s: a wrong place is reported, never a silent fall-back', (_name, dirKind, envKind, expected) => {
    const dataDir = dirKind ? temp() : null;
    const envDir = envKind ? temp() : undefined;
    if (envDir) process.env.MGDARTS_DATA = envDir;
    else delete process.env.MGDARTS_DATA;
    let error: unknown;
    try {
      resolveDatasetDir('fashion-mnist', dataDir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error).toMatchObject({ code: 'config.dataset_not_found' });
    const where = expected === 'dir' ? dataDir : expected === 'env' ? envDir : DEBIAN_FASHION_MNIST;
    expect((error as Error).message).toContain(`looked in: ${where}`);
    expect((error as Error).message.split('looked in: ')[1]).toBe(where);
    expect(exitCodeFor(error)).toBe(2);
    let shown = '';
    reportError(error, false, (t) => (shown += t));
    expect(shown).toContain('fix: pass --data-dir');
  });

  it('a run with a dataset nowhere fails before creating a run directory', async () => {
    const cwd = temp();
    const empty = temp();
    process.env.MGDARTS_DATA = empty;
    const config = join(cwd, 'fm.json');
    writeFileSync(config, JSON.stringify({ name: 'nf', dataset: { name: 'fashion-mnist', data_dir: empty } }));
    const out = join(cwd, 'out');
    await expect(runExperiment({ config, out, dataDir: empty, quiet: true })).rejects.toBeInstanceOf(DatasetNotFoundError);
    expect(existsSync(out)).toBe(false);
  });
});
