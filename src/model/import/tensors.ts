// What every format reader returns: named tensors as float32 arrays in the source framework's layout, plus
// what the file held that is not a tensor (reported as skipped). Also the element decoding shared by the
// readers (f16 / bf16 / f64 / integer types -> f32), done on an aligned copy so that a tensor at an odd
// offset in the file still decodes.
import { endianness } from 'node:os';

import { UserError } from '../../util/errors.js';

/** Element types a weights file may hold (PyTorch / safetensors / HDF5 names normalised to these). */
export const DTYPES = ['f32', 'f64', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, f64: 8, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

export function isFloatDType(d: DType): boolean {
  return d === 'f32' || d === 'f64' || d === 'f16' || d === 'bf16';
}

export interface SourceTensor {
  /** The name in the file (e.g. `inc.double_conv.0.weight`, `conv2d_3/kernel:0`). */
  name: string;
  /** The element type in the file (data is always float32 here). */
  dtype: DType;
  shape: number[];
  data: Float32Array;
}

/** How 4-D kernels are laid out in the source: PyTorch OIHW (transposed conv IOHW), or Keras/TF.js HWIO. */
export type SourceLayout = 'torch' | 'keras';

export interface SourceWeights {
  /** Which reader produced this. */
  format: 'torch' | 'safetensors' | 'keras-h5' | 'keras-archive';
  layout: SourceLayout;
  tensors: Map<string, SourceTensor>;
  /** Entries that are not tensors (counters, lists, metadata) and why they were left out. */
  skipped: Array<{ name: string; reason: string }>;
  /** Things the user should know (e.g. Lambda layers that were not imported). */
  notes: string[];
  /** Keras only: layer name -> class name from the model config, when present. */
  layerClasses?: Map<string, string>;
  /** Keras only: the model config (parsed JSON, never run), when the file has one. */
  modelConfig?: unknown;
  /**
   * Keras 3 weights files only: the tensors are named `layers/<group>/vars/<index>` (groups named after the
   * layer class, in model order); `owners` holds the layer name a group records, where Keras wrote one.
   */
  kerasVars?: { owners: Map<string, string> };
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks that `shape` is a list of non-negative safe integers with a product at most `maxElements`. */
export function checkShape(shape: unknown, maxElements: number, what: string): number[] {
  if (!Array.isArray(shape) || shape.length > 8)
    throw new UserError(`${what}: the shape must be a list of at most 8 dimensions, got ${JSON.stringify(shape)?.slice(0, 80)}`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw new UserError(`${what}: bad dimension ${JSON.stringify(d)} in shape ${JSON.stringify(shape).slice(0, 80)}`);
    n *= d;
    if (n > maxElements) throw new UserError(`${what}: shape ${JSON.stringify(shape).slice(0, 80)} has more elements than the file can hold`);
  }
  return shape as number[];
}

const HOST_LITTLE = endianness() === 'LE';

/** Decodes `count` elements of `dtype` from `bytes` (exactly count * size bytes) into float32. */
export function decodeElements(bytes: Uint8Array, dtype: DType, count: number, littleEndian = true): Float32Array {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength !== count * size) throw new Error(`decodeElements: ${bytes.byteLength} bytes for ${count} x ${dtype}`);
  // An aligned copy that is ours to byte-swap (not bytes.slice(): on a Buffer that is a view, not a copy).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (littleEndian !== HOST_LITTLE && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  const buf = copy.buffer;
  switch (dtype) {
    case 'f32':
      return new Float32Array(buf, 0, count);
    case 'f64':
      return Float32Array.from(new Float64Array(buf, 0, count));
    case 'i64': {
      const src = new BigInt64Array(buf, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'i32':
      return Float32Array.from(new Int32Array(buf, 0, count));
    case 'i16':
      return Float32Array.from(new Int16Array(buf, 0, count));
    case 'i8':
      return Float32Array.from(new Int8Array(buf, 0, count));
    case 'u8':
    case 'bool':
      return Float32Array.from(copy);
    case 'bf16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(buf, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'f16': {
      const src = new Uint16Array(buf, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
  }
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
