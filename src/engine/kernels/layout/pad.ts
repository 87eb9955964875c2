// PadV2 with a constant: the output is filled with the constant (zeroed by the pool when it is 0),
// then x is copied into the interior box that starts at the `before` paddings.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';
import { copyRegion, intoStrides, movable, stridesOf, words } from './strided.js';

export const padV2Kernel = nativeKernel(tf.PadV2, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  const paddings = attrs.paddings as [number, number][];
  const constantValue = attrs.constantValue as number;
  if (!movable(x) || paddings.length !== x.shape.length || paddings.some(([a, b]) => a < 0 || b < 0)) return null;
  const outShape = paddings.map(([before, after], i) => before + x.shape[i] + after);
  const outStrides = stridesOf(outShape);
  const out = output(backend, outShape, x.dtype, constantValue === 0);
  if (constantValue !== 0) native.fill(out.values, constantValue);
  const offset = paddings.reduce((sum, [before], i) => sum + before * outStrides[i], 0);
  copyRegion(native, words(backend, x), out.values, 0, offset, intoStrides(x.shape, outStrides));
  return out.info;
});
