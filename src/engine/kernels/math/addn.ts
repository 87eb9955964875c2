// AddN (native/src/math/addn.cc): the sum of tensors of one shape, float32 or int32 (TF.js uses it
// to add the gradients a tensor receives from several consumers).
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { allocate, denseAll, SUFFIX } from './values.js';

export const addNKernel = nativeKernel(tf.AddN, 'math', ({ inputs }, native, backend) => {
  const xs = Object.values(inputs);
  const dtype = xs[0]?.dtype;
  if (dtype === undefined || (dtype !== 'float32' && dtype !== 'int32') || xs.some((x) => x.dtype !== dtype)) return null;
  const values = denseAll(backend, ...xs);
  if (values === null) return null;
  const y = allocate(backend, xs[0].shape, dtype);
  native[`add_n_${SUFFIX[dtype]}`](values, y.values);
  return y.info;
});
