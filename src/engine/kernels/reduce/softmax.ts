// Softmax of float32 logits over the last axis (native/src/reduce/softmax.cc), in one pass per
// row instead of the CPU kernel's Max, Sub, Exp, Sum and Div over the whole tensor.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output } from '../util.js';

export const softmaxKernelConfig = nativeKernel(tf.Softmax, 'reduce', ({ inputs, attrs }, native, backend) => {
  const { logits } = inputs;
  const rank = logits.shape.length;
  // Only the last axis, like the CPU kernel (which throws for any other).
  if (!allFloat32(logits) || rank === 0 || (attrs.dim !== -1 && attrs.dim !== rank - 1)) return null;
  if (logits.shape.some((d) => d === 0)) return null;
  const y = output(backend, logits.shape);
  native.softmax(f32(backend, logits), y.values, logits.shape[rank - 1]);
  return y.info;
});
