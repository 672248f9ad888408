// An NdArray as plain JSON, for the controller's half of a checkpoint (op masks are small).
import { NdArray } from '../runtime/ndarray.js';
import type { Dtype } from '../runtime/protocol.js';

export interface JsonNdArray {
  dtype: Dtype;
  shape: number[];
  data: number[];
}

export const toJsonNdArray = (a: NdArray): JsonNdArray => ({ dtype: a.dtype, shape: [...a.shape], data: Array.from(a.data as ArrayLike<number>) });

export const fromJsonNdArray = (j: JsonNdArray): NdArray => NdArray.from(j.dtype, j.shape, j.data);
