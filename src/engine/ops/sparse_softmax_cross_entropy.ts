// sparseSoftmaxCrossEntropy: the segmentation loss, fused. One kernel (UnetSparseSoftmaxXent)
// computes the mean loss and d loss / d logits together, so the backward pass is at most one multiply
// instead of TF.js's softmax / one-hot / log / mean chain and its gradients.
import * as tf from '@tensorflow/tfjs-core';

import '../backend.js';
import { SPARSE_SOFTMAX_XENT } from '../kernels/train/sparse_xent.js';

/**
 * The mean softmax cross-entropy of `logits` [..., K] (e.g. [N, H, W, K]) against integer class
 * `labels` [...] (e.g. [N, H, W], int32). With `classWeights` [K] it is the weighted mean
 * sum(w[y] * nll) / sum(w[y]) (PyTorch's CrossEntropyLoss(weight=...)). A label outside [0, K)
 * is an error that names it. Differentiable with respect to the logits.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, classWeights?: tf.Tensor1D | number[]): tf.Scalar {
  const K = logits.shape[logits.shape.length - 1];
  if (logits.rank < 1 || logits.dtype !== 'float32') {
    throw new Error(`sparseSoftmaxCrossEntropy: logits must be float32 [..., classes], got ${logits.dtype} [${logits.shape}]`);
  }
  const labelShape = logits.shape.slice(0, -1);
  if (labels.dtype !== 'int32' || !tf.util.arraysEqual(labels.shape, labelShape)) {
    throw new Error(`sparseSoftmaxCrossEntropy: labels must be int32 [${labelShape}] for logits [${logits.shape}], got ${labels.dtype} [${labels.shape}]`);
  }
  return tf.tidy(() => {
    const weights = classWeights === undefined ? undefined : Array.isArray(classWeights) ? tf.tensor1d(classWeights, 'float32') : classWeights;
    if (weights && (weights.dtype !== 'float32' || !tf.util.arraysEqual(weights.shape, [K]))) {
      throw new Error(`sparseSoftmaxCrossEntropy: classWeights must be float32 [${K}], got ${weights.dtype} [${weights.shape}]`);
    }
    const inputs: tf.NamedTensorMap = weights ? { logits, labels, classWeights: weights } : { logits, labels };
    // Labels and weights are closed over: only the logits get a gradient.
    const loss = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const [value, dlogits] = tf.engine().runKernel(SPARSE_SOFTMAX_XENT, { ...inputs, logits: x }, {}) as tf.Tensor[];
      save([dlogits]);
      // dy is the scalar seed of the backward pass, 1 when the loss is used as it is: then the saved
      // gradient is the answer, and a pass over [rows, K] multiplying by one is saved.
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => (dy.size === 1 && dy.dataSync()[0] === 1 ? tf.clone(saved[0]!) : tf.mul(dy, saved[0]!));
      return { value, gradFunc };
    }) as Parameters<typeof tf.customGrad>[0]);
    return loss(logits) as tf.Scalar;
  });
}
