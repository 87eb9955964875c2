// Cast between float32, int32 and bool (native/src/math/cast.cc). Unlike the CPU kernel, a
// widening cast (int32 -> float32, bool -> float32 or int32) writes a new buffer of the target
// kind instead of sharing the input's, so that later native kernels can read it (values.ts).
// A cast to the same dtype stays with the CPU kernel (it shares the buffer, which is right there).
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { allocate, dense, SUFFIX } from './values.js';

export const castKernel = nativeKernel(tf.Cast, 'math', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  const to = attrs.dtype as tf.DataType;
  const from = SUFFIX[x.dtype];
  const into = SUFFIX[to];
  if (from === undefined || into === undefined || x.dtype === to) return null;
  const xs = dense(backend, x);
  if (xs === null) return null;
  const y = allocate(backend, x.shape, to);
  native[`cast_${from}_${into}`](xs, y.values);
  return y.info;
});
