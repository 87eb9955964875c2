// Shared plumbing for native kernels: typed-array access on the CPU backend's storage, output
// allocation, and the fallback to the CPU kernel for what a native kernel does not cover.
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { getKernel, type DataType, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

import { family, type Family, type NativeFamily } from '../addon.js';
import { bufferPool } from '../buffer_pool.js';
import { profiler } from '../profiler.js';

export type Backend = MathBackendCPU;
type KernelArgs = Parameters<KernelFunc>[0];
/** A kernel's arguments with its inputs present (TF.js validated them before the call). */
export interface NativeArgs {
  inputs: Record<string, TensorInfo>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attrs: Record<string, any>;
}

/**
 * The float32 values of a tensor, as stored by the CPU backend (no copy). The CPU backend's Cast may store a
 * widened tensor in its input's Int32Array/Uint8Array; native Cast never does, but a kernel that may see CPU
 * outputs should check with math/values.ts' dense(). Here a mismatch is a bug, reported as such.
 */
export function f32(backend: Backend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error(`native kernel: a float32 tensor is stored as ${v?.constructor.name}`);
  return v;
}

/** The int32 values of a tensor (no copy); see f32. */
export function i32(backend: Backend, t: TensorInfo): Int32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Int32Array)) throw new Error(`native kernel: an int32 tensor is stored as ${v?.constructor.name}`);
  return v;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A new tensor of `shape` whose values the caller must write COMPLETELY before anyone reads it: its array comes
 * from the buffer pool (buffer_pool.ts) and may hold old values. Kernels that accumulate into their output use
 * `zeroedOutput`. `values` is typed Float32Array for convenience; it is an Int32Array for int32 and a Uint8Array
 * for bool, as the CPU backend stores them.
 */
export function output(backend: Backend, shape: number[], dtype: DataType = 'float32', zeroed = false): { info: TensorInfo; values: Float32Array } {
  const n = sizeOf(shape);
  const ctor = dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : Float32Array;
  const values = zeroed ? bufferPool.takeZeroed(ctor, n) : bufferPool.take(ctor, n);
  return { info: backend.makeTensorInfo(shape, dtype, values), values: values as unknown as Float32Array };
}

/** A new zero-filled tensor of `shape`, for kernels that add into their output. */
export function zeroedOutput(backend: Backend, shape: number[], dtype: DataType = 'float32'): { info: TensorInfo; values: Float32Array } {
  return output(backend, shape, dtype, true);
}

/** CPU kernels that may return a view (subarray) of an input's array: their inputs must never be reused. */
export const VIEW_KERNELS: ReadonlySet<string> = new Set(['Slice', 'StridedSlice', 'SplitV', 'Unpack', 'TopK']);

export function escapeInputs(args: KernelArgs): void {
  const backend = args.backend as Backend;
  for (const t of Object.values(args.inputs)) if (t) bufferPool.escape(backend.data.get(t.dataId)?.values);
}

/** True when every given tensor is float32: native kernels compute in float32 only. */
export function allFloat32(...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32');
}

/**
 * Declares a native kernel. `run` returns the output, or null to hand this call to the CPU kernel
 * (an unsupported dtype or attribute). The family is looked up once: when it failed to load, the
 * kernel is not registered and the CPU kernel stays.
 */
export function nativeKernel(
  kernelName: string,
  familyName: Family,
  run: (args: NativeArgs, fns: NativeFamily, backend: Backend) => TensorInfo | TensorInfo[] | null,
): KernelConfig | null {
  const fns = family(familyName);
  if (!fns) return null;
  const cpu = getKernel(kernelName, 'cpu');
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: (args: KernelArgs) => {
      const start = profiler.active ? performance.now() : 0;
      const out = run({ inputs: args.inputs as Record<string, TensorInfo>, attrs: args.attrs ?? {} }, fns, args.backend as Backend);
      if (out !== null) {
        if (profiler.active) profiler.record(kernelName, true, performance.now() - start);
        return out;
      }
      if (!cpu) throw new Error(`native ${kernelName}: unsupported input and no CPU kernel to fall back on`);
      if (VIEW_KERNELS.has(kernelName)) escapeInputs(args);
      const fallback = cpu.kernelFunc(args);
      if (profiler.active) profiler.record(kernelName, false, performance.now() - start);
      return fallback;
    },
  };
}
