// Axis bookkeeping shared by the reduce kernels: TF.js attributes -> normalised axes, output
// shapes, and the [outer, n, inner] view of one axis (the native kernels never transpose).
import { util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';

import { sizeOf, type Backend } from '../util.js';

/** The reduced axes, normalised to [0, rank) and sorted (TF.js accepts negatives and any order). */
export function reducedAxes(axis: number | number[] | null | undefined, shape: number[]): number[] {
  return [...new Set(util.parseAxisParam(axis ?? null!, shape))].sort((a, b) => a - b);
}

/** The output shape of a reduction: reduced axes dropped, or kept as 1 with keepDims. */
export function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** The shape viewed as [outer, n, inner] around one axis. */
export function aroundAxis(shape: number[], axis: number): { outer: number; n: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** A new tensor of any dtype (util.ts's `output` covers float32 and int32 only). */
export function typedOutput<T extends Float32Array | Int32Array | Uint8Array>(
  backend: Backend,
  shape: number[],
  dtype: DataType,
): { info: TensorInfo; values: T } {
  const values = util.getTypedArrayFromDType(dtype as 'float32', sizeOf(shape)) as unknown as T;
  return { info: backend.makeTensorInfo(shape, dtype, values), values };
}
