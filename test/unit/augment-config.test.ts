// The config's augment.auto_augment: off by default in search and retrain, a boolean, sent on the wire.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { REQUESTS } from '../../src/runtime/protocol.js';

const MINIMAL = { dataset: { name: 'fashion-mnist-sample' } };

describe('augment.auto_augment', () => {
  it('defaults to false in both sections and can be turned on', () => {
    const config = parseConfig(MINIMAL);
    expect(config.search.augment.auto_augment).toBe(false);
    expect(config.retrain.augment.auto_augment).toBe(false);
    const on = parseConfig({ ...MINIMAL, search: { augment: { auto_augment: true } } });
    expect(on.search.augment).toMatchObject({ auto_augment: true, crop_padding: 0, flip: false, cutout: 0 });
  });

  it('rejects a non-boolean with its path', () => {
    let error: unknown;
    try {
      parseConfig({ ...MINIMAL, search: { augment: { auto_augment: 'yes' } } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['search.augment.auto_augment']);
  });

  it('is a required boolean of train_epoch on the wire', () => {
    type Shape = { shape: { augment: { safeParse(v: unknown): { success: boolean } } } };
    const augment = (REQUESTS.train_epoch.params as unknown as Shape).shape.augment;
    expect(augment.safeParse({ crop_padding: 0, flip: false, cutout: 0, auto_augment: true }).success).toBe(true);
    expect(augment.safeParse({ crop_padding: 0, flip: false, cutout: 0 }).success).toBe(false);
  });
});
