// What the two fused cross-entropy ops share: checks of the labels and class weights, and the scaling of
// their saved gradients by the backward pass's seed.
import * as tf from '@tensorflow/tfjs-core';

/** Throws unless `labels` is int32 with `shape` (the scores' shape without the class axis). */
export function checkLabels(op: string, labels: tf.Tensor, shape: number[], scores: string): void {
  if (labels.dtype !== 'int32' || !tf.util.arraysEqual(labels.shape, shape)) {
    throw new Error(`${op}: labels must be int32 [${shape}] for ${scores}, got ${labels.dtype} [${labels.shape}]`);
  }
}

/** The class weights as a float32 [K] tensor (made in the caller's tidy scope), or undefined. */
export function classWeightsTensor(op: string, classWeights: tf.Tensor1D | number[] | undefined, K: number): tf.Tensor1D | undefined {
  const weights = classWeights === undefined ? undefined : Array.isArray(classWeights) ? tf.tensor1d(classWeights, 'float32') : classWeights;
  if (weights && (weights.dtype !== 'float32' || !tf.util.arraysEqual(weights.shape, [K]))) {
    throw new Error(`${op}: classWeights must be float32 [${K}], got ${weights.dtype} [${weights.shape}]`);
  }
  return weights;
}

/**
 * The saved gradients times the backward pass's seed `dy` (a scalar: the loss is one). The seed is 1 when
 * the loss is used as it is, and then the saved gradients are the answer: no pass over them. Also returns
 * the seed's value (NaN when dy is not a scalar).
 */
export function seedScaled(dy: tf.Tensor, saved: tf.Tensor[]): { grads: tf.Tensor[]; scale: number } {
  const scale = dy.size === 1 ? dy.dataSync()[0]! : NaN;
  return { grads: scale === 1 ? saved.map((g) => tf.clone(g)) : saved.map((g) => tf.mul(dy, g)), scale };
}
