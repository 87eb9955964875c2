// sparseSoftmaxCrossEntropy: the segmentation loss, fused. One kernel (UnetSparseSoftmaxXent)
// computes the mean loss and d loss / d logits together, so the backward pass is at most one multiply
// instead of TF.js's softmax / one-hot / log / mean chain and its gradients.
import * as tf from '@tensorflow/tfjs-core';

import '../backend.js';
import { SPARSE_SOFTMAX_XENT } from '../kernels/train/sparse_xent.js';
import { checkLabels, classWeightsTensor, seedScaled } from './loss_inputs.js';

const OP = 'sparseSoftmaxCrossEntropy';

/**
 * The mean softmax cross-entropy of `logits` [..., K] (e.g. [N, H, W, K]) against integer class
 * `labels` [...] (e.g. [N, H, W], int32). With `classWeights` [K] it is the weighted mean
 * sum(w[y] * nll) / sum(w[y]) (PyTorch's CrossEntropyLoss(weight=...)). A label outside [0, K)
 * is an error that names it. Differentiable with respect to the logits.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, classWeights?: tf.Tensor1D | number[]): tf.Scalar {
  const K = logits.shape[logits.shape.length - 1];
  if (logits.rank < 1 || logits.dtype !== 'float32') {
    throw new Error(`${OP}: logits must be float32 [..., classes], got ${logits.dtype} [${logits.shape}]`);
  }
  checkLabels(OP, labels, logits.shape.slice(0, -1), `logits [${logits.shape}]`);
  return tf.tidy(() => {
    const weights = classWeightsTensor(OP, classWeights, K);
    const inputs: tf.NamedTensorMap = weights ? { logits, labels, classWeights: weights } : { logits, labels };
    // Labels and weights are closed over: only the logits get a gradient.
    const loss = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const [value, dlogits] = tf.engine().runKernel(SPARSE_SOFTMAX_XENT, { ...inputs, logits: x }, {}) as tf.Tensor[];
      save([dlogits]);
      return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => seedScaled(dy, saved).grads[0]! };
    }) as Parameters<typeof tf.customGrad>[0]);
    return loss(logits) as tf.Scalar;
  });
}
