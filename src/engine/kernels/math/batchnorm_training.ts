// Batch normalisation in training mode as two kernels (native/src/math/batchnorm_training.cc), native only
// (ops/batch_norm_training.ts uses them on `native` and leaves other backends to tfjs-layers' own path):
// - UnetBatchNormTrain: x[..., C], scale[C], offset[C] -> y (x's shape), mean[C], variance[C] (biased);
// - UnetBatchNormReluTrain: the same with a ReLU fused in (y = max(0, batch norm)); attrs.reluCap (ReLU6: 6) caps
//   it too (y = min(cap, max(0, batch norm)));
// - UnetBatchNormTrainGrad: dy, x, mean, variance, scale, dmean, dvariance, and y when a ReLU was fused in (dy is
//   masked by y > 0 first, by 0 < y < reluCap with a cap) -> dx, dscale[C], doffset[C].
// - UnetMovingAverages: movingMean, movingVariance, mean, variance [C] -> the updated moving mean and variance
//   (tfjs-layers' doMovingAverage, m - (m - value) * (1 - momentum), with float32 rounding at each step as its three
//   kernels round). One kernel without a gradient instead of six with one: the six were recorded on the training
//   step's tape and cloned their inputs for it, ~830 kernel calls a resnet34 step for statistics no loss depends on.
// All take float32 tensors whose last axis is the channel axis.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output, sizeOf, type Backend } from '../util.js';

export const BATCH_NORM_TRAIN = 'UnetBatchNormTrain';
export const BATCH_NORM_RELU_TRAIN = 'UnetBatchNormReluTrain';
export const BATCH_NORM_TRAIN_GRAD = 'UnetBatchNormTrainGrad';
export const MOVING_AVERAGES = 'UnetMovingAverages';

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
      (attrs.reluCap as number | undefined) ?? null,
    );
    return [y.info, mean.info, variance.info];
  });

const movingAveragesKernel = nativeKernel(MOVING_AVERAGES, 'math', ({ inputs, attrs }, native, backend) => {
  const { movingMean, movingVariance, mean, variance } = inputs;
  const c = movingMean.shape[0];
  if (!allFloat32(movingMean, movingVariance, mean, variance) || [movingVariance, mean, variance].some((t) => sizeOf(t.shape) !== c)) {
    throw new Error(`${MOVING_AVERAGES}: expected four float32 tensors of ${c} values`);
  }
  const newMean = output(backend, [c]);
  const newVariance = output(backend, [c]);
  // The decay as tf.mul(t, 1 - momentum) reads it: a float32 scalar.
  const decay = Math.fround(1 - (attrs.momentum as number));
  native.moving_averages(
    f32(backend, movingMean),
    f32(backend, movingVariance),
    f32(backend, mean),
    f32(backend, variance),
    decay,
    newMean.values,
    newVariance.values,
  );
  return [newMean.info, newVariance.info];
});

export const batchNormTrainingKernels = [
  movingAveragesKernel,
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
      (attrs.reluCap as number | undefined) ?? null,
    );
    return [dx.info, dscale.info, doffset.info];
  }),
];
