// The client's maximum message size: the protocol's default, MGDARTS_MAX_MESSAGE_BYTES, and a refused send.
import { describe, expect, it } from 'vitest';
import { MessageTooLargeError, UsageError, exitCodeFor } from '../../src/errors.js';
import { encodeFrames } from '../../src/runtime/frames.js';
import { MAX_MESSAGE_ENV, maxMessageBytes } from '../../src/runtime/message-limit.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { MAX_MESSAGE_BYTES } from '../../src/runtime/protocol.js';

describe('maximum message size', () => {
  it('defaults to the protocol constant and reads MGDARTS_MAX_MESSAGE_BYTES', () => {
    expect(maxMessageBytes({})).toBe(MAX_MESSAGE_BYTES);
    expect(maxMessageBytes({ [MAX_MESSAGE_ENV]: '65536' })).toBe(65536);
    for (const bad of ['12', 'lots', '1.5e4']) {
      expect(() => maxMessageBytes({ [MAX_MESSAGE_ENV]: bad })).toThrow(UsageError);
    }
  });

  it('refuses to encode a message over the limit, counting the array frames', () => {
    const array = NdArray.fromBytes('uint8', [2000], Buffer.alloc(2000));
    expect(encodeFrames({ id: 'a', type: 'echo', params: { value: array } }, 4096)).toHaveLength(2);
    let error: unknown;
    try {
      encodeFrames({ id: 'a', type: 'echo', params: { value: [array, array, array] } }, 4096);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).code).toBe('protocol.message_too_large');
    expect((error as Error).message).toMatch(/of \d+ bytes exceeds the maximum of 4096 bytes/);
    expect(exitCodeFor(error)).toBe(3);
  });
});
