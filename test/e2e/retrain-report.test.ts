// The built CLI: `mgdarts retrain` on a hand-written architecture.json (no search: seconds), the exported
// TorchScript loaded by plain Python without mgdarts, `mgdarts report` on the result, and the exit-2 errors.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, PY_RUNTIME_DIR, venvPython } from '../../src/paths.js';
import { ARCHITECTURE_FORMAT } from '../../src/search-space/derive.js';
import { listDir, removeTemps, runCli, smokeConfig, tempDir, writeConfig } from '../helpers/cli.js';

afterEach(removeTemps);

const EDGE: Record<string, number> = { '0,2': 0, '1,2': 1, '0,3': 2, '1,3': 3, '2,3': 4, '0,4': 5, '1,4': 6, '2,4': 7, '3,4': 8, '0,5': 9, '1,5': 10, '2,5': 11, '3,5': 12, '4,5': 13 };
const op = (name: string, from: number, to: number, ...widths: number[]) => ({ op: name, edge: EDGE[`${from},${to}`], from, to, widths });

/** Three cells at widths 4 / 8 / 6, reductions at 1 and 2, sep and dil ops in every cell. */
const ARCH = {
  format: ARCHITECTURE_FORMAT, search_space: 'darts_like', in_channels: 1, num_classes: 10, channels: 4, stem_stride: 2, layers: 3, nodes: 4,
  cells: [
    { index: 0, reduction: false, channels: 4, input_widths: [4, 4], node_widths: [4, 4, 4, 4], ops: [op('sep_conv_3x3', 0, 2, 4, 3, 4), op('dil_conv_3x3', 2, 3, 4, 4), op('skip_connect', 1, 4, 4), op('max_pool_3x3', 3, 5, 4)] },
    { index: 1, reduction: true, channels: 8, input_widths: [8, 8], node_widths: [8, 8, 8, 8], ops: [op('avg_pool_3x3', 1, 2, 8), op('sep_conv_5x5', 2, 3, 8, 8, 8), op('dil_conv_5x5', 0, 4, 8, 8), op('skip_connect', 3, 5, 8)] },
    { index: 2, reduction: true, channels: 16, input_widths: [6, 6], node_widths: [6, 6, 6, 6], ops: [op('sep_conv_3x3', 0, 2, 6, 6, 6), op('skip_connect', 2, 3, 6), op('avg_pool_3x3', 3, 4, 6), op('dil_conv_3x3', 4, 5, 6, 6)] },
  ],
};

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

function fixture(): { cwd: string; arch: string; config: string; out: string } {
  const cwd = tempDir();
  const src = join(cwd, 'searched');
  mkdirSync(src);
  writeFileSync(join(src, 'architecture.json'), JSON.stringify(ARCH));
  const config = writeConfig(cwd, 'retrain.json', smokeConfig({ name: 'hand', retrain: { epochs: 2, batch_size: 32, max_batches: 2 } }));
  return { cwd, arch: join(src, 'architecture.json'), config, out: join(cwd, 'out') };
}

describe('mgdarts retrain and report', () => {
  it('retrains an architecture.json, exports TorchScript that plain PyTorch loads, and reports it', async () => {
    const { cwd, arch, config, out } = fixture();
    const r = await runCli(['retrain', arch, '--config', config, '--out', out, '--quiet'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test accuracy: final epoch [\d.]+%, best epoch [\d.]+% .*optimistic/m);
    const runs = listDir(out);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^hand-retrain-/);
    const dir = join(out, runs[0]!);
    for (const f of ['config.json', 'manifest.json', 'events.jsonl', 'architecture.json', 'model.pt', 'model.torchscript.pt', 'result.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const result = readJson(join(dir, 'result.json'));
    expect(result).toMatchObject({ kind: 'retrain', dataset: 'fashion-mnist-sample', source: { architecture: arch, weight_masks: null, config } });
    expect(result.test_accuracy).toMatchObject({ final: expect.any(Number), best: expect.any(Number), best_is_optimistic: true });
    expect(result.params.final_dense).toBe(result.params.from_architecture);
    expect(result.retrain).toMatchObject({ epochs: 2, batch_size: 32, seed: 2 });
    expect(result.export.torchscript).toBe('model.torchscript.pt');
    expect(result.export.onnx === 'model.onnx' ? existsSync(join(dir, 'model.onnx')) : result.export.onnx_note).toBeTruthy();
    expect(result.export.max_abs_diff).toBeLessThan(1e-4);

    // Plain PyTorch, isolated from the package: the file alone gives logits for images in [0, 1].
    const script = "import importlib.util, torch, warnings\nwarnings.simplefilter('ignore')\nassert importlib.util.find_spec('mgdarts_runtime') is None\nm = torch.jit.load('model.torchscript.pt')\nprint(tuple(m(torch.rand(3, 1, 28, 28)).shape))";
    const py = await execa(venvPython(), ['-I', '-c', script], { cwd: dir, env: { PYTHONPATH: '' }, extendEnv: false, reject: false });
    expect(py.exitCode, py.stderr).toBe(0);
    expect(py.stdout.trim()).toBe('(3, 10)');

    const md = join(cwd, 'report.md');
    const rep = await runCli(['report', dir, '--format', 'markdown', '--out', md], { cwd });
    expect(rep.exitCode, rep.stderr).toBe(0);
    const text = readFileSync(md, 'utf8');
    expect(text).toMatch(/^\| hand \(retrain\) \| fashion-mnist-sample \| darts_like \| 1 \| [\d.]+ ± — \|/m);
    expect(text).toMatch(/^\| PC-DARTS \| cifar10 \|/m);
    expect(text).toContain('arXiv 1907.05737');
  });

  it('transfers a 1-channel, 10-class architecture to CIFAR-100 under its protocol (lr 0.02, wd 5e-4)', async () => {
    const { cwd, arch, out } = fixture();
    const data = join(cwd, 'synthetic');
    const gen = await execa(venvPython(), [join(PACKAGE_ROOT, 'scripts', 'make-synthetic-datasets.py'), data, '--train', '100', '--test', '20'], { env: { PYTHONPATH: PY_RUNTIME_DIR }, reject: false });
    expect(gen.exitCode, gen.stderr).toBe(0);
    const r = await runCli(['retrain', arch, '--config', 'configs/cifar100-smoke.json', '--data-dir', join(data, 'pickle'), '--out', out, '--epochs', '1'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('stem 1 → 3 input channels, classifier 10 → 100 classes');
    const dir = join(out, listDir(out)[0]!);
    expect(readJson(join(dir, 'architecture.json'))).toMatchObject({ in_channels: 3, num_classes: 100 });
    const result = readJson(join(dir, 'result.json'));
    expect(result).toMatchObject({ kind: 'retrain', dataset: 'cifar100', retrain: { epochs: 1, lr: 0.02, weight_decay: 5e-4 } });
    expect(result.export.input_shape).toEqual([3, 32, 32]);
  });

  it('exits 2 and creates nothing for a bare architecture.json without --config or with masks that do not fit', async () => {
    const { cwd, arch, config, out } = fixture();
    const bare = await runCli(['retrain', arch, '--out', out], { cwd });
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toMatch(/no config\.json beside it[\s\S]*fix: pass --config/);

    writeFileSync(join(cwd, 'searched', 'weight_masks.pt'), 'not a mask file');
    const masks = await runCli(['retrain', arch, '--config', config, '--out', out, '--quiet'], { cwd });
    expect(masks.exitCode, masks.stderr).toBe(2);
    expect(masks.stderr).toMatch(/weight_masks\.pt cannot be built: .*weight-mask file/);
    expect(listDir(out)).toEqual([]);

    const missing = await runCli(['report', join(cwd, 'no-such-run')], { cwd });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no-such-run is not a directory/);
  });
});
