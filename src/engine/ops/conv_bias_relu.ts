// convBiasRelu(x, filter, bias) = act(conv2d(x, filter) + bias), NHWC, act = relu (default) or linear, as one op
// with its own gradient.
//
// Why: while gradients are recorded, tfjs-core splits fused.conv2d with relu into Conv2D, Add and Relu, and
// back-propagates through Step, Multiply and Sum: six memory-bound passes over each activation around every
// convolution of a U-Net. Here the forward pass is one oneDNN primitive (bias and relu fused) and the backward
// pass one sweep (dz and dbias) before the two convolution gradients. The gradients are lazy per input, so a
// frozen layer's filter gradient and the data gradient below the lowest trainable layer are never computed —
// which tfjs-core's own fused op (used for a linear conv with bias, e.g. the logits) does not offer: it computes
// all of its gradients whenever one is needed.
import * as tf from '@tensorflow/tfjs-core';

import { CONV_BIAS_RELU, RELU_BIAS_GRAD } from '../kernels/conv/conv_bias_relu.js';
import { reluGradientSums } from './relu_grad_hint.js';

export interface ConvBiasReluAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
  /** Default relu. */
  activation?: 'relu' | 'linear';
}

export function convBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, attrs: ConvBiasReluAttrs): tf.Tensor4D {
  const kernelAttrs = {
    strides: attrs.strides,
    pad: attrs.pad,
    activation: attrs.activation ?? 'relu',
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  };
  return tf.engine().runKernel(CONV_BIAS_RELU, { x, filter, bias }, kernelAttrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

tf.registerGradient({
  kernelName: CONV_BIAS_RELU,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, activation } = attrs as unknown as Required<ConvBiasReluAttrs>;
    // With relu, dz = dy * (y > 0) and dbias are computed once here (the tape disposes them after the whole
    // backward pass) and shared by the three gradients, unless the loss already did (relu_grad_hint.ts);
    // without an activation dz is dy itself.
    const sums = activation === 'relu' ? reluGradientSums(dy as tf.Tensor, y) : null;
    const [dz, dbias] = sums
      ? [dy as tf.Tensor4D, tf.tensor1d(sums)]
      : activation === 'relu'
        ? (tf.engine().runKernel(RELU_BIAS_GRAD, { dy: dy as tf.Tensor, y }, {}) as [tf.Tensor4D, tf.Tensor1D])
        : [dy as tf.Tensor4D, null];
    const convAttrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    return {
      x: () =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz, filter }, { ...convAttrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, { ...convAttrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      bias: () => (dbias ? tf.clone(dbias) : tf.sum(dz, [0, 1, 2])),
    };
  },
});
