// Bool-valued kernels (native/src/math/compare.cc): comparisons and logical ops with
// broadcasting, LogicalNot and IsNan. Bool tensors are Uint8Arrays of 0/1 on the CPU backend.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { binaryKernel, type BinarySpec } from './broadcast.js';
import { allocate, dense } from './values.js';

const NUMERIC: tf.DataType[] = ['float32', 'int32'];

const SPECS: BinarySpec[] = [
  { kernel: tf.Equal, fn: 'equal', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.NotEqual, fn: 'not_equal', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.Greater, fn: 'greater', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.GreaterEqual, fn: 'greater_equal', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.Less, fn: 'less', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.LessEqual, fn: 'less_equal', dtypes: NUMERIC, out: 'bool' },
  { kernel: tf.LogicalAnd, fn: 'logical_and', dtypes: ['bool'], out: 'bool', bare: true },
  { kernel: tf.LogicalOr, fn: 'logical_or', dtypes: ['bool'], out: 'bool', bare: true },
];

/** A map x -> y of x's shape: fn(x, y) on inputs of `dtype`, output of `out`. */
function mapKernel(kernelName: string, fn: string, dtype: tf.DataType, out: tf.DataType): tf.KernelConfig | null {
  return nativeKernel(kernelName, 'math', ({ inputs }, native, backend) => {
    const { x } = inputs;
    const xs = x.dtype === dtype ? dense(backend, x) : null;
    if (xs === null) return null;
    const y = allocate(backend, x.shape, out);
    native[fn](xs, y.values);
    return y.info;
  });
}

export const compareKernels = [
  ...SPECS.map(binaryKernel),
  mapKernel(tf.LogicalNot, 'logical_not', 'bool', 'bool'),
  mapKernel(tf.IsNan, 'isnan_f32', 'float32', 'bool'),
];
