// Cumsum of float32 along one axis (native/src/reduce/cumsum.cc), without the CPU kernel's
// transposes to and from the innermost axis.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output } from '../util.js';
import { aroundAxis, reducedAxes } from './axes.js';

export const cumsumKernelConfig = nativeKernel(tf.Cumsum, 'reduce', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  if (!allFloat32(x) || x.shape.length === 0 || x.shape.some((d) => d === 0)) return null;
  const [axis] = reducedAxes(attrs.axis as number, x.shape);
  const { outer, n, inner } = aroundAxis(x.shape, axis);
  const y = output(backend, x.shape);
  native.cumsum(f32(backend, x), y.values, outer, n, inner, Boolean(attrs.exclusive), Boolean(attrs.reverse));
  return y.info;
});
