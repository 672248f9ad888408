// Memory benchmark: peak memory of one stage-1 search epoch (cells 0..L//3-1, loss at the stage-1 head, the
// regulariser on stage 1 only) against one whole-supernet search epoch of the same supernet, data and batch.
// Prints both and their ratio. Run: `npm run build && node bench/memory.mjs`
// Overrides: MEM_CHANNELS (8), MEM_LAYERS (8), MEM_STEM (2), MEM_BATCH (64), MEM_BATCHES (4),
// MEM_DEVICE (the runtime's default: cuda when torch sees it), MEM_THREADS (1).
import { readFileSync, writeFileSync } from 'node:fs';
import { openSession } from '../dist/runtime/session.js';
import { SAMPLE_DATA_DIR } from '../dist/paths.js';
import { reductionCells } from '../dist/search-space/darts-like.js';
import { OP_VOCABULARY } from '../dist/runtime/protocol.js';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const channels = env('MEM_CHANNELS', 8);
const layers = env('MEM_LAYERS', 8);
const stemStride = env('MEM_STEM', 2);
const batchSize = env('MEM_BATCH', 64);
const maxBatches = env('MEM_BATCHES', 4);
const threads = env('MEM_THREADS', 1);
const device = process.env.MEM_DEVICE || undefined;
const stage1End = Math.floor(layers / 3) - 1;
if (stage1End < 0) throw new Error(`MEM_LAYERS=${layers}: stage 1 is empty below 3 layers`);

const loadData = { dataset: 'fashion-mnist-sample', data_dir: SAMPLE_DATA_DIR, sample_dir: SAMPLE_DATA_DIR, valid_fraction: 0, seed: 0, train_limit: batchSize * maxBatches };
const buildSupernet = {
  channels, layers, nodes: 4, reduction_cells: reductionCells(layers), stem_stride: stemStride, ops: [...OP_VOCABULARY],
  granularities: ['operation', 'filter', 'weight'], stage_heads: true, seed: 0, channels_last: false,
};
const trainEpoch = {
  phase: 'search', epoch: 0, batch_size: batchSize, reg_lambda: 0.001, mu: 0,
  lr: { weights: 0.01, alpha: 1, op_threshold: 0.1, filter_score: 1, filter_threshold: 0.1, weight_threshold: 0.001 },
  sgd: { momentum: 0.9, weight_decay: 3e-4, grad_clip: 5 }, commit: false, augment: { crop_padding: 2, flip: true, cutout: 0, auto_augment: false },
  max_batches: maxBatches, seed: 1,
};
const variants = {
  'stage 1': { stage: 'stage1', last_cell: stage1End, reg_cells: { from: 0, to: stage1End } },
  'whole supernet': { stage: 'search', last_cell: null, reg_cells: null },
};

const procKiB = (pid, field) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))[1]);

// One fresh runtime per measurement: on CPU the runtime reports the process's peak RSS, which only grows.
// Writing 5 to clear_refs (Linux) resets that peak to the current RSS, so the peak after the epoch is the
// epoch's own; the epoch's figure is that peak minus the RSS just before it. On CUDA the runtime resets the
// allocator's peak at the start of the epoch, and its figure includes the resident tensors (model, data).
async function measure(variant) {
  const session = await openSession({ device, threads });
  try {
    await session.client.request('load_data', loadData);
    await session.client.request('build_supernet', buildSupernet);
    const pid = session.hello.pid;
    const cpu = !session.hello.device.startsWith('cuda');
    let baseline = 0;
    let reset = false;
    if (cpu) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        reset = true;
      } catch {
        // Without the reset the peak may predate the epoch; the baseline is then the peak so far.
      }
      baseline = procKiB(pid, reset ? 'VmRSS' : 'VmHWM') * 1024;
    }
    const result = await session.client.request('train_epoch', { ...trainEpoch, ...variant });
    return { device: session.hello.device, cpu, reset, baseline, peak: result.peak_memory_bytes, samples: result.samples, seconds: result.seconds };
  } finally {
    await session.close();
  }
}

const MiB = (bytes) => (bytes / 2 ** 20).toFixed(1);
const rows = {};
for (const [name, variant] of Object.entries(variants)) rows[name] = await measure(variant);
const { device: used, cpu, reset } = rows['stage 1'];
const epochPeak = (r) => r.peak - r.baseline;

console.log(`search epoch of ${maxBatches} batches of ${batchSize}, supernet C=${channels} L=${layers} stem ${stemStride}, granularities operation+filter+weight, stage heads on; device ${used}, ${threads} torch thread(s)`);
console.log(cpu
  ? `memory: peak resident set during the epoch minus resident set before it${reset ? '' : ' (peak not reset: clear_refs unavailable, the figures may predate the epoch)'}`
  : 'memory: torch.cuda.max_memory_allocated during the epoch (model, optimizer state and data included)');
console.log('epoch           cells      before (MiB)  peak (MiB)  epoch (MiB)  time (s)');
for (const [name, r] of Object.entries(rows)) {
  const cells = name === 'stage 1' ? `0..${stage1End}` : `0..${layers - 1}`;
  console.log(`${name.padEnd(15)} ${cells.padEnd(10)} ${MiB(r.baseline).padStart(12)} ${MiB(r.peak).padStart(11)} ${MiB(epochPeak(r)).padStart(12)} ${r.seconds.toFixed(1).padStart(9)}`);
}
console.log(`stage-1 / whole supernet peak memory: ${(epochPeak(rows['stage 1']) / epochPeak(rows['whole supernet'])).toFixed(2)}`);
