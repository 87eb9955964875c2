// FusedBatchNorm (tf.batchNorm; native/src/math/batchnorm.cc), used by BatchNormalization layers
// in training (batch moments of shape [C]) and inference (moving moments, [C] or [1,1,1,C]).
// Like the CPU kernel, each parameter is read cyclically by its own length; natively when all
// parameter lengths divide a common period C (the largest of them) that divides x's size.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { allocate, denseAll } from './values.js';

export const batchNormKernel = nativeKernel(tf.FusedBatchNorm, 'math', ({ inputs, attrs }, native, backend) => {
  const { x, mean, variance, offset, scale } = inputs;
  const params = [mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t != null);
  if (x.dtype !== 'float32' || params.some((t) => t.dtype !== 'float32')) return null;
  const values = denseAll(backend, x, ...params);
  if (values === null) return null;
  const [xs, ms, vs] = values;
  let k = 3;
  const os = offset != null ? values[k++] : null;
  const ss = scale != null ? values[k++] : null;
  const lengths = values.slice(1).map((v) => v.length);
  const period = Math.max(...lengths);
  if (period === 0 || xs.length % period !== 0 || lengths.some((n) => period % n !== 0)) return null;
  const epsilon = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const y = allocate(backend, x.shape, 'float32');
  native.batch_norm(xs, ms, vs, os, ss, epsilon, y.values, period);
  return y.info;
});
