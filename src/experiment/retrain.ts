// Retraining the derived architecture from scratch (SPEC §5.3): cosine lr, drop-path ramp, optional
// auxiliary head; test accuracy is reported both at the final epoch and at the best epoch, labelled.
import type { ExperimentConfig } from '../config/schema.js';
import type { RuntimeClient } from '../runtime/client.js';
import { cosineLr, dropPathProb } from '../scheduler/lr.js';
import type { Architecture } from '../search-space/derive.js';
import type { ProgressLine } from './progress.js';
import type { RunDir } from './run-dir.js';
import { epochSeed } from './search.js';

export interface RetrainOutcome {
  params: number;
  paramsWithAux: number;
  /** Weights the weight masks hold at zero (0 without the weight level). */
  maskedWeights: number;
  finalAccuracy: number;
  bestAccuracy: number;
  bestEpoch: number;
  seconds: number;
}

/** Where the retraining stands after an epoch. */
export interface RetrainProgress {
  /** The next epoch. */
  epoch: number;
  best: { accuracy: number; epoch: number };
  final: number;
  seconds: number;
}

/** Called after every epoch; a checkpoint is written there. */
export type RetrainBoundary = (label: string, progress: RetrainProgress) => Promise<void>;

export interface RetrainResume {
  progress: RetrainProgress;
  /** The evaluation-network checkpoint file and its SHA-256. */
  path: string;
  sha256: string;
}

export async function runRetrain(
  client: RuntimeClient,
  config: ExperimentConfig,
  arch: Architecture,
  weightMasks: string | null,
  runDir: RunDir,
  progress: ProgressLine,
  boundary: RetrainBoundary = async () => {},
  resume?: RetrainResume,
): Promise<RetrainOutcome> {
  const started = Date.now() - (resume?.progress.seconds ?? 0) * 1000;
  const t = config.retrain;
  const built = await client.request('build_eval', { architecture: { ...arch }, weight_masks: weightMasks, auxiliary: t.auxiliary, seed: config.seed, channels_last: config.channels_last, deterministic: config.deterministic });
  const masked = built.masked_weights ? `, ${(built.params - built.masked_weights).toLocaleString('en-US')} non-zero` : '';
  progress.log(`evaluation network: ${built.params.toLocaleString('en-US')} parameters${masked}`);
  const sgd = { momentum: t.momentum, weight_decay: t.weight_decay, grad_clip: t.grad_clip };
  if (resume) {
    await client.request('load_checkpoint', { model: 'eval', path: resume.path, sha256: resume.sha256 });
    progress.log(`evaluation network: restored after epoch ${resume.progress.epoch} of ${t.epochs}`);
  }
  let best = resume?.progress.best ?? { accuracy: -1, epoch: -1 };
  let final = resume?.progress.final ?? 0;
  for (let e = resume?.progress.epoch ?? 0; e < t.epochs; e++) {
    const lr = cosineLr(t.lr, e, t.epochs);
    const r = await client.request(
      'train_eval_epoch',
      {
        epoch: e, batch_size: t.batch_size, lr, sgd, drop_path_prob: dropPathProb(t.drop_path, e, t.epochs), aux_weight: t.auxiliary ? t.aux_weight : 0,
        augment: t.augment, max_batches: t.max_batches, seed: epochSeed(config.seed, 2, e),
      },
      { onProgress: (ev) => progress.update({ phase: 'retrain', epoch: `${e + 1}/${t.epochs}`, batch: `${ev.batch}/${ev.batches}`, loss: ev.loss }) },
    );
    const test = await client.request('evaluate', { model: 'eval', split: 'test', batch_size: 256 });
    final = test.accuracy;
    if (test.accuracy > best.accuracy) best = { accuracy: test.accuracy, epoch: e };
    runDir.event('epoch', { phase: 'retrain', epoch: e, lr, loss: r.loss, train_accuracy: r.accuracy, test_accuracy: test.accuracy, seconds: r.seconds });
    progress.log(`[retrain] epoch ${e + 1}/${t.epochs}  loss ${r.loss.toFixed(3)}  train acc ${(100 * r.accuracy).toFixed(1)}%  test acc ${(100 * test.accuracy).toFixed(2)}%  ${progress.elapsed()}`);
    await boundary(`retrain-${e}`, { epoch: e + 1, best, final, seconds: (Date.now() - started) / 1000 });
  }
  await client.request('save_model', { path: runDir.file('model.pt') });
  return { params: built.params, paramsWithAux: built.params_with_aux, maskedWeights: built.masked_weights, finalAccuracy: final, bestAccuracy: best.accuracy, bestEpoch: best.epoch, seconds: (Date.now() - started) / 1000 };
}
