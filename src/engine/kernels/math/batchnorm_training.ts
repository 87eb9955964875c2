// Batch normalisation in training mode as two kernels (native/src/math/batchnorm_training.cc), native only
// (ops/batch_norm_training.ts uses them on `native` and leaves other backends to tfjs-layers' own path):
// - UnetBatchNormTrain: x[..., C], scale[C], offset[C] -> y (x's shape), mean[C], variance[C] (biased);
// - UnetBatchNormReluTrain: the same with a ReLU fused in (y = max(0, batch norm));
// - UnetBatchNormTrainGrad: dy, x, mean, variance, scale, dmean, dvariance, and y when a ReLU was fused in (dy is
//   masked by y > 0 first) -> dx, dscale[C], doffset[C].
// Both take float32 tensors whose last axis is the channel axis.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output, type Backend } from '../util.js';

export const BATCH_NORM_TRAIN = 'UnetBatchNormTrain';
export const BATCH_NORM_RELU_TRAIN = 'UnetBatchNormReluTrain';
export const BATCH_NORM_TRAIN_GRAD = 'UnetBatchNormTrainGrad';

function channels(x: tf.TensorInfo): number {
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || !(c > 0)) throw new Error(`${BATCH_NORM_TRAIN}: expected [..., C] with C > 0, got [${x.shape.join(', ')}]`);
  return c;
}

const optional = (backend: Backend, t: tf.TensorInfo | undefined) => (t ? f32(backend, t) : null);

const forward = (name: string, relu: boolean) =>
  nativeKernel(name, 'math', ({ inputs, attrs }, native, backend) => {
    const { x, scale, offset } = inputs;
    if (!allFloat32(x, ...[scale, offset].filter((t) => t !== undefined))) throw new Error(`${name}: float32 tensors only`);
    const c = channels(x);
    const y = output(backend, x.shape);
    const mean = output(backend, [c]);
    const variance = output(backend, [c]);
    native.batch_norm_train(
      f32(backend, x),
      optional(backend, scale),
      optional(backend, offset),
      attrs.varianceEpsilon as number,
      y.values,
      mean.values,
      variance.values,
      c,
      relu,
    );
    return [y.info, mean.info, variance.info];
  });

export const batchNormTrainingKernels = [
  forward(BATCH_NORM_TRAIN, false),
  forward(BATCH_NORM_RELU_TRAIN, true),
  nativeKernel(BATCH_NORM_TRAIN_GRAD, 'math', ({ inputs, attrs }, native, backend) => {
    const { dy, x, mean, variance, scale, dmean, dvariance, y } = inputs;
    const c = channels(x);
    const dx = output(backend, x.shape);
    const dscale = output(backend, [c]);
    const doffset = output(backend, [c]);
    native.batch_norm_train_grad(
      f32(backend, dy),
      f32(backend, x),
      f32(backend, mean),
      f32(backend, variance),
      optional(backend, scale),
      optional(backend, dmean),
      optional(backend, dvariance),
      attrs.varianceEpsilon as number,
      dx.values,
      dscale.values,
      doffset.values,
      c,
      optional(backend, y),
    );
    return [dx.info, dscale.info, doffset.info];
  }),
];
