// The training losses by name: `ce` (softmax cross-entropy, optionally class-weighted), `dice` (soft
// Dice), `ce+dice` (their sum, the usual combination for imbalanced segmentation). Sigmoid heads (binary,
// multilabel) take `bce`, `dice`, `bce+dice`; there `ce` means `bce` (the cross-entropy of that head).
import * as tf from '@tensorflow/tfjs-core';

import { linearSoftmaxCrossEntropy } from '../../engine/ops/linear_softmax_cross_entropy.js';
import type { HeadMode } from '../../model/head_mode.js';
import { invalidOption, OptionError } from '../../util/errors.js';
import { crossEntropyLoss } from './cross_entropy.js';
import { diceLoss } from './dice.js';
import { bceLoss, sigmoidDiceLoss } from './sigmoid.js';

export const LOSSES = ['ce', 'dice', 'ce+dice', 'bce', 'bce+dice'] as const;
export type LossName = (typeof LOSSES)[number];

export type LossFn = ((logits: tf.Tensor4D, labels: tf.Tensor3D) => tf.Scalar) & {
  /**
   * The same loss of the logits of a 1x1 linear convolution (kernel [1,1,C,K], bias [K]) given its input
   * features [N,H,W,C], fused with that layer (train/fused_logits.ts); absent when the loss has no fused form.
   */
  fromLinear?: (features: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, labels: tf.Tensor3D, reluFeatures?: boolean) => tf.Scalar;
};

export function parseLossName(text: string): LossName {
  if (!(LOSSES as readonly string[]).includes(text)) throw invalidOption('loss', `one of ${LOSSES.join(', ')}`, text);
  return text as LossName;
}

/**
 * The loss function; `classWeights` (one per class) weight the cross-entropy term of a multiclass head.
 * `headMode` (default multiclass) picks softmax or sigmoid losses.
 */
export function makeLoss(name: LossName, classWeights?: number[], headMode: HeadMode = 'multiclass'): LossFn {
  if (headMode !== 'multiclass') {
    if (classWeights)
      throw new OptionError(
        'classWeights',
        `apply to the softmax cross-entropy of a multiclass head; this head is ${headMode} (leave options.classWeights out)`,
      );
    switch (name) {
      case 'ce':
      case 'bce':
        return (logits, labels) => bceLoss(logits, labels);
      case 'dice':
        return (logits, labels) => sigmoidDiceLoss(logits, labels);
      default:
        return (logits, labels) => tf.tidy(() => tf.add(bceLoss(logits, labels), sigmoidDiceLoss(logits, labels)) as tf.Scalar);
    }
  }
  switch (name) {
    case 'bce':
    case 'bce+dice':
      throw new OptionError('loss', `${name} is for sigmoid heads (binary, multilabel); a multiclass head trains with ce, dice or ce+dice`);
    case 'ce':
      return Object.assign((logits: tf.Tensor4D, labels: tf.Tensor3D) => crossEntropyLoss(logits, labels, classWeights), {
        fromLinear: (features: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, labels: tf.Tensor3D, reluFeatures?: boolean) =>
          linearSoftmaxCrossEntropy(features, kernel, bias, labels, { classWeights, reluFeatures }),
      });
    case 'dice':
      return (logits, labels) => diceLoss(logits, labels);
    case 'ce+dice':
      return (logits, labels) => tf.tidy(() => tf.add(crossEntropyLoss(logits, labels, classWeights), diceLoss(logits, labels)) as tf.Scalar);
  }
}

export { balancedWeights, crossEntropyLoss, parseClassWeights, type ClassWeightsSpec } from './cross_entropy.js';
export { diceLoss } from './dice.js';
export { bceLoss, sigmoidDiceLoss, sigmoidTargets } from './sigmoid.js';
