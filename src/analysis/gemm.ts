// Matrix products through convolution kernels. The native engine accelerates convolutions (oneDNN) but
// not MatMul, whose CPU-backend kernel is plain JavaScript; a 1x1 convolution's backward passes are the
// two transposed matrix products the analyses need, without a transpose of the (large) operands:
//   Conv2DBackpropInput  with dy = A [a, k] and filter = B [b, k] gives A B^T  [a, b]  (sample Grams),
//   Conv2DBackpropFilter with x  = A [k, a] and dy     = B [k, b] gives A^T B [a, b]  (kernel Grams).
import * as tf from '@tensorflow/tfjs-core';

/** A B^T for A [a, k], B [b, k]. */
export function matMulNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[1]) throw new Error(`matMulNT: inner sizes ${a.shape[1]} and ${b.shape[1]} differ`);
  return tf.tidy(() => {
    const dy = tf.reshape(a, [1, 1, a.shape[0], a.shape[1]]) as tf.Tensor4D;
    const filter = tf.reshape(b, [1, 1, b.shape[0], b.shape[1]]) as tf.Tensor4D;
    return tf.reshape(tf.conv2dTranspose(dy, filter, [1, 1, a.shape[0], b.shape[0]], 1, 'valid'), [a.shape[0], b.shape[0]]) as tf.Tensor2D;
  });
}

/** A^T B for A [k, a], B [k, b]. */
export function matMulTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[0] !== b.shape[0]) throw new Error(`matMulTN: inner sizes ${a.shape[0]} and ${b.shape[0]} differ`);
  return tf.tidy(() => {
    const x = tf.reshape(a, [1, 1, a.shape[0], a.shape[1]]);
    const dy = tf.reshape(b, [1, 1, b.shape[0], b.shape[1]]);
    // Conv2DBackpropFilter has no public op in tfjs-core; the kernel is registered by every backend.
    const w = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: 1,
      pad: 'valid',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      filterShape: [1, 1, a.shape[1], b.shape[1]],
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return tf.reshape(w, [a.shape[1], b.shape[1]]) as tf.Tensor2D;
  });
}
