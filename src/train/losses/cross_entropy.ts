// Softmax cross-entropy over pixels, through the engine's fused kernel, with optional class weights:
// `balanced` (median-frequency balancing, Eigen & Fergus 2015, from the training masks' class pixel
// counts; the data layer's classStats computes it) or an explicit list, one weight per class.
// The weighted loss is sum(w[y] * nll) / sum(w[y]), so only the ratios between weights matter.
import type * as tf from '@tensorflow/tfjs-core';

import { sparseSoftmaxCrossEntropy } from '../../engine/ops/sparse_softmax_cross_entropy.js';
import { invalidOption, OptionError } from '../../util/errors.js';

/** logits [N,H,W,K] float32, labels [N,H,W] int32 -> the (weighted) mean cross-entropy. */
export function crossEntropyLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, classWeights?: number[]): tf.Scalar {
  return sparseSoftmaxCrossEntropy(logits, labels, classWeights);
}

/** What `--class-weights` asks for: nothing, `balanced`, or explicit weights. */
export type ClassWeightsSpec = { kind: 'none' } | { kind: 'balanced' } | { kind: 'list'; weights: number[] };

export function parseClassWeights(text: string | undefined, classes: number): ClassWeightsSpec {
  if (text === undefined || text === '' || text === 'none') return { kind: 'none' };
  if (text === 'balanced') return { kind: 'balanced' };
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.some((w) => !Number.isFinite(w) || w < 0) || parts.every((w) => w === 0)) {
    throw invalidOption('classWeights', `balanced, none or a list of ${classes} weights >= 0 (not all 0) like 0.5,1,1`, text);
  }
  if (parts.length !== classes)
    throw new OptionError('classWeights', `lists ${parts.length} weights, the data has ${classes} classes (one weight per class id 0..${classes - 1})`);
  return { kind: 'list', weights: parts };
}

/** Median-frequency weights from per-class pixel counts: median(f) / f_c; classes without pixels get 0. */
export function balancedWeights(pixels: ArrayLike<number>): number[] {
  const total = Array.from(pixels).reduce((a, b) => a + b, 0);
  const shares = Array.from(pixels, (p) => (total > 0 ? p / total : 0));
  const present = shares.filter((f) => f > 0).sort((a, b) => a - b);
  if (present.length === 0) return shares.map(() => 1);
  const mid = present.length >> 1;
  const median = present.length % 2 ? present[mid]! : (present[mid - 1]! + present[mid]!) / 2;
  return shares.map((f) => (f > 0 ? median / f : 0));
}
