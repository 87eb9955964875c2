// Fill, OnesLike and ZerosLike for float32, int32 and bool (native/src/math/fill.cc).
// ZerosLike needs no native call: the buffer pool hands out a zeroed array.
import * as tf from '@tensorflow/tfjs-core';

import type { NativeFamily } from '../../addon.js';
import { nativeKernel, type Backend } from '../util.js';

import { allocate, SUFFIX } from './values.js';

/** A tensor of shape and dtype with every element `value`, or null for other dtypes. */
function filled(native: NativeFamily, backend: Backend, shape: number[], dtype: tf.DataType, value: number): tf.TensorInfo | null {
  const suffix = SUFFIX[dtype];
  if (suffix === undefined) return null;
  const y = allocate(backend, shape, dtype, value === 0);
  if (value !== 0) native[`fill_${suffix}`](y.values, value);
  return y.info;
}

export const fillKernels = [
  nativeKernel(tf.Fill, 'math', ({ attrs }, native, backend) => {
    const { shape, value } = attrs as { shape: number[]; value: unknown; dtype?: tf.DataType };
    if (typeof value !== 'number' && typeof value !== 'boolean') return null;
    // As the CPU kernel: without a dtype, a number fills float32 and a boolean fills bool.
    const dtype = attrs.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
    return filled(native, backend, shape, dtype, Number(value));
  }),
  nativeKernel(tf.ZerosLike, 'math', ({ inputs }, native, backend) => filled(native, backend, inputs.x.shape, inputs.x.dtype, 0)),
  nativeKernel(tf.OnesLike, 'math', ({ inputs }, native, backend) => filled(native, backend, inputs.x.shape, inputs.x.dtype, 1)),
];
