// Throughput benchmark: supernet search-epoch training speed in images per second, with all three
// granularities and with the operation level alone, on the same small supernet.
// Run: `npm run build && node bench/throughput.mjs`
// Overrides: TP_CHANNELS (8), TP_LAYERS (3), TP_STEM (2), TP_BATCH (64), TP_BATCHES (10 per epoch),
// TP_EPOCHS (4, the first dropped as warm-up), TP_DEVICE (the runtime's default: cuda when torch sees it),
// TP_THREADS (1).
import { openSession } from '../dist/runtime/session.js';
import { SAMPLE_DATA_DIR } from '../dist/paths.js';
import { reductionCells } from '../dist/search-space/darts-like.js';
import { OP_VOCABULARY } from '../dist/runtime/protocol.js';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const channels = env('TP_CHANNELS', 8);
const layers = env('TP_LAYERS', 3);
const stemStride = env('TP_STEM', 2);
const batchSize = env('TP_BATCH', 64);
const maxBatches = env('TP_BATCHES', 10);
const epochs = env('TP_EPOCHS', 4);
const threads = env('TP_THREADS', 1);
const device = process.env.TP_DEVICE || undefined;
if (epochs < 2) throw new Error('TP_EPOCHS must be at least 2: the first epoch is warm-up');

const loadData = { dataset: 'fashion-mnist-sample', data_dir: SAMPLE_DATA_DIR, sample_dir: SAMPLE_DATA_DIR, valid_fraction: 0, seed: 0, train_limit: batchSize * maxBatches };
const buildSupernet = {
  channels, layers, nodes: 4, reduction_cells: reductionCells(layers), stem_stride: stemStride, ops: [...OP_VOCABULARY],
  stage_heads: false, seed: 0, channels_last: false,
};
const trainEpoch = {
  phase: 'search', stage: 'search', batch_size: batchSize, reg_lambda: 0.001, mu: 0,
  lr: { weights: 0.01, alpha: 1, op_threshold: 0.1, filter_score: 1, filter_threshold: 0.1, weight_threshold: 0.001 },
  last_cell: null, reg_cells: null, sgd: { momentum: 0.9, weight_decay: 3e-4, grad_clip: 5 },
  commit: false, augment: { crop_padding: 2, flip: true, cutout: 0, auto_augment: false }, max_batches: maxBatches, seed: 1,
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Images per second of every epoch after the first, from the runtime's own timing of the epoch (the
// request round trip and the result's transfer are left out).
async function throughput(granularities) {
  const session = await openSession({ device, threads });
  try {
    await session.client.request('load_data', loadData);
    await session.client.request('build_supernet', { ...buildSupernet, granularities });
    const rates = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const r = await session.client.request('train_epoch', { ...trainEpoch, epoch });
      if (epoch > 0) rates.push(r.samples / r.seconds);
    }
    return { device: session.hello.device, rates };
  } finally {
    await session.close();
  }
}

const results = {};
for (const granularities of [['operation', 'filter', 'weight'], ['operation']]) results[granularities.join('+')] = await throughput(granularities);
const used = Object.values(results)[0].device;

console.log(`search epochs of ${maxBatches} batches of ${batchSize}, supernet C=${channels} L=${layers} stem ${stemStride}; device ${used}, ${threads} torch thread(s); ${epochs - 1} timed epochs after 1 warm-up`);
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(24)} median ${median(r.rates).toFixed(1).padStart(7)} images/s  [${r.rates.map((x) => x.toFixed(1)).join(' ')}]`);
}
const [all, op] = Object.values(results).map((r) => median(r.rates));
console.log(`all three / operation only: ${(all / op).toFixed(2)}`);
