// Soft Dice loss (Milletari et al. 2016): 1 - mean over classes of (2 sum(p*y) + eps) / (sum(p) + sum(y) + eps),
// with p = softmax(logits) and y = one-hot truth, summed over the batch and all pixels. Classes absent from
// both truth and prediction give a ratio near 1, so they do not pull the mean down.
import * as tf from '@tensorflow/tfjs-core';

const EPS = 1;

/** logits [N,H,W,K] float32, labels [N,H,W] int32 -> scalar loss. */
export function diceLoss(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[3];
    const p = tf.reshape(tf.softmax(logits), [-1, k]);
    const y = tf.cast(tf.oneHot(tf.reshape(labels, [-1]), k), 'float32');
    const intersection = tf.sum(tf.mul(p, y), 0);
    const denominator = tf.add(tf.sum(p, 0), tf.sum(y, 0));
    const dice = tf.div(tf.add(tf.mul(intersection, 2), EPS), tf.add(denominator, EPS));
    return tf.sub(1, tf.mean(dice)) as tf.Scalar;
  });
}
