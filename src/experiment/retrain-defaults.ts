// The evaluation protocol per dataset (SPEC §5.3, the reference's cifar_train/train.py and train_cifar100.py):
// one table; a dataset without a row (Fashion-MNIST) keeps its config's `retrain` section and seed.
import type { ExperimentConfig } from '../config/schema.js';

type RetrainSection = ExperimentConfig['retrain'];

export interface RetrainProtocol {
  /** The augmentation keys the protocol names; any other augmentation setting keeps the config's value. */
  retrain: Omit<RetrainSection, 'max_batches' | 'augment'> & { augment: Partial<RetrainSection['augment']> };
  seed: number;
}

const CIFAR10: RetrainProtocol = {
  retrain: {
    epochs: 600, batch_size: 96, lr: 0.025, momentum: 0.9, weight_decay: 3e-4, grad_clip: 5,
    drop_path: 0.2, auxiliary: true, aux_weight: 0.4, augment: { crop_padding: 4, flip: true, cutout: 16, auto_augment: false },
  },
  seed: 0,
};

export const RETRAIN_PROTOCOLS: Readonly<Record<string, RetrainProtocol>> = {
  cifar10: CIFAR10,
  // CIFAR-100: the CIFAR-10 protocol with its own batch size, lr and weight decay.
  cifar100: { retrain: { ...CIFAR10.retrain, batch_size: 64, lr: 0.02, weight_decay: 5e-4 }, seed: 0 },
};

/**
 * The retraining section and seed for `config`'s dataset: the table's row, except the keys the user set in
 * the `retrain` section of a --config file (`explicit`), which win; no row: the config's own.
 */
export function applyRetrainProtocol(config: ExperimentConfig, explicit: Record<string, unknown> = {}, explicitSeed = false): ExperimentConfig {
  const row = RETRAIN_PROTOCOLS[config.dataset.name];
  if (!row) return config;
  const retrain = { ...config.retrain, ...row.retrain, augment: { ...config.retrain.augment, ...row.retrain.augment } };
  for (const key of Object.keys(explicit)) (retrain as Record<string, unknown>)[key] = (config.retrain as Record<string, unknown>)[key];
  return { ...config, retrain, seed: explicitSeed ? config.seed : row.seed };
}
