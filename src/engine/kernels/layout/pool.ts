// MaxPool, AvgPool and their gradients (native/src/layout/pool.cc), NHWC float32, with the window
// geometry (sizes, strides, same/valid/explicit padding, rounding) from TF.js's computePool2DInfo.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output, zeroedOutput } from '../util.js';

type Shape4 = [number, number, number, number];

/** The pool geometry the native loops take: [batch, inH, inW, C, outH, outW, fH, fW, sH, sW, padTop, padLeft]. */
function geometry(info: backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function poolInfo(shape: number[], attrs: Record<string, any>, withRounding = true): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, withRounding ? attrs.dimRoundingMode : undefined);
}

/** A 1x1 pool that keeps the shape is the identity: the CPU kernel returns x without a copy. */
function isIdentity(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && util.arraysEqual(info.inShape, info.outShape);
}

function forward(kernelName: string, fn: 'maxPool' | 'avgPool') {
  return nativeKernel(kernelName, 'layout', ({ inputs, attrs }, native, backend) => {
    const { x } = inputs;
    if (!allFloat32(x) || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs);
    if (isIdentity(info)) return null;
    const y = output(backend, info.outShape);
    native[fn](f32(backend, x), y.values, geometry(info));
    return y.info;
  });
}

export const poolKernels = [
  forward(tf.MaxPool, 'maxPool'),
  forward(tf.AvgPool, 'avgPool'),
  // The gradient goes to the first maximum of each window, recomputed from x (`output` is unused,
  // as in the CPU kernel). dx starts zeroed (zeroedOutput).
  nativeKernel(tf.MaxPoolGrad, 'layout', ({ inputs, attrs }, native, backend) => {
    const { dy, input } = inputs;
    if (!allFloat32(dy, input) || input.shape.length !== 4) return null;
    const info = poolInfo(input.shape, attrs);
    const dx = zeroedOutput(backend, input.shape);
    native.maxPoolGrad(f32(backend, dy), f32(backend, input), dx.values, geometry(info));
    return dx.info;
  }),
  // The CPU kernel computes this geometry without dimRoundingMode; so do we.
  nativeKernel(tf.AvgPoolGrad, 'layout', ({ inputs, attrs }, native, backend) => {
    const { dy, input } = inputs;
    if (!allFloat32(dy, input) || input.shape.length !== 4) return null;
    const info = poolInfo(input.shape, attrs, false);
    const dx = zeroedOutput(backend, input.shape);
    native.avgPoolGrad(f32(backend, dy), dx.values, geometry(info));
    return dx.info;
  }),
];
