// Sum, Mean, Max, Min, Prod (float32; Sum also int32) and All, Any (bool) over any axis set,
// natively (native/src/reduce/reduce.cc) without the CPU kernel's transpose.
import * as tf from '@tensorflow/tfjs-core';

import { nativeKernel, type Backend } from '../util.js';
import { reducedAxes, reducedShape, typedOutput } from './axes.js';

/** kernel -> the native function for each input dtype it covers (the output keeps that dtype). */
const REDUCTIONS: [string, Partial<Record<tf.DataType, string>>][] = [
  [tf.Sum, { float32: 'reduceSum', int32: 'reduceSumInt' }],
  [tf.Mean, { float32: 'reduceMean' }],
  [tf.Max, { float32: 'reduceMax' }],
  [tf.Min, { float32: 'reduceMin' }],
  [tf.Prod, { float32: 'reduceProd' }],
  [tf.All, { bool: 'reduceAll' }],
  [tf.Any, { bool: 'reduceAny' }],
];

const ARRAY_OF: Partial<Record<tf.DataType, new (n: number) => ArrayLike<number>>> = {
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
};

export const reduceKernelConfigs = REDUCTIONS.map(([kernelName, fns]) =>
  nativeKernel(kernelName, 'reduce', ({ inputs, attrs }, native, backend: Backend) => {
    const { x } = inputs;
    const fn = fns[x.dtype];
    const values = backend.data.get(x.dataId).values;
    // An empty tensor, or values not in the array type the dtype implies, stay on the CPU kernel.
    if (!fn || x.shape.some((d) => d === 0) || !(values instanceof ARRAY_OF[x.dtype]!)) return null;
    // Max names its axes `reductionIndices`; the others `axis`.
    const axes = reducedAxes(kernelName === tf.Max ? attrs.reductionIndices : attrs.axis, x.shape);
    const y = typedOutput(backend, reducedShape(x.shape, axes, Boolean(attrs.keepDims)), x.dtype);
    native[fn](values, y.values, x.shape, axes);
    return y.info;
  }),
);
