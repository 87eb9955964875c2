// ArgMax / ArgMin of float32 along one axis (native/src/reduce/arg.cc), e.g. the predicted class
// per pixel from [N, H, W, K] scores.
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, i32, nativeKernel, output } from '../util.js';
import { aroundAxis, reducedAxes, reducedShape } from './axes.js';

export const argKernelConfigs = (
  [
    [tf.ArgMax, 'argMax'],
    [tf.ArgMin, 'argMin'],
  ] as const
).map(([kernelName, fn]) =>
  nativeKernel(kernelName, 'reduce', ({ inputs, attrs }, native, backend) => {
    const { x } = inputs;
    if (!allFloat32(x) || x.shape.some((d) => d === 0)) return null;
    // TF.js passes one axis (the CPU kernel, too, uses only the first of a list).
    const [axis] = reducedAxes(Array.isArray(attrs.axis) ? attrs.axis[0] : attrs.axis, x.shape);
    const { outer, n, inner } = aroundAxis(x.shape, axis);
    const y = output(backend, reducedShape(x.shape, [axis], false), 'int32');
    native[fn](f32(backend, x), i32(backend, y.info), outer, n, inner);
    return y.info;
  }),
);
