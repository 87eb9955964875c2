// The region description behind the copy kernels (native/src/layout/copy.cc): Slice, Transpose,
// PadV2, Tile and Reverse all copy a region of 4-byte elements, described as axes
// {n: extent, src: source stride, dst: destination stride} (elements, outermost first) plus a start
// offset in each buffer. The native side merges, orders and parallelises; this side only says what.
import type { TensorInfo } from '@tensorflow/tfjs-core';

import type { NativeFamily } from '../../addon.js';
import type { Backend } from '../util.js';

export interface Axis {
  n: number;
  src: number;
  dst: number;
}

export type Words = Float32Array | Int32Array;

/** Row-major strides of a shape, in elements (the last axis has stride 1). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** The highest rank the native copies take (Tile doubles it: 16 axes at most natively). */
export const MAX_RANK = 8;

/**
 * True when every tensor is float32 or int32, all share one dtype (the copies move 4-byte words),
 * and none has a rank above MAX_RANK. Others (bool, string, complex64) stay on the CPU kernels.
 */
export function movable(...ts: TensorInfo[]): boolean {
  const dtype = ts[0]?.dtype;
  return (dtype === 'float32' || dtype === 'int32') && ts.every((t) => t.dtype === dtype && t.shape.length <= MAX_RANK);
}

/** A tensor's stored values (float32 or int32), no copy. */
export function words(backend: Backend, t: TensorInfo): Words {
  return backend.data.get(t.dataId).values as Words;
}

/** Copies the region `axes` from src (starting at srcOffset) to dst (starting at dstOffset). */
export function copyRegion(native: NativeFamily, src: Words, dst: Words, srcOffset: number, dstOffset: number, axes: Axis[]): void {
  if (axes.some((a) => a.n === 0)) return;
  native.copy(
    src,
    dst,
    srcOffset,
    dstOffset,
    axes.flatMap((a) => [a.n, a.src, a.dst]),
  );
}

/** The axes of a whole contiguous tensor of `shape` copied into a destination with strides `dst`. */
export function intoStrides(shape: readonly number[], dst: readonly number[]): Axis[] {
  const src = stridesOf(shape);
  return shape.map((n, i) => ({ n, src: src[i], dst: dst[i] }));
}
