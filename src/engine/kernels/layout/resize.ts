// ResizeBilinear, ResizeNearestNeighbor and their gradients (native/src/layout/resize.cc), NHWC,
// alignCorners and halfPixelCenters as in TF.js (whose gradients ignore halfPixelCenters).
import * as tf from '@tensorflow/tfjs-core';

import { allFloat32, f32, nativeKernel, output, zeroedOutput } from '../util.js';
import { movable, words } from './strided.js';

/** [batch, inH, inW, C, outH, outW] for an image of `image` shape resized to [outH, outW]. */
function dims(image: number[], outH: number, outW: number): number[] {
  const [batch, inH, inW, channels] = image;
  return [batch, inH, inW, channels, outH, outW];
}

export const resizeKernels = [
  nativeKernel(tf.ResizeBilinear, 'layout', ({ inputs, attrs }, native, backend) => {
    const { images } = inputs;
    if (!allFloat32(images) || images.shape.length !== 4) return null;
    const [outH, outW] = attrs.size as [number, number];
    const y = output(backend, [images.shape[0], outH, outW, images.shape[3]]);
    native.resizeBilinear(f32(backend, images), y.values, dims(images.shape, outH, outW), !!attrs.alignCorners, !!attrs.halfPixelCenters);
    return y.info;
  }),
  // dx has the images' shape (the CPU kernel labels it [batch, W, H, C], wrong when H != W).
  nativeKernel(tf.ResizeBilinearGrad, 'layout', ({ inputs, attrs }, native, backend) => {
    const { images, dy } = inputs;
    if (!allFloat32(images, dy) || images.shape.length !== 4) return null;
    const dx = zeroedOutput(backend, images.shape);
    native.resizeBilinearGrad(f32(backend, dy), dx.values, dims(images.shape, dy.shape[1], dy.shape[2]), !!attrs.alignCorners);
    return dx.info;
  }),
  // Nearest neighbour only moves values: float32 and int32 alike.
  nativeKernel(tf.ResizeNearestNeighbor, 'layout', ({ inputs, attrs }, native, backend) => {
    const { images } = inputs;
    if (!movable(images) || images.shape.length !== 4) return null;
    const [outH, outW] = attrs.size as [number, number];
    const y = output(backend, [images.shape[0], outH, outW, images.shape[3]], images.dtype);
    native.resizeNearest(words(backend, images), y.values, dims(images.shape, outH, outW), !!attrs.alignCorners, !!attrs.halfPixelCenters);
    return y.info;
  }),
  nativeKernel(tf.ResizeNearestNeighborGrad, 'layout', ({ inputs, attrs }, native, backend) => {
    const { images, dy } = inputs;
    if (!allFloat32(images, dy) || images.shape.length !== 4) return null;
    const dx = zeroedOutput(backend, images.shape);
    native.resizeNearestGrad(f32(backend, dy), dx.values, dims(images.shape, dy.shape[1], dy.shape[2]), !!attrs.alignCorners);
    return dx.info;
  }),
];
