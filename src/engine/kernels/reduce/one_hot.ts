// OneHot of int32 indices into float32 or int32 rows of `depth` (native/src/reduce/one_hot.cc).
import * as tf from '@tensorflow/tfjs-core';

import { i32, nativeKernel } from '../util.js';
import { typedOutput } from './axes.js';

export const oneHotKernelConfig = nativeKernel(tf.OneHot, 'reduce', ({ inputs, attrs }, native, backend) => {
  const { indices } = inputs;
  const { depth, onValue, offValue } = attrs as { depth: number; onValue: number; offValue: number };
  const dtype = (attrs.dtype ?? 'int32') as tf.DataType;
  if (indices.dtype !== 'int32' || !(backend.data.get(indices.dataId).values instanceof Int32Array)) return null;
  if (dtype !== 'float32' && dtype !== 'int32') return null;
  // The CPU kernel stores int32 one-hots in a Float32Array; here each dtype gets its own array.
  const y = typedOutput<Float32Array | Int32Array>(backend, [...indices.shape, depth], dtype);
  native[dtype === 'float32' ? 'oneHotF32' : 'oneHotI32'](i32(backend, indices), y.values, depth, onValue, offValue);
  return y.info;
});
