// Frame codec: a message becomes [msgpack header, raw buffer 1, raw buffer 2, ...]. Knows no message types.
import { Packr } from 'msgpackr';
import { DTYPES, NDARRAY_KEY, type Dtype } from './protocol.js';
import { NdArray } from './ndarray.js';
import { MessageTooLargeError } from '../errors.js';
import { maxMessageBytes } from './message-limit.js';

// One numeric policy on both sides (ARCHITECTURE.md): no records, 64-bit ints decode to number when safe.
// 'auto' exists at run time (number when safe, else BigInt) but is missing from msgpackr's type definitions.
const packr = new Packr({ useRecords: false, int64AsType: 'auto' as 'number', mapsAsObjects: true });

const INT32_LIMIT = 2 ** 31;
const INT64_LIMIT = 2 ** 63;

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Encode a message; NdArray values are moved out of the header into raw frames. A message over `maxBytes`
 * (all frames) is refused: the runtime's socket would drop the connection without a reply. */
export function encodeFrames(message: unknown, maxBytes = maxMessageBytes()): Buffer[] {
  const buffers: Buffer[] = [];
  const header = toWire(message, buffers);
  const frames = [packr.pack(header), ...buffers];
  const bytes = frames.reduce((sum, frame) => sum + frame.byteLength, 0);
  if (bytes > maxBytes) throw new MessageTooLargeError(bytes, maxBytes);
  return frames;
}

/** Decode frames; array descriptors are checked against their frames and become NdArray values. */
export function decodeFrames(frames: readonly Buffer[]): unknown {
  const [head, ...rest] = frames;
  if (!head) throw new FrameError('empty message: no header frame');
  let header: unknown;
  try {
    header = packr.unpack(head);
  } catch (err) {
    throw new FrameError(`header frame is not valid msgpack: ${(err as Error).message}`);
  }
  // Every message is a map; msgpackr decodes some invalid bytes (0xc1) to placeholder objects.
  if (header === null || typeof header !== 'object' || Object.getPrototypeOf(header) !== Object.prototype) {
    throw new FrameError('header frame is not a msgpack map');
  }
  return fromWire(header, rest);
}

function toWire(value: unknown, buffers: Buffer[]): unknown {
  if (value === undefined) return null;
  if (value instanceof NdArray) {
    const bytes = value.bytes();
    buffers.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { [NDARRAY_KEY]: { dtype: value.dtype, shape: [...value.shape], buffer: buffers.length } };
  }
  // msgpackr writes integers beyond 32 bits as float64; as BigInt they go out as int64 and stay integers
  // (every integer-valued double in int64 range, 2^53 included: it is exact, just not "safe").
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= INT32_LIMIT && value >= -INT64_LIMIT && value < INT64_LIMIT) {
    return BigInt(value);
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v, buffers));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v, buffers);
    return out;
  }
  return value;
}

function fromWire(value: unknown, buffers: readonly Buffer[]): unknown {
  if (Array.isArray(value)) return value.map((v) => fromWire(v, buffers));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const record = value as Record<string, unknown>;
    if (NDARRAY_KEY in record) return decodeArray(record[NDARRAY_KEY], buffers);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) out[k] = fromWire(v, buffers);
    return out;
  }
  return value;
}

function decodeArray(descriptor: unknown, buffers: readonly Buffer[]): NdArray {
  const d = descriptor as { dtype?: unknown; shape?: unknown; buffer?: unknown };
  if (typeof d?.dtype !== 'string' || !Object.hasOwn(DTYPES, d.dtype)) throw new FrameError(`array descriptor has unknown dtype ${String(d?.dtype)}`);
  if (!Array.isArray(d.shape) || !d.shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new FrameError('array descriptor shape must be a list of non-negative integers');
  }
  const frame = typeof d.buffer === 'number' ? buffers[d.buffer - 1] : undefined;
  if (!frame) throw new FrameError(`array descriptor points at missing frame ${String(d.buffer)}`);
  try {
    return NdArray.fromBytes(d.dtype as Dtype, d.shape as number[], frame);
  } catch (err) {
    throw new FrameError((err as Error).message);
  }
}
