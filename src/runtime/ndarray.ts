// A typed, shaped array that travels as a raw frame beside the msgpack header (never inside it).
import type { Dtype } from './protocol.js';

export type TypedArray = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

const CONSTRUCTORS = {
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export class NdArray {
  constructor(
    readonly dtype: Dtype,
    readonly shape: readonly number[],
    readonly data: TypedArray,
  ) {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new RangeError(`NdArray: shape [${shape.join(', ')}] needs ${expected} elements, got ${data.length}`);
    }
  }

  get size(): number {
    return this.data.length;
  }

  /** Element at a multi-index (row-major). */
  at(...index: number[]): number {
    let flat = 0;
    for (let i = 0; i < this.shape.length; i++) flat = flat * (this.shape[i] ?? 1) + (index[i] ?? 0);
    return Number(this.data[flat]);
  }

  /** Bytes of the data, without copying. */
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  /**
   * View raw bytes as an array of `dtype`. A frame can start at any byte offset; a typed view needs an
   * offset aligned to its element size, so a misaligned buffer is copied once.
   */
  static fromBytes(dtype: Dtype, shape: readonly number[], bytes: Uint8Array): NdArray {
    const Ctor = CONSTRUCTORS[dtype];
    const count = shape.reduce((a, b) => a * b, 1);
    if (bytes.byteLength !== count * Ctor.BYTES_PER_ELEMENT) {
      throw new RangeError(
        `array header says ${dtype}[${shape.join(', ')}] (${count * Ctor.BYTES_PER_ELEMENT} bytes), frame has ${bytes.byteLength}`,
      );
    }
    const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
    return new NdArray(dtype, shape, new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, count));
  }

  static from(dtype: Dtype, shape: readonly number[], values: ArrayLike<number>): NdArray {
    const Ctor = CONSTRUCTORS[dtype];
    const data =
      Ctor === BigInt64Array ? BigInt64Array.from(Array.from(values, (v) => BigInt(v))) : (Ctor as typeof Float64Array).from(values);
    return new NdArray(dtype, shape, data);
  }
}
