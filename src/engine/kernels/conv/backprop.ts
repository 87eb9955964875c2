// The gradients of a convolution (native/src/conv/backward_*.cc):
// - Conv2DBackpropInput: dx[inputShape] from dy and the filter; also conv2dTranspose's forward;
// - Conv2DBackpropFilter: dw[filterShape] from x and dy.
// In bf16 precision (../../precision.ts) the inputs are read as bf16; dx and dw stay fp32.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output } from '../util.js';
import { countConv, getPrecision } from '../../precision.js';
import { nativeConv, sameShape, type ConvAttrs } from './geometry.js';
import { tensorId } from './tensor_id.js';

// Both kernels take no dilations (TF.js has none in convolution gradients).
const backpropInput = nativeKernel(tf.Conv2DBackpropInput, 'conv', ({ inputs, attrs }, native, backend) => {
  const { dy, filter } = inputs;
  if (!allFloat32(dy, filter)) return null;
  const conv = nativeConv(attrs.inputShape as number[], filter.shape, { ...(attrs as ConvAttrs), dilations: 1 });
  // dy must be the convolution's output (conv2dTranspose with an inconsistent outputShape: CPU).
  if (!conv || !sameShape(dy.shape, conv.info.outShape)) return null;
  const dx = output(backend, conv.info.inShape);
  const bf16 = getPrecision() === 'bf16';
  countConv(native.conv2dBackwardData(f32(backend, dy), f32(backend, filter), dx.values, conv.geometry, bf16, tensorId(dy.dataId), tensorId(filter.dataId)));
  return dx.info;
});

const backpropFilter = nativeKernel(tf.Conv2DBackpropFilter, 'conv', ({ inputs, attrs }, native, backend) => {
  const { x, dy } = inputs;
  if (!allFloat32(x, dy)) return null;
  const conv = nativeConv(x.shape, attrs.filterShape as number[], { ...(attrs as ConvAttrs), dilations: 1 });
  if (!conv || !sameShape(dy.shape, conv.info.outShape)) return null;
  const dw = output(backend, conv.info.filterShape);
  const bf16 = getPrecision() === 'bf16';
  countConv(native.conv2dBackwardWeights(f32(backend, x), f32(backend, dy), dw.values, conv.geometry, bf16, tensorId(x.dataId), tensorId(dy.dataId)));
  return dw.info;
});

export const backpropKernels = [backpropInput, backpropFilter];
