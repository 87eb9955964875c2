// Runs the same computation on `cpu` and on `native` and compares: the native kernels' yardstick.
import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs-core';

import '../../src/engine/index.js';
import { profiler, type KernelRecord } from '../../src/engine/index.js';

/** Deterministic uniform values in [lo, hi) (mulberry32), so a failure can be replayed. */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
  );
}

export interface BackendResult {
  outputs: { shape: number[]; dtype: string; values: Float32Array | Int32Array | Uint8Array }[];
  kernels: KernelRecord[];
}

/** Runs fn on one backend; inputs must be created inside fn so that they live on that backend. */
export async function runOn(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<BackendResult> {
  await tf.setBackend(backend);
  const { result, kernels } = profiler.capture(() => tf.tidy(fn));
  const list = Array.isArray(result) ? result : [result];
  const outputs = list.map((t) => ({ shape: t.shape, dtype: t.dtype, values: t.dataSync() as Float32Array }));
  tf.dispose(list);
  return { outputs, kernels };
}

/** max |a - b| / max |b|: the error relative to the reference's scale (per-element relative error
 * is meaningless where a sum of many terms cancels to near zero). */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Asserts that fn gives the same outputs on `native` as on `cpu` (max relative error <= tol), and
 * that each kernel named in `expectNative` ran natively on `native`.
 */
export async function expectSameOnBackends(
  label: string,
  fn: () => tf.Tensor | tf.Tensor[],
  opts: { tol?: number; expectNative?: string[] } = {},
): Promise<number> {
  const tol = opts.tol ?? 1e-4;
  const cpu = await runOn('cpu', fn);
  const native = await runOn('native', fn);
  assert.equal(native.outputs.length, cpu.outputs.length, `${label}: output count`);
  let worst = 0;
  native.outputs.forEach((o, i) => {
    const ref = cpu.outputs[i];
    assert.deepEqual(o.shape, ref.shape, `${label}: output ${i} shape`);
    assert.equal(o.dtype, ref.dtype, `${label}: output ${i} dtype`);
    const err = maxRelativeError(o.values, ref.values);
    worst = Math.max(worst, err);
    assert.ok(err <= tol, `${label}: output ${i} max relative error ${err.toExponential(2)} > ${tol}`);
  });
  for (const k of opts.expectNative ?? []) {
    const ran = native.kernels.filter((r) => r.kernel === k);
    assert.ok(ran.length > 0, `${label}: kernel ${k} did not run (ran: ${native.kernels.map((r) => r.kernel).join(', ')})`);
    assert.ok(
      ran.every((r) => r.native),
      `${label}: kernel ${k} fell back to the CPU kernel`,
    );
  }
  return worst;
}
