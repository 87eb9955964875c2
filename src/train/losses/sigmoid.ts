// The losses of sigmoid heads (binary: one channel; multilabel: K channels, masks bit-packed, bit k =
// label k): binary cross-entropy of the logits, in the stable form max(x, 0) - x*y + log(1 + exp(-|x|)),
// averaged over pixels and channels; soft Dice of each channel's sigmoid against its 0/1 target, averaged
// over channels; and their sum. Built from plain TF.js ops (no fused kernel: that is softmax-only).
import * as tf from '@tensorflow/tfjs-core';

const EPS = 1;

/**
 * Per-channel 0/1 targets [N,H,W,K] of masks [N,H,W]: for K = 1 the mask itself (0/1), for K > 1 bit k of
 * the mask value, computed as floor(m / 2^k) - 2 floor(m / 2^(k+1)) in float32 (exact below 2^24).
 */
export function sigmoidTargets(labels: tf.Tensor3D, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.cast(labels, 'float32');
    if (channels === 1) return tf.expandDims(tf.minimum(m, 1), 3) as tf.Tensor4D;
    const bits: tf.Tensor[] = [];
    for (let k = 0; k < channels; k++) bits.push(tf.sub(tf.floor(tf.div(m, 2 ** k)), tf.mul(tf.floor(tf.div(m, 2 ** (k + 1))), 2)));
    return tf.stack(bits, 3) as tf.Tensor4D;
  });
}

/** logits [N,H,W,K], labels [N,H,W] -> mean binary cross-entropy. */
export function bceLoss(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const y = sigmoidTargets(labels, logits.shape[3]);
    const loss = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(loss) as tf.Scalar;
  });
}

/** logits [N,H,W,K], labels [N,H,W] -> 1 - mean over channels of the soft Dice of sigmoid(logits). */
export function sigmoidDiceLoss(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[3];
    const p = tf.reshape(tf.sigmoid(logits), [-1, k]);
    const y = tf.reshape(sigmoidTargets(labels, k), [-1, k]);
    const dice = tf.div(tf.add(tf.mul(tf.sum(tf.mul(p, y), 0), 2), EPS), tf.add(tf.add(tf.sum(p, 0), tf.sum(y, 0)), EPS));
    return tf.sub(1, tf.mean(dice)) as tf.Scalar;
  });
}
