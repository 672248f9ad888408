// The experiment config: one zod schema; the types come from it. Defaults follow SPEC §2.1 and §3.3.
import { z } from 'zod';
import { GRANULARITIES, MOBILENET_OP_VOCABULARY, OP_VOCABULARY } from '../runtime/protocol.js';
import { MB_OPS } from '../search-space/mobilenet-ops.js';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

export const AugmentSchema = z.strictObject({
  crop_padding: nonNegInt.default(0),
  flip: z.boolean().default(false),
  cutout: nonNegInt.default(0),
  /** AutoAugment's CIFAR-10 policy (25 sub-policies) on the device, after crop and flip. */
  auto_augment: z.boolean().default(false),
});

/** `python:<file.py or dotted module>:<factory>`: a user's PyTorch dataset (the file relative to the config). */
const PythonDatasetName = z
  .string()
  .regex(/^python:[^:]+:[A-Za-z_][A-Za-z0-9_]*$/, 'expected python:<module or file.py>:<factory>, e.g. python:my_data.py:make');

/** Class counts of the built-in datasets (the runtime checks the labels it reads against them as well). */
export const FIXED_CLASS_COUNTS: Readonly<Record<string, number>> = { 'fashion-mnist': 10, 'fashion-mnist-sample': 10, cifar10: 10, cifar100: 100 };

export const DatasetSchema = z.strictObject({
  /** `fashion-mnist` (found via --data-dir, MGDARTS_DATA or the Debian path), the shipped `fashion-mnist-sample`,
   * `cifar10`, `cifar100` (official python or binary batches), `image-folder` (train/<class>/, val/<class>/)
   * or `python:<module>:<factory>`. */
  name: z.union([z.enum(['fashion-mnist', 'fashion-mnist-sample', 'cifar10', 'cifar100', 'image-folder']), PythonDatasetName]),
  data_dir: z.string().min(1).nullable().default(null),
  /** The classifier's size; when given, the dataset's class count must equal it (python: datasets: else max label + 1). */
  num_classes: posInt.nullable().default(null),
  /** image-folder: the side of the square training and test images (224 for ImageNet). */
  image_size: posInt.default(224),
  /** image-folder: a seeded share of each class's training images (0.1 as in the reference's ImageNet search). */
  subset_fraction: z.number().gt(0).max(1).default(1),
  /** image-folder and python: datasets: DataLoader worker processes (0: read in the runtime's process). */
  workers: nonNegInt.default(2),
  /** Held-out share of the training set for architecture-side monitoring (never the test set). */
  valid_fraction: z.number().min(0).max(0.5).default(0.1),
  /** Use a seeded subset of this many training images (null: all). */
  train_limit: posInt.nullable().default(null),
});

export const SearchSpaceSchema = z.strictObject({
  name: z.literal('darts_like'), // filled in when left out (AnySearchSpaceSchema)
  channels: posInt.default(16),
  layers: posInt.default(8),
  nodes: z.literal(4).default(4),
  stem_stride: z.union([z.literal(1), z.literal(2)]).default(1),
  ops: z
    .array(z.enum(OP_VOCABULARY))
    .min(1)
    .refine((ops) => new Set(ops).size === ops.length, 'ops must not repeat')
    .default([...OP_VOCABULARY]),
});

const stride = z.union([z.literal(1), z.literal(2)]);

/** `repeat` layers of `channels` output channels; the first has `stride`, the others stride 1 (MobileNetV2 style). */
export const MobileNetBlockSchema = z.strictObject({ channels: posInt, stride, repeat: posInt.default(1) });

/** The MobileNet-like space: stem, searchable inverted-residual layers, 1×1 head. Null fields take the preset's
 * value (src/search-space/mobilenet-presets.ts): `imagenet_224` (MobileNetV2 widths) or `tiny` (CPU smoke runs). */
export const MobileNetSpaceSchema = z.strictObject({
  name: z.literal('mobilenet_like'),
  preset: z.enum(['imagenet_224', 'tiny']).default('imagenet_224'),
  stem_channels: posInt.nullable().default(null),
  stem_stride: stride.default(2),
  blocks: z.array(MobileNetBlockSchema).min(1).nullable().default(null),
  head_channels: posInt.nullable().default(null),
  /** Width of the search-only stage heads. */
  aux_channels: posInt.nullable().default(null),
  ops: z
    .array(z.enum(MOBILENET_OP_VOCABULARY))
    .min(1)
    .refine((ops) => new Set(ops).size === ops.length, 'ops must not repeat')
    .default([...MOBILENET_OP_VOCABULARY]),
  /** A shrink never takes a block's expanded width below this share of its nominal width. */
  min_expanded_ratio: z.number().gt(0).max(1).default(0.25),
});

/** darts_like when `name` is left out. */
export const AnySearchSpaceSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('name' in v) ? { ...v, name: 'darts_like' } : v),
  z.discriminatedUnion('name', [SearchSpaceSchema, MobileNetSpaceSchema]),
);

export const LambdaSchema = z.strictObject({
  lambda0: z.number().positive().default(1e-5),
  c0: z.number().gt(1).default(2),
  /** pruning_n_thre1 of SPEC §3.3: halve λ at ≥ 4× this many ops pruned, grow it below 2×. */
  prune_threshold: posInt.default(12),
  max: z.number().positive().default(100),
});

export const SearchSchema = z.strictObject({
  /** 3: stages by resolution, then the final joint phase (SPEC §4); 1: the final phase alone on the whole supernet. */
  stages: z.union([z.literal(1), z.literal(3)]).default(3),
  batch_size: posInt.default(96),
  /** Weight-only epochs at the start of every stage and of the final phase, architecture frozen. */
  warmup_epochs: nonNegInt.default(5),
  /** Epoch cap of each stage's and the final phase's search loop (the reference has none and can loop forever).
   * Masks are committed on even epochs from the third on (SPEC §3.2), so fewer than 3 would never prune. */
  max_epochs: z.number().int().min(3).default(50),
  /** A stage stops at the first commit epoch whose counted size (cells up to its end) is at or below this
   * share of its start size; so does the final phase when no target_params is given. */
  target_ratio: z.number().gt(0).max(1).default(0.3),
  /** Parameter budget of the exported model (dense, without the aux head): the final phase stops at it. */
  target_params: posInt.nullable().default(null),
  /** After stages 2 and 3, int(regrow_ratio × ops pruned in the stage) pruned ops are revived (SPEC §4.3). */
  regrow_ratio: z.number().min(0).max(1).default(0.2),
  lr: z
    .strictObject({
      weights: z.number().positive().default(0.01),
      alpha: z.number().positive().default(1.0),
      op_threshold: z.number().positive().default(0.1),
      filter_score: z.number().positive().default(1.0),
      filter_threshold: z.number().positive().default(0.1),
      /** 100× smaller than the other thresholds' (SPEC §2.1). */
      weight_threshold: z.number().positive().default(0.001),
    })
    .prefault({}),
  momentum: z.number().min(0).max(1).default(0.9),
  weight_decay: z.number().min(0).default(3e-4),
  grad_clip: z.number().positive().nullable().default(5),
  lambda: LambdaSchema.prefault({}),
  /** μ of the size-aware R_op (SPEC §2.1); 0 matches the reference. */
  mu: z.number().min(0).default(0),
  augment: AugmentSchema.prefault({}),
  /** Cap batches per epoch (smoke tests); null runs whole epochs. */
  max_batches: posInt.nullable().default(null),
});

export const RetrainSchema = z.strictObject({
  epochs: posInt.default(600),
  batch_size: posInt.default(96),
  lr: z.number().positive().default(0.025),
  momentum: z.number().min(0).max(1).default(0.9),
  weight_decay: z.number().min(0).default(3e-4),
  grad_clip: z.number().positive().nullable().default(5),
  drop_path: z.number().min(0).max(1).default(0.2),
  auxiliary: z.boolean().default(false),
  aux_weight: z.number().min(0).default(0.4),
  augment: AugmentSchema.prefault({}),
  max_batches: posInt.nullable().default(null),
});

export const ExperimentSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
    .default('run'),
  description: z.string().optional(),
  seed: nonNegInt.default(2),
  device: z
    .string()
    .regex(/^(auto|cpu|cuda(:\d+)?)$/, 'auto, cpu, cuda or cuda:N')
    .default('auto'),
  /** torch threads in the runtime; null lets torch decide. */
  threads: posInt.nullable().default(null),
  channels_last: z.boolean().default(false),
  /** Deterministic kernels (torch.use_deterministic_algorithms): a resumed run repeats the uninterrupted one on CUDA too. */
  deterministic: z.boolean().default(false),
  /** Any non-empty subset; ["operation"] alone is the op-only, DARTS-like baseline. */
  granularities: z
    .array(z.enum(GRANULARITIES))
    .min(1)
    .refine((g) => new Set(g).size === g.length, 'granularities must not repeat')
    .default(['operation', 'filter', 'weight']),
  dataset: DatasetSchema,
  search_space: AnySearchSpaceSchema.prefault({}),
  search: SearchSchema.prefault({}),
  retrain: RetrainSchema.prefault({}),
}).superRefine((config, ctx) => {
  // zod runs this check even when a field failed; only judge a valid layer count.
  const sp = config.search_space;
  const layers = sp.name === 'darts_like' ? sp.layers : (sp.blocks ?? []).reduce((a, b) => a + b.repeat, 0) || NaN;
  if (config.search.stages === 3 && Number.isInteger(layers) && layers >= 1 && layers < 3) {
    ctx.addIssue({ code: 'custom', path: ['search', 'stages'], input: config.search.stages, message: `3 stages need at least 3 cells (search_space has ${layers} ${sp.name === 'darts_like' ? 'layers' : 'layers in its blocks'}); use stages: 1` });
  }
  // Built-in datasets have a fixed class count, so a num_classes that differs is refused before anything runs.
  const fixed = FIXED_CLASS_COUNTS[config.dataset.name];
  const configured = config.dataset.num_classes;
  if (fixed !== undefined && typeof configured === 'number' && configured !== fixed) {
    ctx.addIssue({ code: 'custom', path: ['dataset', 'num_classes'], input: configured, message: `${config.dataset.name} has ${fixed} classes; remove dataset.num_classes or set it to ${fixed}` });
  }
  if (sp.name === 'mobilenet_like') {
    // An op that is no candidate of a strided, widening layer (skip) leaves such a layer with no op at all;
    // each op declares where it fits.
    if (Array.isArray(sp.ops) && sp.ops.length > 0 && !sp.ops.some((op) => MB_OPS[op]?.available(1, 2, 2))) {
      ctx.addIssue({ code: 'custom', path: ['search_space', 'ops'], input: sp.ops, message: "needs at least one op that can stride or change width (an mb_k*_e* block)" });
    }
    if (config.retrain?.auxiliary === true) {
      ctx.addIssue({ code: 'custom', path: ['retrain', 'auxiliary'], input: true, message: 'mobilenet_like has no auxiliary head for retraining; set it to false' });
    }
  }
});

export type ExperimentConfig = z.infer<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;
export type DartsSpaceConfig = z.infer<typeof SearchSpaceSchema>;
export type MobileNetSpaceConfig = z.infer<typeof MobileNetSpaceSchema>;
export type AugmentConfig = z.infer<typeof AugmentSchema>;
