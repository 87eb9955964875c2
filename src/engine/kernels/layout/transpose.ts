// Transpose, any permutation: output axis i walks x with x's stride of axis perm[i]. Natively, axes
// that stay neighbours merge, and moving x's last axis runs as cache-sized 2-D tile transposes.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';
import { copyRegion, movable, stridesOf, words } from './strided.js';

export const transposeKernel = nativeKernel(tf.Transpose, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  const perm = attrs.perm as number[];
  if (!movable(x) || perm.length !== x.shape.length) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(outShape);
  const out = output(backend, outShape, x.dtype);
  copyRegion(
    native,
    words(backend, x),
    out.values,
    0,
    0,
    perm.map((p, i) => ({ n: outShape[i], src: xStrides[p], dst: outStrides[i] })),
  );
  return out.info;
});
