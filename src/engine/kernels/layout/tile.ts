// Tile: output axis i of size reps[i] * n[i] is read as two axes [rep, n]: the repeat walks x with
// stride 0, the inner part with x's stride. One strided copy (2 axes per axis of x) does the tiling.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';
import { copyRegion, movable, stridesOf, words, type Axis } from './strided.js';

export const tileKernel = nativeKernel(tf.Tile, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  const reps = attrs.reps as number[];
  if (!movable(x) || reps.length !== x.shape.length) return null;
  const outShape = x.shape.map((n, i) => n * reps[i]);
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(outShape);
  const out = output(backend, outShape, x.dtype);
  const axes: Axis[] = x.shape.flatMap((n, i) => [
    { n: reps[i], src: 0, dst: n * outStrides[i] },
    { n, src: xStrides[i], dst: outStrides[i] },
  ]);
  copyRegion(native, words(backend, x), out.values, 0, 0, axes);
  return out.info;
});
