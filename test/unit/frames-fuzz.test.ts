// Fuzz of the client's frame decoder: random, mutated and lying replies either decode or throw FrameError
// (which the transport reports as a bad frame), never another error.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrames, FrameError } from '../../src/runtime/frames.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { NDARRAY_KEY } from '../../src/runtime/protocol.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Seeded mulberry32: the same messages on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(rand: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function fuzzFrames(rand: () => number, i: number): Buffer[] {
  const kind = Math.floor(rand() * 4);
  if (kind === 0) return [bytes(rand, Math.floor(rand() * 48))];
  if (kind === 1) {
    const array = NdArray.fromBytes('float32', [2], Buffer.alloc(8));
    const reply = { id: `m${i}`, kind: 'result', type: 'echo', result: { value: [1, 'x', { a: array }] } };
    const [head, ...rest] = encodeFrames(reply);
    const mutated = Buffer.from(head!);
    for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
      mutated[Math.floor(rand() * mutated.length)] ^= 1 << Math.floor(rand() * 8);
    }
    return [mutated, ...rest];
  }
  if (kind === 2) {
    const descriptor = {
      dtype: pick(rand, ['uint8', 'float32', 'float64', 'float16', 3, null, ['uint8']]),
      shape: pick(rand, [[2, 2], [4], [], [-1, 4], [true, 2], [1.5], [2 ** 40, 2 ** 40], '4', null]),
      buffer: pick(rand, [1, 2, 0, -1, 1.5, true, '1', null]),
    };
    const frames = Array.from({ length: Math.floor(rand() * 3) }, () => bytes(rand, pick(rand, [0, 4, 8, 16, 7])));
    const reply = { id: `a${i}`, kind: 'result', type: 'echo', result: { value: { [NDARRAY_KEY]: descriptor } } };
    return [packr.pack(reply), ...frames];
  }
  let nested: unknown = 1;
  for (let d = 0; d < 50 + Math.floor(rand() * 200); d++) nested = rand() < 0.5 ? [nested] : { v: nested };
  return [packr.pack({ id: `n${i}`, kind: 'result', type: 'echo', result: { value: nested } })];
}

describe('decodeFrames on bad input', () => {
  it('decodes or throws FrameError for 3,000 random, mutated and lying messages', () => {
    const rand = rng(20261204);
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const frames = fuzzFrames(rand, i);
      try {
        decodeFrames(frames);
        decoded += 1;
      } catch (err) {
        if (!(err instanceof FrameError)) {
          const hex = frames.map((f) => f.toString('hex')).join(' ');
          throw new Error(`message ${i} threw ${String(err)}; frames ${hex}`);
        }
        refused += 1;
      }
    }
    expect(decoded).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });
});
