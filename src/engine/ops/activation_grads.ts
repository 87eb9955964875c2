// ReLU, ReLU6 and ClipByValue back-propagate through one native kernel each on `native` (kernels/math/activation_grads.ts)
// instead of TF.js's 4-5 (MobileNetV2 has a ReLU6 after nearly every convolution: Keras' ReLU(6.) layer is a
// ClipByValue, Activation('relu6') a Relu6; ResNet a ReLU after every batch norm). Same values as TF.js's gradients; on other backends, or for
// tensors the kernels do not take, TF.js's own gradient functions run unchanged.
import * as tf from '@tensorflow/tfjs-core';
// The gradients to wrap are registered by tfjs-layers' bundle (tfjs-core's Node bundle registers none).
import '@tensorflow/tfjs-layers';

import { NATIVE, nativeKernelNames } from '../backend.js';
import { CLIP_GRAD, RELU6_GRAD, RELU_GRAD } from '../kernels/math/activation_grads.js';

/** Replaces kernelName's gradient by `kernel` on `native` for float32 tensors, keeping TF.js's elsewhere. */
function nativeGradient(kernelName: string, kernel: string): void {
  const original = tf.getGradient(kernelName);
  if (!original || !nativeKernelNames.has(kernel) || (original as { __unetNative?: boolean }).__unetNative) return;
  tf.registerGradient({
    ...original,
    __unetNative: true,
    gradFunc: (dy, saved, attrs) => {
      const d = dy as tf.Tensor;
      const [x] = saved;
      if (tf.getBackend() !== NATIVE || d.dtype !== 'float32' || x.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(kernel, { dy: d, x }, attrs) as tf.Tensor };
    },
  } as tf.GradConfig);
}

nativeGradient(tf.ClipByValue, CLIP_GRAD);
nativeGradient(tf.Relu6, RELU6_GRAD);
nativeGradient(tf.Relu, RELU_GRAD);
