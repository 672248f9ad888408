// The frame codec: [msgpack header, raw frame 1, ...]; one numeric policy (ARCHITECTURE.md "The protocol").
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrames, FrameError } from '../../src/runtime/frames.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { NDARRAY_KEY } from '../../src/runtime/protocol.js';

function roundTrip(message: unknown): unknown {
  return decodeFrames(encodeFrames(message));
}

/** The header as plain msgpack, every 64-bit integer as a BigInt. */
function rawHeader(frames: Buffer[]): Record<string, unknown> {
  return unpack(frames[0]!, { int64AsType: 'bigint', useRecords: false } as never) as Record<string, unknown>;
}

/** The msgpack marker byte of the value of key `k` in a one-key map header. */
function markerOf(value: unknown): number {
  const [header] = encodeFrames({ k: value });
  // The map prefix (fixmap or map16), then fixstr "k" (0xa1 0x6b), then the value's marker.
  const key = header!.indexOf(Buffer.from([0xa1, 0x6b]));
  expect(key).toBeGreaterThan(0);
  expect(key).toBeLessThanOrEqual(3);
  return header![key + 2]!;
}

const MARKER = { float64: 0xcb, uint32: 0xce, uint64: 0xcf, int32: 0xd2, int64: 0xd3 } as const;

describe('integers', () => {
  it.each<[string, number | bigint, bigint]>([
    ['2^31', 2 ** 31, 2n ** 31n],
    ['2^32', 2 ** 32, 2n ** 32n],
    ['2^53 − 1', Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n],
    ['2^53 (as number)', 2 ** 53, 2n ** 53n],
    ['2^53 (as BigInt)', 2n ** 53n, 2n ** 53n],
    ['2^63 − 1', 9223372036854775807n, 2n ** 63n - 1n],
    ['−2^31', -(2 ** 31), -(2n ** 31n)],
    ['−2^32', -(2 ** 32), -(2n ** 32n)],
    ['−(2^53 − 1)', -Number.MAX_SAFE_INTEGER, -(2n ** 53n - 1n)],
    ['−2^53 (as number)', -(2 ** 53), -(2n ** 53n)],
    ['−2^53 (as BigInt)', -(2n ** 53n), -(2n ** 53n)],
    ['−(2^63 − 1)', -9223372036854775807n, -(2n ** 63n - 1n)],
    ['−2^63', -(2n ** 63n), -(2n ** 63n)],
    ['0', 0, 0n],
    ['2^31 − 1', 2 ** 31 - 1, 2n ** 31n - 1n],
  ])('%s round-trips exactly', (_name, value, exact) => {
    const back = (roundTrip({ v: value }) as { v: number | bigint }).v;
    expect(typeof back === 'bigint' || Number.isInteger(back)).toBe(true);
    expect(BigInt(back)).toBe(exact);
  });

  it('safe integers come back as numbers, beyond 2^53 as BigInt', () => {
    const back = roundTrip({ a: 2 ** 32, b: -(2 ** 40), c: 2n ** 63n - 1n }) as Record<string, unknown>;
    expect(back.a).toBe(2 ** 32);
    expect(back.b).toBe(-(2 ** 40));
    expect(back.c).toBe(2n ** 63n - 1n);
  });

  it.each<[string, number | bigint]>([
    ['2^32', 2 ** 32],
    ['2^40', 2 ** 40],
    ['2^53 − 1', Number.MAX_SAFE_INTEGER],
    ['−2^32', -(2 ** 32)],
    ['−2^40', -(2 ** 40)],
    ['2^63 − 1', 2n ** 63n - 1n],
  ])('%s goes on the wire as a msgpack integer, not float64', (_name, value) => {
    const marker = markerOf(value);
    expect(marker).not.toBe(MARKER.float64);
    expect([MARKER.uint64, MARKER.int64]).toContain(marker);
    const header = rawHeader(encodeFrames({ k: value }));
    expect(typeof header.k).toBe('bigint');
    expect(header.k).toBe(BigInt(value));
  });

  // Python's msgpack writes positive integers ≥ 2^32 as uint64 (0xcf) and negative ones as int64 (0xd3).
  it.each<[string, number, bigint]>([
    ['uint64 2^32', 0xcf, 2n ** 32n],
    ['uint64 2^53', 0xcf, 2n ** 53n],
    ['uint64 2^63 − 1', 0xcf, 2n ** 63n - 1n],
    ['uint64 2^64 − 1', 0xcf, 2n ** 64n - 1n],
    ['int64 −2^53', 0xd3, -(2n ** 53n)],
    ['int64 −2^63', 0xd3, -(2n ** 63n)],
  ])('a header written by Python with %s decodes exactly', (_name, marker, value) => {
    const bytes = Buffer.alloc(8);
    if (marker === 0xcf) bytes.writeBigUInt64BE(value);
    else bytes.writeBigInt64BE(value);
    const header = Buffer.concat([Buffer.from([0x81, 0xa1, 0x76, marker]), bytes]);
    const back = (decodeFrames([header]) as { v: number | bigint }).v;
    expect(BigInt(back)).toBe(value);
    if (Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value) expect(back).toBe(Number(value));
  });

  it('a 32-bit integer stays a small msgpack integer', () => {
    expect(markerOf(2 ** 31 - 1)).toBe(MARKER.uint32);
    expect(markerOf(7)).toBe(7); // positive fixint
  });

  it('a non-integral number is a float64', () => {
    expect(markerOf(0.1)).toBe(MARKER.float64);
    expect(markerOf(-1.5)).toBe(MARKER.float64);
  });
});

describe('plain values', () => {
  it.each<[string, unknown]>([
    ['floats', { a: 0.1, b: -1.5e-300, c: 3.4028234663852886e38, d: Math.PI }],
    ['strings', { s: '', t: 'héllo ✓', u: 'x'.repeat(70_000) }],
    ['booleans and null', { t: true, f: false, n: null }],
    ['nested objects and arrays', { a: [1, [2, [3, { b: [null, true, 'x'] }]]], o: { p: { q: { r: -7 } } } }],
    ['an empty object and array', { o: {}, a: [] }],
  ])('%s round-trip', (_name, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('infinities and NaN survive as float64', () => {
    const back = roundTrip({ a: Infinity, b: -Infinity, c: NaN }) as Record<string, number>;
    expect(back.a).toBe(Infinity);
    expect(back.b).toBe(-Infinity);
    expect(back.c).toBeNaN();
  });

  it('undefined fields are dropped, never on the wire', () => {
    const frames = encodeFrames({ a: 1, b: undefined, nested: { c: undefined, d: 2 } });
    const header = rawHeader(frames);
    expect(header).toEqual({ a: 1, nested: { d: 2 } });
    expect(Object.keys(header)).toEqual(['a', 'nested']);
    // msgpack's extension for undefined is 0xd4 0x00 0x00; it must not appear.
    expect(frames[0]!.includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(false);
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
  });
});

describe('NdArray frames', () => {
  const arrays = {
    f32: NdArray.from('float32', [2, 3], [0.5, -1.25, 3, 1e-7, -0, 65504]),
    u8: NdArray.from('uint8', [4], [0, 1, 128, 255]),
    i32: NdArray.from('int32', [2, 2], [-(2 ** 31), 2 ** 31 - 1, 0, -1]),
    f64: NdArray.from('float64', [3], [Math.PI, -1e300, 5e-324]),
    i64: new NdArray('int64', [3], BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n])),
    empty: NdArray.from('float32', [0, 5], []),
  };

  it('each array travels as its own raw frame: frame count = 1 + arrays', () => {
    const frames = encodeFrames({ type: 'x', params: { ...arrays, nested: [{ m: arrays.u8 }] } });
    expect(frames).toHaveLength(1 + Object.keys(arrays).length + 1);
    expect(frames[1]!.byteLength).toBe(6 * 4);
    expect(frames[2]!.byteLength).toBe(4);
    expect(frames[3]!.byteLength).toBe(4 * 4);
    expect(frames[4]!.byteLength).toBe(3 * 8);
    expect(frames[5]!.byteLength).toBe(3 * 8);
    expect(frames[6]!.byteLength).toBe(0);
  });

  it('the header holds descriptors, not the data', () => {
    const frames = encodeFrames({ mask: arrays.f32 });
    expect(rawHeader(frames)).toEqual({ mask: { [NDARRAY_KEY]: { dtype: 'float32', shape: [2, 3], buffer: 1 } } });
    expect(frames[0]!.byteLength).toBeLessThan(64);
    expect(Buffer.compare(frames[1]!, Buffer.from(arrays.f32.bytes()))).toBe(0);
  });

  it.each(Object.entries(arrays))('%s round-trips with dtype, shape and values', (_name, array) => {
    const back = (roundTrip({ a: array }) as { a: NdArray }).a;
    expect(back).toBeInstanceOf(NdArray);
    expect(back.dtype).toBe(array.dtype);
    expect(back.shape).toEqual(array.shape);
    expect(back.data.constructor).toBe(array.data.constructor);
    expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(array.data as ArrayLike<unknown>));
  });

  it('row-major indexing of a decoded array', () => {
    const back = (roundTrip({ a: arrays.f32 }) as { a: NdArray }).a;
    expect(back.at(0, 1)).toBe(-1.25);
    expect(back.at(1, 2)).toBe(65504);
  });

  it.each([
    ['float32', Float32Array, [1.5, -2.25, 3.125, 1e-7]],
    ['int32', Int32Array, [1, -2, 2 ** 31 - 1, -(2 ** 31)]],
    ['float64', Float64Array, [Math.E, -0.1, 1e300]],
  ] as const)('a %s frame at an odd byte offset decodes to the right values', (dtype, Ctor, values) => {
    const data = Ctor.from(values as readonly number[]);
    const big = Buffer.alloc(data.byteLength + 3, 0xee);
    big.set(new Uint8Array(data.buffer), 1);
    const frame = big.subarray(1, 1 + data.byteLength);
    expect(frame.byteOffset % 2).toBe(1);
    const [header] = encodeFrames({ a: NdArray.from(dtype, [values.length], values as readonly number[]) });
    const back = (decodeFrames([header!, frame]) as { a: NdArray }).a;
    expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data));
  });

  it('an int64 frame at an odd offset decodes to the right values', () => {
    const data = BigInt64Array.from([2n ** 63n - 1n, -5n]);
    const big = Buffer.alloc(17);
    big.set(new Uint8Array(data.buffer), 1);
    const [header] = encodeFrames({ a: new NdArray('int64', [2], data) });
    const back = (decodeFrames([header!, big.subarray(1, 17)]) as { a: NdArray }).a;
    expect(Array.from(back.data as BigInt64Array)).toEqual([2n ** 63n - 1n, -5n]);
  });

  it('a slice of a larger typed array is sent as the slice only', () => {
    const whole = Float32Array.from([9, 1, 2, 3, 9]);
    const frames = encodeFrames({ a: new NdArray('float32', [3], whole.subarray(1, 4)) });
    expect(frames[1]!.byteLength).toBe(12);
    expect(Array.from((decodeFrames(frames) as { a: NdArray }).a.data as Float32Array)).toEqual([1, 2, 3]);
  });
});

describe('bad frames → FrameError', () => {
  const header = (descriptor: unknown) => encodeFrames({ a: { [NDARRAY_KEY]: descriptor } })[0]!;
  const f32x4 = Buffer.from(new Float32Array(4).buffer);

  it.each<[string, Buffer[], RegExp]>([
    ['a shape that lies about the frame size', [header({ dtype: 'float32', shape: [5], buffer: 1 }), f32x4], /bytes/],
    ['a shape that is too small', [header({ dtype: 'float32', shape: [3], buffer: 1 }), f32x4], /bytes/],
    ['a dtype whose size does not fit', [header({ dtype: 'float64', shape: [4], buffer: 1 }), f32x4], /bytes/],
    ['a missing frame index', [header({ dtype: 'float32', shape: [4], buffer: 2 }), f32x4], /missing frame/],
    ['no frames at all', [header({ dtype: 'float32', shape: [4], buffer: 1 })], /missing frame/],
    ['buffer 0 (indices start at 1)', [header({ dtype: 'float32', shape: [4], buffer: 0 }), f32x4], /missing frame/],
    ['no buffer index', [header({ dtype: 'float32', shape: [4] }), f32x4], /missing frame/],
    ['an unknown dtype', [header({ dtype: 'float16', shape: [8], buffer: 1 }), f32x4], /unknown dtype/],
    ['no dtype', [header({ shape: [4], buffer: 1 }), f32x4], /unknown dtype/],
    ['a negative dimension', [header({ dtype: 'float32', shape: [-4], buffer: 1 }), f32x4], /shape/],
    ['a fractional dimension', [header({ dtype: 'float32', shape: [2.5], buffer: 1 }), f32x4], /shape/],
    ['a shape that is not a list', [header({ dtype: 'float32', shape: 4, buffer: 1 }), f32x4], /shape/],
    ['truncated msgpack', [encodeFrames({ hello: 'world' })[0]!.subarray(0, 5)], /not valid msgpack/],
    ['a truncated string', [Buffer.from([0xa5, 0x61])], /not valid msgpack/],
    ['an unknown extension', [Buffer.from([0xd4])], /not valid msgpack/],
    ['trailing bytes after the header', [Buffer.from([0xc1, 0x00])], /not valid msgpack/],
    // msgpackr decodes a lone 0xc1 ("never used" in the msgpack spec) to a C1Type sentinel instead of throwing.
    ['the never-used marker 0xc1', [Buffer.from([0xc1])], /not a msgpack map/],
    // Every message is a map: a valid msgpack array or string is still not a message.
    ['a top-level array', [Buffer.from([0x92, 0x01, 0x02])], /not a msgpack map/],
    ['a bare string', [Buffer.from([0xa2, 0x68, 0x69])], /not a msgpack map/],
    ['plain text', [Buffer.from('{"type": "hello"}')], /not valid msgpack/],
    ['no header frame', [], /no header/],
  ])('%s', (_name, frames, message) => {
    expect(() => decodeFrames(frames)).toThrow(FrameError);
    expect(() => decodeFrames(frames)).toThrow(message);
  });

  // `in` on a plain object sees Object.prototype: "toString" and "constructor" must not pass as dtypes.
  it.each(['toString', 'constructor'])('dtype %s is unknown', (dtype) => {
    const frames = [header({ dtype, shape: [4], buffer: 1 }), f32x4];
    expect(() => decodeFrames(frames)).toThrow(FrameError);
    expect(() => decodeFrames(frames)).toThrow(/unknown dtype/);
  });
});
