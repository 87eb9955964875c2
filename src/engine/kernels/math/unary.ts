// Element-wise unary kernels (native/src/math/unary.cc): y = f(x).
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, output } from '../util.js';

import { dense } from './values.js';

const UNARY: Record<string, string> = {
  [tf.Relu]: 'relu',
  [tf.Relu6]: 'relu6',
  [tf.Step]: 'step',
  [tf.Exp]: 'exp',
  [tf.Log]: 'log',
  [tf.Sqrt]: 'sqrt',
  [tf.Rsqrt]: 'rsqrt',
  [tf.Square]: 'square',
  [tf.Neg]: 'neg',
  [tf.Abs]: 'abs',
  [tf.Floor]: 'floor',
  [tf.Ceil]: 'ceil',
  [tf.Round]: 'round',
  [tf.Sign]: 'sign',
  [tf.Reciprocal]: 'reciprocal',
  [tf.Sigmoid]: 'sigmoid',
  [tf.Tanh]: 'tanh',
  [tf.Softplus]: 'softplus',
  [tf.Log1p]: 'log1p',
  [tf.Expm1]: 'expm1',
};

export const unaryKernels = Object.entries(UNARY).map(([kernelName, fn]) =>
  nativeKernel(kernelName, 'math', ({ inputs, attrs }, native, backend) => {
    const { x } = inputs;
    const xs = x.dtype === 'float32' ? dense(backend, x) : null;
    if (xs === null) return null;
    // Step's alpha (the value for x <= 0) is 0 in every gradient TF.js computes; others go to the CPU.
    if (kernelName === tf.Step && attrs.alpha !== 0) return null;
    const y = output(backend, x.shape);
    native[fn](xs, y.values);
    return y.info;
  }),
);
