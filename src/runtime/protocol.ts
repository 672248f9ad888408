// The whole wire between the controller and the Python runtime: version, op vocabulary, envelope,
// one schema per request and per result, error codes. Nothing about the wire is written anywhere else;
// py_runtime/mgdarts_runtime/protocol.json is generated from this file (`npm run gen:protocol`).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { NdArray } from './ndarray.js';

export const PROTOCOL_VERSION = '1.0.0';

/** Candidate operations of the DARTS-like space, in the order of SPEC §1.1 (no `none`). */
export const OP_VOCABULARY = [
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
  'avg_pool_3x3',
  'max_pool_3x3',
] as const;
export type OpName = (typeof OP_VOCABULARY)[number];

/** Candidate operations of the MobileNet-like space: inverted-residual blocks (kernel × expansion), then skip. */
export const MOBILENET_OP_VOCABULARY = ['mb_k3_e3', 'mb_k3_e6', 'mb_k5_e3', 'mb_k5_e6', 'mb_k7_e3', 'mb_k7_e6', 'skip'] as const;
export type MobileNetOpName = (typeof MOBILENET_OP_VOCABULARY)[number];

/** The search spaces the runtime builds (its builder registry is keyed by these names). */
export const SEARCH_SPACES = ['darts_like', 'mobilenet_like'] as const;
export type SearchSpaceName = (typeof SEARCH_SPACES)[number];

export function opVocabularyHash(ops: readonly string[] = OP_VOCABULARY): string {
  return createHash('sha256').update(ops.join('\n')).digest('hex').slice(0, 16);
}

export const ERROR_CODES = [
  'runtime.bad_request', // malformed frame or envelope
  'runtime.unknown_type', // request type not in the vocabulary
  'runtime.bad_params', // params fail validation
  'runtime.not_ready', // e.g. train_epoch before build_supernet
  'runtime.cancelled', // the request was cancelled (cancel or shutdown)
  'runtime.nan_loss', // loss became NaN or infinite
  'runtime.oom', // device out of memory
  'runtime.data_not_found', // dataset files missing or unreadable
  'runtime.busy', // another controller owns the runtime (its run is active)
  'runtime.write_failed', // a file could not be written (disk full, permissions)
  'runtime.internal', // anything else; carries the traceback
] as const;
export type RuntimeErrorCode = (typeof ERROR_CODES)[number];

/** Requests the runtime serves between batches of a running request; they are never queued. */
export const CONTROL_TYPES = ['status', 'cancel', 'shutdown', 'release'] as const;

const ndarray = z.instanceof(NdArray);
const int = z.number().int();
const nonNegInt = int.nonnegative();
const posInt = int.positive();
const fraction = z.number().min(0).max(1);

const AugmentSchema = z.strictObject({
  crop_padding: nonNegInt,
  flip: z.boolean(),
  cutout: nonNegInt,
  /** AutoAugment's CIFAR-10 policy on the uint8 images after crop and flip. */
  auto_augment: z.boolean(),
});

export const GRANULARITIES = ['operation', 'filter', 'weight'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** (kept, total) units per granularity. */
const UnitsSchema = z.strictObject({ operation: z.tuple([nonNegInt, nonNegInt]), filter: z.tuple([nonNegInt, nonNegInt]), weight: z.tuple([nonNegInt, nonNegInt]) });

const SgdSchema = z.strictObject({
  momentum: z.number().min(0).max(1),
  weight_decay: z.number().min(0),
  grad_clip: z.number().positive().nullable(),
});

/** A supernet's sizes: dense parameters, the reference counter (SPEC §3.4) in total and per cell. */
const SizesShape = { params_supernet: nonNegInt, size_counted: nonNegInt, cell_sizes: z.array(nonNegInt) };

/** The MobileNet-like layout (build_supernet with space mobilenet_like): each searchable layer's output channels
 * and stride, the 1×1 head width, the stage heads' width and the last layer of each of the three stages. */
const MobileNetLayoutSchema = z.strictObject({
  layers: z.array(z.strictObject({ channels: posInt, stride: z.union([z.literal(1), z.literal(2)]) })).min(1),
  head_channels: posInt,
  aux_channels: posInt,
  stage_ends: z.tuple([nonNegInt, nonNegInt, nonNegInt]),
});

/** One schema per request type: params and result. */
export const REQUESTS = {
  hello: {
    params: z.strictObject({
      protocol_version: z.string(),
      op_vocab_hash: z.string(),
      client: z.string(),
      /** Own the runtime until `release` (or a lapsed lease); other controllers then get runtime.busy. */
      claim: z.boolean().default(true),
    }),
    result: z.strictObject({
      protocol_version: z.string(),
      runtime_version: z.string(),
      torch_version: z.string(),
      python_version: z.string(),
      device: z.string(),
      devices: z.array(z.string()),
      op_vocab_hash: z.string(),
      pid: posInt,
      threads: posInt,
      /** Seconds since the runtime started: a warm, persistent runtime answers more than the handshake took. */
      uptime_s: z.number(),
    }),
  },
  status: {
    params: z.strictObject({}),
    result: z.strictObject({
      state: z.enum(['idle', 'busy']),
      request_id: z.string().nullable(),
      request_type: z.string().nullable(),
      batches_done: nonNegInt.nullable(),
      batches_total: nonNegInt.nullable(),
      uptime_s: z.number(),
      /** The controller that owns the runtime (null: free). */
      owner: z.strictObject({ client: z.string(), since_s: z.number() }).nullable(),
    }),
  },
  release: {
    params: z.strictObject({}),
    result: z.strictObject({ released: z.boolean() }),
  },
  cancel: {
    params: z.strictObject({ target: z.string() }),
    result: z.strictObject({ cancelled: z.boolean() }),
  },
  shutdown: {
    /** force: also when another controller owns the runtime. */
    params: z.strictObject({ force: z.boolean().default(false) }),
    result: z.strictObject({}),
  },
  echo: {
    params: z.strictObject({ value: z.unknown() }),
    result: z.strictObject({ value: z.unknown() }),
  },
  load_data: {
    params: z.strictObject({
      dataset: z.string(),
      data_dir: z.string().nullable(),
      sample_dir: z.string(),
      valid_fraction: fraction,
      seed: nonNegInt,
      train_limit: posInt.nullable(),
      /** The config's dataset.num_classes; when given, the dataset's class count must equal it. */
      num_classes: posInt.nullable().default(null),
      /** image-folder and python: datasets, read through a DataLoader: side of the square images, workers,
       * the seeded per-class share of the training set (1: all), and the config file's directory (python: modules). */
      image_size: posInt.default(224),
      workers: nonNegInt.default(2),
      subset_fraction: z.number().gt(0).max(1).default(1),
      module_dir: z.string().nullable().default(null),
    }),
    result: z.strictObject({
      dataset: z.string(),
      directory: z.string(),
      train_size: nonNegInt,
      valid_size: nonNegInt,
      test_size: nonNegInt,
      full_train_size: nonNegInt,
      num_classes: posInt,
      image_shape: z.array(posInt),
      fingerprint: z.string(),
      /** How the training batches are read: `device` (the whole set on the device) or `loader` (a DataLoader). */
      source: z.enum(['device', 'loader']).default('device'),
      /** Notes for the user, e.g. that the class count came from a scan of the labels. */
      notes: z.array(z.string()).default([]),
    }),
  },
  build_supernet: {
    params: z.strictObject({
      channels: posInt,
      layers: posInt,
      nodes: posInt,
      reduction_cells: z.array(nonNegInt),
      stem_stride: z.union([z.literal(1), z.literal(2)]),
      ops: z.array(z.string()).min(1),
      granularities: z.array(z.enum(GRANULARITIES)).min(1),
      /** Build the stage heads (aux heads after stages 1 and 2) for a multi-stage search. */
      stage_heads: z.boolean(),
      seed: nonNegInt,
      channels_last: z.boolean(),
      /** torch.use_deterministic_algorithms for this and every later request (exact resume on CUDA too). */
      deterministic: z.boolean().default(false),
      /** darts_like reads channels, nodes and reduction_cells; mobilenet_like reads channels as the stem width and
       * `mobilenet` for its layers (ops are then MOBILENET_OP_VOCABULARY names). */
      space: z.enum(SEARCH_SPACES).default('darts_like'),
      mobilenet: MobileNetLayoutSchema.nullable().default(null),
    }),
    result: z.strictObject({
      ...SizesShape,
      live_ops: nonNegInt,
      units: UnitsSchema,
      op_mask: ndarray,
    }),
  },
  train_epoch: {
    params: z.strictObject({
      phase: z.enum(['warmup', 'search']),
      stage: z.string(),
      epoch: nonNegInt,
      batch_size: posInt,
      reg_lambda: z.number().min(0),
      mu: z.number().min(0),
      lr: z.strictObject({
        weights: z.number().min(0),
        alpha: z.number().min(0),
        op_threshold: z.number().min(0),
        filter_score: z.number().min(0),
        filter_threshold: z.number().min(0),
        weight_threshold: z.number().min(0),
      }),
      /** Run cells 0..last_cell and take the loss at the head after it; null: the whole network. */
      last_cell: nonNegInt.nullable(),
      /** Cells the R_op/R_thr terms cover; null: all. */
      reg_cells: z.strictObject({ from: nonNegInt, to: nonNegInt }).nullable(),
      sgd: SgdSchema,
      commit: z.boolean(),
      augment: AugmentSchema,
      max_batches: posInt.nullable(),
      seed: nonNegInt,
    }),
    result: z.strictObject({
      batches: nonNegInt,
      samples: nonNegInt,
      mean_ce: z.number(),
      mean_reg_op: z.number(),
      mean_r_thr: z.number(),
      train_accuracy: z.number(),
      ops_pruned: nonNegInt,
      /** Units newly masked by this epoch's commit, per granularity. */
      committed: z.strictObject({ operation: nonNegInt, filter: nonNegInt, weight: nonNegInt }),
      units: UnitsSchema,
      live_ops: nonNegInt,
      ...SizesShape,
      op_mask: ndarray,
      alpha: ndarray,
      seconds: z.number(),
      /** CUDA: peak allocated during the epoch; CPU: the process's peak resident set so far. */
      peak_memory_bytes: nonNegInt,
    }),
  },
  begin_stage: {
    // Start of a stage or of the final phase (SPEC §4.2 step 1, §4.4): optimizers rebuilt from the current
    // tensors, thresholds back to 0 when asked.
    params: z.strictObject({ reset_thresholds: z.boolean() }),
    result: z.strictObject({ ...SizesShape, units: UnitsSchema }),
  },
  regrow_statistics: {
    params: z.strictObject({}),
    // sigmoid(α), the α momentum buffer and the committed op mask, float32 (L, E, K), for the regrowth policy.
    result: z.strictObject({ weights: ndarray, momentum: ndarray, op_mask: ndarray }),
  },
  regrow: {
    params: z.strictObject({ ops: z.array(z.tuple([nonNegInt, nonNegInt, nonNegInt])) }),
    result: z.strictObject({ revived: nonNegInt, live_ops: nonNegInt, op_mask: ndarray }),
  },
  shrink_statistics: {
    params: z.strictObject({}),
    result: z.strictObject({
      cells: z.array(
        z.strictObject({
          cell: nonNegInt,
          width: nonNegInt,
          nominal: nonNegInt,
          preprocess_live: z.tuple([nonNegInt, nonNegInt]),
          node_out_live: z.array(z.array(nonNegInt)),
          /** Live middle filters of each live sep_conv (darts_like) or expanded filters of each live inverted-residual
           * block (mobilenet_like, whose layer widths are fixed and whose preprocess/node fields are empty), "edge,op". */
          sep_mid_live: z.record(z.string(), nonNegInt),
          sep_mid: z.record(z.string(), nonNegInt),
        }),
      ),
    }),
  },
  shrink: {
    params: z.strictObject({
      cell_widths: z.array(z.strictObject({ cell: nonNegInt, width: posInt })),
      /** sep_conv middle widths (darts_like) or inverted-residual expanded widths (mobilenet_like). */
      mid_widths: z.array(z.strictObject({ cell: nonNegInt, edge: nonNegInt, op: nonNegInt, width: posInt })),
    }),
    result: z.strictObject({ ...SizesShape, widths: z.array(nonNegInt) }),
  },
  save_weight_masks: {
    // The weight-mask file beside architecture.json (SPEC §5.1): committed masks of the live sep/dil convs.
    params: z.strictObject({ path: z.string() }),
    result: z.strictObject({ path: z.string(), bytes: nonNegInt, masked: nonNegInt, total: nonNegInt }),
  },
  evaluate: {
    params: z.strictObject({
      model: z.enum(['supernet', 'eval']),
      split: z.enum(['valid', 'test']),
      batch_size: posInt,
    }),
    result: z.strictObject({ loss: z.number(), accuracy: z.number(), samples: nonNegInt }),
  },
  build_eval: {
    params: z.strictObject({
      architecture: z.record(z.string(), z.unknown()),
      /** The weight-mask file written by save_weight_masks; null: no weight masks. */
      weight_masks: z.string().nullable(),
      auxiliary: z.boolean(),
      seed: nonNegInt,
      channels_last: z.boolean(),
      deterministic: z.boolean().default(false),
    }),
    result: z.strictObject({ params: nonNegInt, params_with_aux: nonNegInt, masked_weights: nonNegInt }),
  },
  save_checkpoint: {
    // The runtime's half of a checkpoint (shapes, tensors, momentum by parameter name, torch RNG), written atomically.
    params: z.strictObject({ model: z.enum(['supernet', 'eval']), path: z.string() }),
    result: z.strictObject({ path: z.string(), bytes: nonNegInt, sha256: z.string() }),
  },
  load_checkpoint: {
    // Into the network just built with the run's parameters; refused (bad_params) when the file's SHA-256 differs.
    params: z.strictObject({ model: z.enum(['supernet', 'eval']), path: z.string(), sha256: z.string() }),
    result: z.strictObject({ path: z.string(), bytes: nonNegInt }),
  },
  train_eval_epoch: {
    params: z.strictObject({
      epoch: nonNegInt,
      batch_size: posInt,
      lr: z.number().min(0),
      sgd: SgdSchema,
      drop_path_prob: fraction,
      aux_weight: z.number().min(0),
      augment: AugmentSchema,
      max_batches: posInt.nullable(),
      seed: nonNegInt,
    }),
    result: z.strictObject({
      batches: nonNegInt,
      samples: nonNegInt,
      loss: z.number(),
      accuracy: z.number(),
      seconds: z.number(),
    }),
  },
  save_model: {
    params: z.strictObject({ path: z.string() }),
    result: z.strictObject({ path: z.string(), bytes: nonNegInt }),
  },
  export_model: {
    // The retrained model for plain PyTorch, no mgdarts needed: TorchScript with the weight masks folded into the
    // weights, no aux head, eval mode, taking images in [0, 1] (normalisation built in); ONNX where the runtime's
    // Python has the `onnx` package, else onnx is null and onnx_note says why. max_abs_diff: the TorchScript
    // file's logits against the eager network's on a batch of test images.
    params: z.strictObject({ torchscript_path: z.string(), onnx_path: z.string().nullable() }),
    result: z.strictObject({
      torchscript: z.strictObject({ path: z.string(), bytes: nonNegInt }),
      onnx: z.strictObject({ path: z.string(), bytes: nonNegInt }).nullable(),
      onnx_note: z.string().nullable(),
      input_shape: z.array(posInt),
      mean: z.array(z.number()),
      std: z.array(z.number()),
      max_abs_diff: z.number(),
    }),
  },
} as const;

export type RequestType = keyof typeof REQUESTS;
export const REQUEST_TYPES = Object.keys(REQUESTS) as RequestType[];
export type RequestParams<T extends RequestType> = z.input<(typeof REQUESTS)[T]['params']>;
export type RequestResult<T extends RequestType> = z.output<(typeof REQUESTS)[T]['result']>;

/** Controller → runtime. */
export const RequestEnvelopeSchema = z.strictObject({
  id: z.string(),
  type: z.string(),
  params: z.record(z.string(), z.unknown()),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;

export const ProgressEventSchema = z.strictObject({
  name: z.literal('progress'),
  batch: nonNegInt,
  batches: nonNegInt,
  loss: z.number(),
  seconds: z.number(),
});
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

export const ErrorBodySchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  ename: z.string(),
  traceback: z.string().nullable(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Runtime → controller: exactly one `result` or `error` per request, any number of `event`s before it. */
export const ReplyEnvelopeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ id: z.string(), kind: z.literal('result'), type: z.string(), result: z.record(z.string(), z.unknown()) }),
  z.strictObject({ id: z.string(), kind: z.literal('error'), type: z.string(), error: ErrorBodySchema }),
  z.strictObject({ id: z.string(), kind: z.literal('event'), type: z.string(), event: ProgressEventSchema }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelopeSchema>;

/** Dtypes allowed for raw array frames, with their element sizes. */
export const DTYPES = { uint8: 1, int32: 4, int64: 8, float32: 4, float64: 8 } as const;
export type Dtype = keyof typeof DTYPES;

/** The key that marks an array descriptor inside a header: `{__ndarray__: {dtype, shape, buffer}}`. */
export const NDARRAY_KEY = '__ndarray__';

/** The largest message (all frames) either side sends; MGDARTS_MAX_MESSAGE_BYTES overrides it on both.
 * A bigger one reaching the runtime makes ZeroMQ drop the sender's connection unanswered, so the client refuses it first. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
