// Select (tf.where; native/src/math/select.cc): y = condition ? t : e, for float32, int32 and bool
// values. tf.where broadcasts all three to one shape before the kernel, so the kernel sees a
// condition of t's shape; it also accepts the rank-1 condition over t's first axis that TF's
// Select allows, with TF's meaning (row i of y is row i of t or of e).
// Note: the TF.js CPU kernel fills row i with the single element t[i] in that rank-1 case (an
// upstream bug no TF.js op reaches); this kernel follows TF and the WebGL backend instead.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, sizeOf } from '../util.js';

import { allocate, denseAll } from './values.js';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const selectKernel = nativeKernel(tf.Select, 'math', ({ inputs }, native, backend) => {
  const { condition, t, e } = inputs;
  if (condition.dtype !== 'bool' || t.dtype !== e.dtype || !sameShape(t.shape, e.shape)) return null;
  let inner: number;
  if (sameShape(condition.shape, t.shape)) inner = 1;
  else if (condition.shape.length === 1 && t.shape.length > 1 && condition.shape[0] === t.shape[0]) inner = sizeOf(t.shape.slice(1));
  else return null;
  const values = denseAll(backend, condition, t, e);
  if (values === null) return null;
  const y = allocate(backend, t.shape, t.dtype);
  native[t.dtype === 'bool' ? 'select_1' : 'select_4'](values[0], values[1], values[2], y.values, inner);
  return y.info;
});
