// batchNormTraining(x, scale, offset, epsilon) = [y, mean, variance]: tfjs-layers' normalizeBatchInTraining
// (tf.moments over every axis but the last, then tf.batchNorm) as one native op with a one-kernel gradient.
//
// Why: TF.js computes the moments and the normalisation in five kernels and back-propagates through about
// twenty-five (FusedBatchNorm's gradient tiles, multiplies and sums; the moments' gradients add Mean, Square and
// Sub gradients), all memory-bound passes over the activation; a MobileNetV2 or ResNet U-Net has a batch norm
// after every convolution. Here the forward pass is two sweeps and the backward pass two (the per-channel sums,
// then dx), with dscale and doffset from the same sums. Native only: fused_batchnorm_layer.ts takes this path on
// `native` and leaves every other backend to tfjs-layers' own code.
import * as tf from '@tensorflow/tfjs-core';

import { BATCH_NORM_RELU_TRAIN, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../kernels/math/batchnorm_training.js';

/**
 * x[..., C] float32, scale and offset [C]; returns y (x's shape), the batch mean [C] and (biased) variance [C].
 * reluCap: a following ReLU fused in, y = min(reluCap, max(0, batch norm)) (Infinity: a plain ReLU; one sweep less
 * forward and backward, the gradient masks dy by y > 0, and y < reluCap when finite, inside the batch norm's own
 * sweeps); null: none.
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor1D | null,
  offset: tf.Tensor1D | null,
  epsilon: number,
  reluCap: number | null = null,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  const inputs: tf.NamedTensorMap = { x };
  if (scale) inputs.scale = scale;
  if (offset) inputs.offset = offset;
  const attrs: tf.NamedAttrMap = { varianceEpsilon: epsilon };
  if (reluCap !== null && Number.isFinite(reluCap)) attrs.reluCap = reluCap;
  return tf.engine().runKernel(reluCap !== null ? BATCH_NORM_RELU_TRAIN : BATCH_NORM_TRAIN, inputs, attrs) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
}

// saved: the inputs named in inputsToSave that were given (scale is optional), then the outputs saved (y with a
// fused ReLU, then mean and variance).
function gradient(relu: boolean): tf.GradConfig['gradFunc'] {
  return (dys, saved, attrs) => {
    // dys: the gradients of y, mean and variance (TF.js passes zeros for outputs the loss does not reach).
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const outputs = relu ? 3 : 2;
    const x = saved[0];
    const scale = saved.length === outputs + 2 ? saved[1] : undefined;
    const [mean, variance] = saved.slice(-2);
    const inputs: tf.NamedTensorMap = { dy, x, mean, variance, dmean, dvariance };
    if (scale) inputs.scale = scale;
    if (relu) inputs.y = saved[saved.length - 3];
    const [dx, dscale, doffset] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, inputs, attrs) as tf.Tensor[];
    // Clones: the tape disposes what it is given back separately from what this function made.
    return { x: () => tf.clone(dx), scale: () => tf.clone(dscale), offset: () => tf.clone(doffset) };
  };
}

tf.registerGradient({ kernelName: BATCH_NORM_TRAIN, inputsToSave: ['x', 'scale'], outputsToSave: [false, true, true], gradFunc: gradient(false) });
tf.registerGradient({
  kernelName: BATCH_NORM_RELU_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [true, true, true],
  gradFunc: gradient(true),
});
