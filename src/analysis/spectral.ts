// The largest singular value of a weight matrix (a kernel reshaped to [out, in*kh*kw]): the `spectral`
// drift measure. sigma_max(A)^2 is the largest eigenvalue of the Gram matrix of A's smaller side, so:
//   1. the Gram matrix G (m x m, m = min(out, in*kh*kw) <= 1024 for a U-Net) is computed by the engine
//      (gemm.ts: products through convolution kernels, which the native engine accelerates);
//   2. its largest eigenvalue comes from power iteration accelerated by Lanczos (seeded start vector, full
//      reorthogonalisation, in float64), run until the estimate stops moving (relative change < 1e-9 twice)
//      or the Krylov space is the whole space (then it is exact). Plain power iteration would need
//      thousands of steps on the clustered spectra of fine-tuning changes to reach 1e-3.
import * as tf from '@tensorflow/tfjs-core';

import { Rng } from '../data/random.js';
import { matMulNT, matMulTN } from './gemm.js';

/** A as [out, rest]: the axis `outAxis` of `w` first, the others flattened (in their order). */
export function asMatrix(w: tf.Tensor, outAxis: number): tf.Tensor2D {
  return tf.tidy(() => {
    const out = w.shape[outAxis]!;
    const perm = [outAxis, ...w.shape.map((_, i) => i).filter((i) => i !== outAxis)];
    const moved = outAxis === 0 ? w : tf.transpose(w, perm);
    return tf.reshape(moved, [out, w.size / out]) as tf.Tensor2D;
  });
}

/**
 * The Gram matrix of the smaller side of `w` seen as [out, rest] (outAxis first): m x m, m = min(out, rest),
 * float64 row-major. A kernel whose output axis is its last (Conv2D's HWIO) is used as the matrix
 * [rest, out] it already is, without a transpose.
 */
export function gramOfSmallerSide(w: tf.Tensor, outAxis: number): { g: Float64Array; m: number } {
  const out = w.shape[outAxis] ?? 1;
  const rest = w.size / out;
  const m = Math.min(out, rest);
  const data = tf.tidy(() => {
    if (outAxis === w.rank - 1 || w.rank <= 1) {
      const t = tf.reshape(w, [rest, out]) as tf.Tensor2D; // A^T
      return out <= rest ? matMulTN(t, t) : matMulNT(t, t);
    }
    const a = asMatrix(w, outAxis);
    return out <= rest ? matMulNT(a, a) : matMulTN(a, a);
  });
  const g = Float64Array.from(data.dataSync() as Float32Array);
  data.dispose();
  // Symmetrise away float32 rounding.
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) g[i * m + j] = g[j * m + i] = 0.5 * (g[i * m + j]! + g[j * m + i]!);
  return { g, m };
}

/** The largest eigenvalue of a symmetric tridiagonal matrix (diagonal `a`, off-diagonal `b`), by Sturm bisection. */
export function tridiagonalMax(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]!) : 0) + (i < n - 1 ? Math.abs(b[i]!) : 0);
    lo = Math.min(lo, a[i]! - r);
    hi = Math.max(hi, a[i]! + r);
  }
  // Count of eigenvalues below x (Sturm sequence of the LDL^T pivots).
  const below = (x: number): number => {
    let count = 0;
    let q = a[0]! - x;
    if (q < 0) count++;
    for (let i = 1; i < n; i++) {
      q = a[i]! - x - (b[i - 1]! * b[i - 1]!) / (q === 0 ? 1e-300 : q);
      if (q < 0) count++;
    }
    return count;
  };
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(Math.abs(hi), Math.abs(lo), 1e-300); it++) {
    const mid = 0.5 * (lo + hi);
    if (below(mid) >= n) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/** The largest eigenvalue of a symmetric positive semi-definite m x m matrix (row-major float64). */
export function largestEigenvalue(g: Float64Array, m: number, seed = 0): number {
  if (m === 0) return 0;
  if (m === 1) return Math.max(0, g[0]!);
  const rng = new Rng(seed, 'spectral', m);
  let v: Float64Array = new Float64Array(m);
  for (let i = 0; i < m; i++) v[i] = rng.next() - 0.5;
  let norm = 0;
  for (let i = 0; i < m; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  if (norm === 0) return 0;
  for (let i = 0; i < m; i++) v[i]! /= norm;
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let theta = 0;
  let prev = -Infinity;
  let calm = 0;
  const w = new Float64Array(m);
  const kmax = Math.min(m, 400);
  for (let j = 0; j < kmax; j++) {
    basis.push(v);
    for (let i = 0; i < m; i++) {
      let s = 0;
      const row = i * m;
      for (let k = 0; k < m; k++) s += g[row + k]! * v[k]!;
      w[i] = s;
    }
    let a = 0;
    for (let i = 0; i < m; i++) a += w[i]! * v[i]!;
    alpha.push(a);
    // Full reorthogonalisation (twice is enough) keeps the Krylov basis orthogonal in floating point.
    for (let pass = 0; pass < 2; pass++) {
      for (const u of basis) {
        let d = 0;
        for (let i = 0; i < m; i++) d += w[i]! * u[i]!;
        for (let i = 0; i < m; i++) w[i]! -= d * u[i]!;
      }
    }
    theta = tridiagonalMax(alpha, beta);
    norm = 0;
    for (let i = 0; i < m; i++) norm += w[i]! * w[i]!;
    norm = Math.sqrt(norm);
    if (norm <= 1e-13 * Math.max(Math.abs(theta), 1e-300)) break; // an invariant subspace: exact
    calm = Math.abs(theta - prev) <= 1e-9 * Math.abs(theta) ? calm + 1 : 0;
    if (calm >= 2) break;
    prev = theta;
    beta.push(norm);
    v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = w[i]! / norm;
  }
  return Math.max(0, theta);
}

/** sigma_max of `w` seen as the matrix [w.shape[outAxis], rest]. */
export function largestSingularValue(w: tf.Tensor, outAxis: number, seed = 0): number {
  if (w.size === 0) return 0;
  const { g, m } = gramOfSmallerSide(w, outAxis);
  return Math.sqrt(largestEigenvalue(g, m, seed));
}
