// Typed access for the math family's kernels, which handle float32, int32 and bool tensors.
//
// The CPU backend's Cast shares the input's buffer when it widens (int32 or bool to float32, bool
// to int32), so a tensor's stored array need not be the kind its dtype names. Native code reads
// raw memory, so these accessors return null for such a tensor and the kernel falls back to the
// CPU. (The native Cast in cast.ts always writes a buffer of the target kind.)
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

import { output, type Backend } from '../util.js';

export type Dense = Float32Array | Int32Array | Uint8Array;

/** The native name suffix of each dtype the math family computes in natively. */
export const SUFFIX: Partial<Record<DataType, string>> = { float32: 'f32', int32: 'i32', bool: 'u8' };

/** True when `values` is the TypedArray kind that stores `dtype` on the CPU backend. */
function matches(values: unknown, dtype: DataType): values is Dense {
  return (
    (dtype === 'float32' && values instanceof Float32Array) ||
    (dtype === 'int32' && values instanceof Int32Array) ||
    (dtype === 'bool' && values instanceof Uint8Array)
  );
}

/** The stored values of t (no copy) when their array kind matches t's dtype; otherwise null. */
export function dense(backend: Backend, t: TensorInfo): Dense | null {
  const values = backend.data.get(t.dataId)?.values;
  return matches(values, t.dtype) ? values : null;
}

/** dense() of every tensor, or null when any of them does not qualify. */
export function denseAll(backend: Backend, ...ts: TensorInfo[]): Dense[] | null {
  const out: Dense[] = [];
  for (const t of ts) {
    const v = dense(backend, t);
    if (v === null) return null;
    out.push(v);
  }
  return out;
}

/** A new tensor of shape and dtype (float32, int32 or bool) from the buffer pool: the caller writes all of it, or asks for it zeroed. */
export function allocate(backend: Backend, shape: number[], dtype: DataType, zeroed = false): { info: TensorInfo; values: Dense } {
  if (!(dtype in SUFFIX)) throw new Error(`math kernels: no native storage for dtype ${dtype}`);
  const { info, values } = output(backend, shape, dtype, zeroed);
  return { info, values: values as unknown as Dense };
}
