// Depthwise convolution (native/src/conv/depthwise.cc, a oneDNN grouped convolution with one group per
// channel): x[N,H,W,C] * filter[KH,KW,C,M] -> y[N,OH,OW,C*M], and its gradients:
// - DepthwiseConv2dNative and FusedDepthwiseConv2D (bias [C*M] and activation fused as a post-op);
// - DepthwiseConv2dNativeBackpropInput: dx[inputShape] from dy and the filter;
// - DepthwiseConv2dNativeBackpropFilter: dw[filterShape] from x and dy.
import * as tf from '@tensorflow/tfjs-core';

import type { NativeFamily } from '../../addon.js';
import { allFloat32, f32, nativeKernel, output, sizeOf, type Backend, type NativeArgs } from '../util.js';
import { ACTIVATIONS } from './conv2d.js';
import { nativeConv, sameShape, type ConvAttrs } from './geometry.js';

function forward({ inputs, attrs }: NativeArgs, native: NativeFamily, backend: Backend): tf.TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!allFloat32(x, filter) || preluActivationWeights) return null;
  const activation = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear'];
  if (activation === undefined) return null;
  if (attrs.activation === 'leakyrelu' && typeof attrs.leakyreluAlpha !== 'number') return null;
  const conv = nativeConv(x.shape, filter.shape, attrs as ConvAttrs, true);
  if (!conv) return null;
  const channels = conv.info.outChannels;
  if (bias && (!allFloat32(bias) || bias.shape.length > 4 || sizeOf(bias.shape) !== channels || bias.shape.at(-1) !== channels)) return null;
  const y = output(backend, conv.info.outShape);
  const multiplier = filter.shape[3];
  native.depthwiseForward(
    f32(backend, x),
    f32(backend, filter),
    bias ? f32(backend, bias) : null,
    y.values,
    conv.geometry,
    multiplier,
    activation,
    (attrs.leakyreluAlpha as number | undefined) ?? 0,
  );
  return y.info;
}

const backpropInput = nativeKernel(tf.DepthwiseConv2dNativeBackpropInput, 'conv', ({ inputs, attrs }, native, backend) => {
  const { dy, filter } = inputs;
  if (!allFloat32(dy, filter)) return null;
  const conv = nativeConv(attrs.inputShape as number[], filter.shape, attrs as ConvAttrs, true);
  if (!conv || !sameShape(dy.shape, conv.info.outShape)) return null;
  const dx = output(backend, conv.info.inShape);
  native.depthwiseBackwardData(f32(backend, dy), f32(backend, filter), dx.values, conv.geometry, filter.shape[3]);
  return dx.info;
});

const backpropFilter = nativeKernel(tf.DepthwiseConv2dNativeBackpropFilter, 'conv', ({ inputs, attrs }, native, backend) => {
  const { x, dy } = inputs;
  if (!allFloat32(x, dy)) return null;
  const filterShape = attrs.filterShape as number[];
  const conv = nativeConv(x.shape, filterShape, attrs as ConvAttrs, true);
  if (!conv || !sameShape(dy.shape, conv.info.outShape)) return null;
  const dw = output(backend, filterShape);
  native.depthwiseBackwardWeights(f32(backend, x), f32(backend, dy), dw.values, conv.geometry, filterShape[3]);
  return dw.info;
});

export const depthwiseKernels = [
  nativeKernel(tf.DepthwiseConv2dNative, 'conv', forward),
  nativeKernel(tf.FusedDepthwiseConv2D, 'conv', forward),
  backpropInput,
  backpropFilter,
];
