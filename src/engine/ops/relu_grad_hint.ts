// A gradient that has already been through a ReLU's backward pass. The fused loss
// (linear_softmax_cross_entropy.ts) can mask its feature gradient with [features > 0] and sum it per channel
// in the same pass when the features are a ReLU's output; it marks the gradient, and the gradient of the op
// that made the features (conv_bias_relu.ts) then takes the gradient and the bias sum as they are instead of
// running its ReLU + bias backward kernel: one memory-bound pass less per training step.
//
// The mark is keyed by the data of the gradient tensor, so it is found only when that exact tensor reaches
// the ReLU (one consumer, no gradient added to it); otherwise the ReLU backward runs as usual, which is still
// exact because masking twice is masking once.
import type * as tf from '@tensorflow/tfjs-core';

const marks = new WeakMap<object, { output: object; biasGrad: Float32Array }>();

/** Marks `grad` as the gradient at the input of the ReLU that produced `reluOutput`, with its per-channel sums. */
export function markReluGradient(grad: tf.Tensor, reluOutput: tf.Tensor, biasGrad: Float32Array): void {
  marks.set(grad.dataId, { output: reluOutput.dataId, biasGrad });
}

/** The per-channel sums of `dy` when it was marked for the ReLU whose output is `y`; else null. */
export function reluGradientSums(dy: tf.Tensor, y: tf.Tensor): Float32Array | null {
  const m = marks.get(dy.dataId);
  return m && m.output === y.dataId ? m.biasGrad : null;
}
