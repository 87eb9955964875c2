// Slice: a box of x (begin, size per axis) copied out; contiguous runs become memcpy natively.
// Unlike the CPU kernel, a contiguous slice is copied rather than returned as a view of x's buffer,
// so that every native output owns its storage (a parallel memcpy; the CPU's view costs nothing).
import * as tf from '@tensorflow/tfjs-core';
import { slice_util } from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';
import { copyRegion, movable, stridesOf, words } from './strided.js';

export const sliceKernel = nativeKernel(tf.Slice, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  if (!movable(x)) return null;
  const [begin, size] = slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number | number[], attrs.size as number | number[]);
  slice_util.assertParamsValid(x as tf.Tensor, begin, size);
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(size);
  const out = output(backend, size, x.dtype);
  const offset = begin.reduce((sum, b, i) => sum + b * xStrides[i], 0);
  copyRegion(
    native,
    words(backend, x),
    out.values,
    offset,
    0,
    size.map((n, i) => ({ n, src: xStrides[i], dst: outStrides[i] })),
  );
  return out.info;
});
