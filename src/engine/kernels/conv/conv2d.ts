// Conv2D and FusedConv2D (native/src/conv/forward.cc): y = act(conv(x, filter) + bias), NHWC,
// filter HWIO; bias and activation run fused inside the oneDNN primitive. In bf16 precision (../../precision.ts)
// x and filter are read as bf16, y stays fp32.
import * as tf from '@tensorflow/tfjs-core';

import type { NativeFamily } from '../../addon.js';
import { allFloat32, f32, nativeKernel, output, sizeOf, type Backend, type NativeArgs } from '../util.js';
import { countConv, getPrecision } from '../../precision.js';
import { nativeConv, type ConvAttrs } from './geometry.js';
import { tensorId } from './tensor_id.js';

/** The activations oneDNN applies as a post-op (codes of dnnl_conv.h's AppendActivation); others go to the CPU kernel. */
export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };

function forward({ inputs, attrs }: NativeArgs, native: NativeFamily, backend: Backend): tf.TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!allFloat32(x, filter) || preluActivationWeights) return null;
  const activation = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear'];
  if (activation === undefined) return null;
  const conv = nativeConv(x.shape, filter.shape, attrs as ConvAttrs);
  if (!conv) return null;
  // A per-channel bias ([O], or [1,...,1,O]); a scalar or other broadcast goes to the CPU kernel.
  if (bias && (!allFloat32(bias) || bias.shape.length > 4 || sizeOf(bias.shape) !== conv.info.outChannels || bias.shape.at(-1) !== conv.info.outChannels)) {
    return null;
  }
  // The CPU kernel passes leakyreluAlpha as is (undefined included): only a number runs natively.
  const alpha = (attrs.leakyreluAlpha as number | undefined) ?? 0;
  if (attrs.activation === 'leakyrelu' && typeof attrs.leakyreluAlpha !== 'number') return null;
  const y = output(backend, conv.info.outShape);
  const bf16 = getPrecision() === 'bf16';
  const ranBf16 = native.conv2dForward(
    f32(backend, x),
    f32(backend, filter),
    bias ? f32(backend, bias) : null,
    y.values,
    conv.geometry,
    activation,
    alpha,
    bf16,
    tensorId(x.dataId),
    tensorId(filter.dataId),
  );
  countConv(ranBf16);
  return y.info;
}

export const conv2dKernels = [nativeKernel(tf.Conv2D, 'conv', forward), nativeKernel(tf.FusedConv2D, 'conv', forward)];
