// Activations with a parameter and their gradients (native/src/math/activation.cc), float32:
// LeakyRelu (alpha), Elu, EluGrad (dy, y = Elu's output), ClipByValue (clipValueMin, clipValueMax).
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { allocate, denseAll } from './values.js';

/** y = fn(x, ...params) over float32 x, or null (CPU) for other dtypes. */
function floatMap(kernelName: string, fn: string, params: (attrs: Record<string, unknown>) => number[]): tf.KernelConfig | null {
  return nativeKernel(kernelName, 'math', ({ inputs, attrs }, native, backend) => {
    const { x } = inputs;
    const xs = x.dtype === 'float32' ? denseAll(backend, x) : null;
    if (xs === null) return null;
    const y = allocate(backend, x.shape, 'float32');
    native[fn](xs[0], y.values, ...params(attrs));
    return y.info;
  });
}

export const activationKernels = [
  floatMap(tf.LeakyRelu, 'leaky_relu', (a) => [a.alpha as number]),
  floatMap(tf.Elu, 'elu', () => []),
  floatMap(tf.ClipByValue, 'clip', (a) => [a.clipValueMin as number, a.clipValueMax as number]),
  nativeKernel(tf.EluGrad, 'math', ({ inputs }, native, backend) => {
    const { dy, y } = inputs;
    if (dy.dtype !== 'float32' || y.dtype !== 'float32') return null;
    const values = denseAll(backend, dy, y);
    if (values === null) return null;
    const dx = allocate(backend, y.shape, 'float32');
    native.elu_grad(values[0], values[1], dx.values);
    return dx.info;
  }),
];
