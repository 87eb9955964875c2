// What a head predicts at each pixel, as one int32 per pixel: multiclass the argmax class id; binary 1
// where the logit is above 0 (sigmoid > 0.5), else 0; multilabel the labels whose logit is above 0,
// bit-packed (bit k = label k), as the masks hold them. And the matching confusion counter.
import * as tf from '@tensorflow/tfjs-core';

import type { HeadMode } from '../model/head_mode.js';
import { ConfusionMatrix, MultilabelConfusion } from './metrics.js';

/** logits [N,H,W,K] -> predicted ids or label bits [N,H,W] int32. */
export function predictedIds(logits: tf.Tensor4D, headMode: HeadMode): tf.Tensor3D {
  return tf.tidy(() => {
    if (headMode === 'multiclass') return tf.argMax(logits, 3) as tf.Tensor3D;
    const on = tf.cast(tf.greater(logits, 0), 'float32');
    if (headMode === 'binary') return tf.cast(tf.squeeze(on, [3]), 'int32') as tf.Tensor3D;
    const k = logits.shape[3];
    const weights = tf.tensor1d(Array.from({ length: k }, (_, b) => 2 ** b));
    return tf.cast(tf.sum(tf.mul(on, weights), 3), 'int32') as tf.Tensor3D;
  });
}

/** The confusion counter of a head: classes for multiclass/binary (binary: 2), labels for multilabel. */
export function confusionFor(headMode: HeadMode, classes: number): ConfusionMatrix | MultilabelConfusion {
  return headMode === 'multilabel' ? new MultilabelConfusion(classes) : new ConfusionMatrix(classes);
}

/** The class a mask value is drawn in: itself, or for multilabel label bits the lowest label (-1: none). */
export function shownClass(value: number, multilabel: boolean): number {
  return multilabel ? (value === 0 ? -1 : 31 - Math.clz32(value & -value)) : value;
}
