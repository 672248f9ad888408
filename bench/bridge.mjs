// Bridge benchmark: the same search epochs driven from TypeScript over ZeroMQ and called in-process
// from Python. Prints both and their ratio (target ≤ 1.02). Run: `npm run build && node bench/bridge.mjs`.
import { execa } from 'execa';
import { join } from 'node:path';
import { openSession } from '../dist/runtime/session.js';
import { findPython } from '../dist/runtime/python.js';
import { PY_RUNTIME_DIR, SAMPLE_DATA_DIR, PACKAGE_ROOT } from '../dist/paths.js';
import { reductionCells } from '../dist/search-space/darts-like.js';
import { OP_VOCABULARY } from '../dist/runtime/protocol.js';

const epochs = Number(process.env.BRIDGE_EPOCHS ?? 5);
const threads = Number(process.env.BRIDGE_THREADS ?? 1);
const plan = {
  threads,
  epochs,
  load_data: { dataset: 'fashion-mnist-sample', data_dir: SAMPLE_DATA_DIR, sample_dir: SAMPLE_DATA_DIR, valid_fraction: 0, seed: 0, train_limit: 640 },
  build_supernet: {
    channels: 8, layers: 3, nodes: 4, reduction_cells: reductionCells(3), stem_stride: 2, ops: [...OP_VOCABULARY],
    granularities: ['operation'], stage_heads: false, seed: 0, channels_last: false,
  },
  train_epoch: {
    phase: 'search', stage: 'search', batch_size: 64, reg_lambda: 0.001, mu: 0, lr: { weights: 0.01, alpha: 1, op_threshold: 0.1, filter_score: 1, filter_threshold: 0.1, weight_threshold: 0.001 },
    last_cell: null, reg_cells: null,
    sgd: { momentum: 0.9, weight_decay: 3e-4, grad_clip: 5 }, commit: false, augment: { crop_padding: 2, flip: true, cutout: 0, auto_augment: false }, max_batches: null, seed: 1,
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function overZeroMq() {
  const session = await openSession({ threads });
  try {
    await session.client.request('load_data', plan.load_data);
    await session.client.request('build_supernet', plan.build_supernet);
    const seconds = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const start = performance.now();
      await session.client.request('train_epoch', { ...plan.train_epoch, epoch });
      seconds.push((performance.now() - start) / 1000);
    }
    return seconds;
  } finally {
    await session.close();
  }
}

async function inProcess() {
  const { stdout } = await execa(findPython(), [join(PACKAGE_ROOT, 'bench', 'bridge_inprocess.py'), JSON.stringify(plan)], {
    env: { PYTHONPATH: PY_RUNTIME_DIR },
  });
  return JSON.parse(stdout.trim().split('\n').pop()).seconds;
}

async function echoLatencyMs(n = 200) {
  const session = await openSession({ threads });
  try {
    await session.client.request('echo', { value: 0 });
    const start = performance.now();
    for (let i = 0; i < n; i++) await session.client.request('echo', { value: i });
    return (performance.now() - start) / n;
  } finally {
    await session.close();
  }
}

// Rounds alternate the two sides so drifts in machine load hit both; the first epoch of every run warms
// allocators and caches and is dropped. Compared: medians over all timed epochs.
const rounds = Number(process.env.BRIDGE_ROUNDS ?? 2);
const py = [];
const ts = [];
for (let r = 0; r < rounds; r++) {
  py.push(...(await inProcess()).slice(1));
  ts.push(...(await overZeroMq()).slice(1));
}
const fmt = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
console.log(`search epoch of 10 batches of 64 (supernet C=8, L=3), ${threads} torch thread(s), ${rounds} rounds × ${epochs - 1} timed epochs`);
console.log(`in-process Python : median ${median(py).toFixed(3)} s  [${fmt(py)}]`);
console.log(`TypeScript + ZMQ  : median ${median(ts).toFixed(3)} s  [${fmt(ts)}]`);
console.log(`ratio (TS / in-process): ${(median(ts) / median(py)).toFixed(3)}  (target ≤ 1.02)`);
console.log(`request round trip (echo): ${(await echoLatencyMs()).toFixed(3)} ms`);
