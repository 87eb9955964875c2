// Reverse (flips for augmentation): a reversed axis reads x from its last index with a negative
// stride; rows that stay in order remain memcpy runs natively.
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';
import { copyRegion, movable, stridesOf, words } from './strided.js';

export const reverseKernel = nativeKernel(tf.Reverse, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  if (!movable(x)) return null;
  const dims = new Set(util.parseAxisParam(attrs.dims as number | number[], x.shape));
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(x.shape);
  const out = output(backend, x.shape, x.dtype);
  let offset = 0;
  const axes = x.shape.map((n, i) => {
    if (!dims.has(i)) return { n, src: xStrides[i], dst: outStrides[i] };
    offset += (n - 1) * xStrides[i];
    return { n, src: -xStrides[i], dst: outStrides[i] };
  });
  copyRegion(native, words(backend, x), out.values, offset, 0, axes);
  return out.info;
});
