// Concat and SplitV (its gradient): NHWC skip concatenations along channels, or any axis. Viewed as
// matrices split at `axis`, the whole is [outer, W] and each part a block of columns [outer, w_i]:
// native/src/layout/concat.cc fills or reads each row of the whole in one pass.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import { nativeKernel, output, sizeOf } from '../util.js';
import { movable, words } from './strided.js';

export const concatKernel = nativeKernel(tf.Concat, 'layout', ({ inputs, attrs }, native, backend) => {
  // Concat's inputs arrive as an array of tensors.
  const all = Object.values(inputs);
  if (all.length === 0 || !movable(...all)) return null;
  const axis = util.parseAxisParam(attrs.axis as number, all[0].shape)[0];
  backend_util.assertParamsConsistent(
    all.map((t) => t.shape),
    axis,
  );
  const outShape = backend_util.computeOutShape(
    all.map((t) => t.shape),
    axis,
  );
  if (sizeOf(outShape) === 0) return null;
  const out = output(backend, outShape, all[0].dtype);
  const outer = sizeOf(outShape.slice(0, axis));
  native.concat(
    all.map((t) => words(backend, t)),
    out.values,
    outer,
    all.map((t) => sizeOf(t.shape.slice(axis))),
  );
  return out.info;
});

export const splitVKernel = nativeKernel(tf.SplitV, 'layout', ({ inputs, attrs }, native, backend) => {
  const { x } = inputs;
  if (!movable(x)) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
  const outs = sizes.map((size) => {
    const shape = x.shape.slice();
    shape[axis] = size;
    return output(backend, shape, x.dtype);
  });
  const step = sizeOf(x.shape.slice(axis + 1));
  native.split(
    words(backend, x),
    outs.map((o) => o.values),
    sizeOf(x.shape.slice(0, axis)),
    sizes.map((size) => size * step),
  );
  return outs.map((o) => o.info);
});
