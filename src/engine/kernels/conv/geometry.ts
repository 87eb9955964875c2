// The geometry a native convolution needs (native/src/conv/dnnl_conv.h, struct Geometry), from
// tfjs-core's computeConv2DInfo: output size and (possibly asymmetric) padding for 'same', 'valid',
// explicit paddings and dimRoundingMode, exactly as the CPU kernels see them.
import { backend_util } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/** Kernel attributes shared by Conv2D, FusedConv2D and the two backprop kernels. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export interface NativeConv {
  info: backend_util.Conv2DInfo;
  /** [N, H, W, C, O, KH, KW, OH, OW, SH, SW, DH, DW, padTop, padLeft, padBottom, padRight] */
  geometry: number[];
}

/**
 * The convolution x[inShape] * filter[filterShape] in NHWC, or null when the native kernels do not
 * cover it (NCHW, an empty tensor, or a geometry oneDNN's padding cannot express). `depthwise`: the filter is
 * [KH, KW, C, M] and the output has C * M channels (tf.depthwiseConv2d).
 */
export function nativeConv(inShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs, depthwise = false): NativeConv | null {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  const info = backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  if ([batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth].some((d) => !(d > 0))) return null;
  const { top, left } = info.padInfo;
  // The CPU kernels use only the top/left padding and the output size; oneDNN wants the far-side
  // padding too, and checks OH == floor((H + top + bottom - KH_eff) / SH) + 1. The far side that
  // reaches exactly the last window can be negative when a rounding mode or explicit padding leaves
  // the last input rows unread: bottom 0 then gives the same OH as long as fewer than SH rows are.
  const reach = (out: number, stride: number, filter: number, size: number, before: number) => (out - 1) * stride + filter - size - before;
  const bottom = reach(outHeight, info.strideHeight, info.effectiveFilterHeight, inHeight, top);
  const right = reach(outWidth, info.strideWidth, info.effectiveFilterWidth, inWidth, left);
  if (top < 0 || left < 0 || bottom <= -info.strideHeight || right <= -info.strideWidth) return null;
  const geometry = [
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    outHeight,
    outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    top,
    left,
    Math.max(0, bottom),
    Math.max(0, right),
  ];
  return { info, geometry };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
