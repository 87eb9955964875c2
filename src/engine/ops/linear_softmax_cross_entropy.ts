// linearSoftmaxCrossEntropy: the loss of a segmentation network's last layer, a 1x1 convolution without
// activation, computed from that layer's input. One kernel (UnetLinearSoftmaxXent) makes the loss and the
// gradients for the features, the kernel and the bias, so a training step neither stores the logits nor
// runs the convolution's three passes, the softmax and the bias sum apart (about 6 passes over a
// [pixels, classes] tensor). Equal, up to float rounding, to
// sparseSoftmaxCrossEntropy(conv2d(features, kernel) + bias, labels, classWeights).
import * as tf from '@tensorflow/tfjs-core';

import '../backend.js';
import { LINEAR_SOFTMAX_XENT } from '../kernels/train/linear_xent.js';
import { checkLabels, classWeightsTensor, seedScaled } from './loss_inputs.js';
import { markReluGradient } from './relu_grad_hint.js';

const OP = 'linearSoftmaxCrossEntropy';

export interface LinearXentOptions {
  classWeights?: tf.Tensor1D | number[];
  /**
   * The features are the output of a ReLU (e.g. a Conv2D with activation relu). The features' gradient is
   * then returned already multiplied by [features > 0], i.e. as the gradient at the ReLU's input, which is
   * exact for every use that goes back through that ReLU, and the producing conv_bias_relu op skips its own
   * ReLU + bias backward (relu_grad_hint.ts). Not for reading d loss / d features itself.
   */
  reluFeatures?: boolean;
}

/**
 * features [..., C] float32 (e.g. [N, H, W, C]), kernel [1, 1, C, K] float32, bias [K] or null, labels [...]
 * int32 (e.g. [N, H, W]), class weights [K] (optional). Differentiable with respect to the features, the
 * kernel and the bias.
 */
export function linearSoftmaxCrossEntropy(
  features: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | null,
  labels: tf.Tensor,
  options: LinearXentOptions = {},
): tf.Scalar {
  const C = features.shape[features.shape.length - 1]!;
  const K = kernel.shape[3]!;
  if (features.rank < 1 || features.dtype !== 'float32')
    throw new Error(`${OP}: features must be float32 [..., channels], got ${features.dtype} [${features.shape}]`);
  if (kernel.dtype !== 'float32' || kernel.rank !== 4 || kernel.shape[0] !== 1 || kernel.shape[1] !== 1 || kernel.shape[2] !== C) {
    throw new Error(`${OP}: the kernel must be float32 [1, 1, ${C}, classes] for features with ${C} channels, got ${kernel.dtype} [${kernel.shape}]`);
  }
  if (bias && (bias.dtype !== 'float32' || !tf.util.arraysEqual(bias.shape, [K])))
    throw new Error(`${OP}: the bias must be float32 [${K}], got ${bias.dtype} [${bias.shape}]`);
  checkLabels(OP, labels, features.shape.slice(0, -1), `features [${features.shape}]`);
  const relu = options.reluFeatures === true;
  return tf.tidy(() => {
    const weights = classWeightsTensor(OP, options.classWeights, K);
    const fixed: tf.NamedTensorMap = weights ? { labels, classWeights: weights } : { labels };
    const attrs = { reluFeatures: relu } as unknown as tf.NamedAttrMap;
    // The per-channel sums of the masked feature gradient (reluFeatures), read once from the kernel's output.
    let sums: Float32Array | null = null;
    const run = (inputs: tf.NamedTensorMap, save: tf.GradSaveFunc, keep: (grads: tf.Tensor[]) => tf.Tensor[]) => {
      const [value, ...rest] = tf.engine().runKernel(LINEAR_SOFTMAX_XENT, { ...fixed, ...inputs }, attrs) as tf.Tensor[];
      if (relu) {
        const dhSum = rest.pop()!;
        sums = dhSum.dataSync() as Float32Array;
        dhSum.dispose();
      }
      save(keep(rest));
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { grads, scale } = seedScaled(dy, saved);
        if (relu && sums && Number.isFinite(scale)) markReluGradient(grads[0]!, inputs.features as tf.Tensor, scale === 1 ? sums : sums.map((v) => v * scale));
        return grads;
      };
      return { value: value!, gradFunc };
    };
    // Labels and weights are closed over: only features, kernel and bias get gradients.
    const withBias = (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => run({ features: h, kernel: w, bias: b }, save, (g) => g);
    const noBias = (h: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) =>
      run({ features: h, kernel: w }, save, ([dh, dw, db]) => {
        db!.dispose();
        return [dh!, dw!];
      });
    const loss = bias
      ? tf.customGrad(withBias as Parameters<typeof tf.customGrad>[0])(features, kernel, bias)
      : tf.customGrad(noBias as Parameters<typeof tf.customGrad>[0])(features, kernel);
    return loss as tf.Scalar;
  });
}
