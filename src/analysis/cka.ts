// Linear CKA (Kornblith et al. 2019, "Similarity of Neural Network Representations Revisited") between
// two models' activations at each block on the same N images: examples are the samples, each block's
// output is flattened to one feature vector per image, and with centred features X [N, p], Y [N, q]
//   CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) = <Kc, Lc>_F / (||Kc||_F ||Lc||_F),
// where K = X X^T and L = Y Y^T are N x N Gram matrices and Kc = H K H (H = I - 11^T/N) centres them,
// which is the same as centring the features. The Gram form costs N^2 memory, whatever the feature count.
//
// Streaming with bounded memory (blockCka): the images go through both models in groups of G samples;
// the Gram block K[g, h] = X_g X_h^T needs two groups' activations at once, so the activations of a chunk
// of groups are kept (as many as `maxBytes` allows) and every later group is multiplied against them.
// When all N samples fit, that is one pass over the data; otherwise pass p keeps chunk p and streams the
// groups from there on, so the Gram matrices are exact and memory stays under the budget at the price of
// extra forward passes. Products run through convolution kernels (gemm.ts: the native engine accelerates
// convolution, not MatMul). Before the products each block's features are shifted by the mean of the first group: CKA
// is unchanged by any shift (the Gram matrices are centred anyway), and removing most of the mean keeps
// float32 products of ReLU features (all positive, mean much larger than spread) accurate.
import * as tf from '@tensorflow/tfjs-core';

import { UserError } from '../util/errors.js';
import { blockOutputs } from './activations.js';
import { matMulNT } from './gemm.js';
import { requireSameInput, type AnalysisModel } from './pairing.js';

/** H K H for an n x n Gram matrix (row-major float64), as a new array. */
export function centerGram(k: Float64Array, n: number): Float64Array {
  const rowMean = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += k[i * n + j]!;
    rowMean[i] = s / n;
    all += s;
  }
  all /= n * n;
  const c = new Float64Array(n * n);
  // K is symmetric, so column means equal row means.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] = k[i * n + j]! - rowMean[i]! - rowMean[j]! + all;
  return c;
}

/** Linear CKA from two n x n Gram matrices (uncentred); null when a side has no variation. */
export function ckaFromGrams(k: Float64Array, l: Float64Array, n: number): number | null {
  const kc = centerGram(k, n);
  const lc = centerGram(l, n);
  let kl = 0;
  let kk = 0;
  let ll = 0;
  for (let i = 0; i < n * n; i++) {
    kl += kc[i]! * lc[i]!;
    kk += kc[i]! * kc[i]!;
    ll += lc[i]! * lc[i]!;
  }
  if (!(kk > 0) || !(ll > 0)) return null;
  return kl / Math.sqrt(kk * ll);
}

/** X Y^T for X [a, d], Y [b, d]: [a, b] values, row-major. */
function crossProduct(x: tf.Tensor2D, y: tf.Tensor2D): Float32Array {
  const r = matMulNT(x, y);
  const v = r.dataSync() as Float32Array;
  r.dispose();
  return v;
}

/** Writes the block [i0.., j0..] (and its mirror) of an n x n matrix. */
function putBlock(k: Float64Array, n: number, i0: number, j0: number, rows: number, cols: number, v: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = v[r * cols + c]!;
      k[(i0 + r) * n + j0 + c] = x;
      k[(j0 + c) * n + i0 + r] = x;
    }
  }
}

/** The N x N Gram matrix X X^T of features X [N, d] (float64 out). */
export function gramOf(x: tf.Tensor2D): Float64Array {
  const n = x.shape[0];
  const k = new Float64Array(n * n);
  putBlock(k, n, 0, 0, n, n, crossProduct(x, x));
  return k;
}

/** Linear CKA between two feature matrices with the same samples (rows): X [N, p], Y [N, q]. */
export function linearCka(x: tf.Tensor2D, y: tf.Tensor2D): number | null {
  if (x.shape[0] !== y.shape[0]) throw new Error(`linearCka: ${x.shape[0]} vs ${y.shape[0]} samples`);
  const n = x.shape[0];
  const [xc, yc] = tf.tidy(() => [tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor2D, tf.sub(y, tf.mean(y, 0, true)) as tf.Tensor2D]);
  try {
    return ckaFromGrams(gramOf(xc), gramOf(yc), n);
  } finally {
    tf.dispose([xc, yc]);
  }
}

export interface CkaOptions {
  /** Blocks to measure (default: all, U order). */
  blocks?: string[];
  /** Images per forward pass (default 8). */
  batchSize?: number;
  /** Samples per Gram product (default 64; rounded to a multiple of batchSize). */
  groupSize?: number;
  /** Budget for kept activations, in bytes (default 2 GiB). */
  maxBytes?: number;
  names?: { before: string; after: string };
  /** Called after each group of samples with (groups done, groups in all passes). */
  onProgress?: (done: number, total: number) => void;
}

export interface BlockCka {
  block: string;
  /** The layer whose output stands for the block. */
  layer: string;
  features_before: number;
  features_after: number;
  /** null when one model's features do not vary over the images. */
  cka: number | null;
}

export interface CkaReport {
  samples: number;
  /** Passes over the images (1 when all activations fit in maxBytes). */
  passes: number;
  blocks: BlockCka[];
}

/** Linear CKA per block between two models on the same images [N, H, W, C] (N >= 2). */
export function blockCka(before: AnalysisModel, after: AnalysisModel, images: tf.Tensor4D, opts: CkaOptions = {}): CkaReport {
  requireSameInput(before, after, opts.names);
  const n = images.shape[0];
  if (n < 2) throw new UserError(`CKA needs at least 2 images, got ${n}`);
  const blocks = opts.blocks ?? before.layerMap.blocks.map((b) => b.name);
  const va = blockOutputs(before, blocks);
  const vb = blockOutputs(after, blocks);
  const batch = Math.max(1, Math.min(opts.batchSize ?? 8, n));
  const perSample = 4 * (va.features.reduce((a, b) => a + b, 0) + vb.features.reduce((a, b) => a + b, 0));
  const budget = opts.maxBytes ?? 2 * 2 ** 30;
  let group = Math.min(n, Math.max(batch, Math.ceil((opts.groupSize ?? 64) / batch) * batch));
  // A group in flight costs about 2x its activations (outputs, then their shifted copy).
  while (group > batch && 2 * group * perSample > budget / 2) group -= batch;
  const groups = Math.ceil(n / group);
  const chunk = Math.max(1, Math.min(groups, Math.floor((budget - 2 * group * perSample) / (group * perSample))));
  const passes = Math.ceil(groups / chunk);
  let totalSteps = 0;
  for (let p = 0; p < passes; p++) totalSteps += groups - p * chunk;

  const nb = blocks.length;
  const gramA = blocks.map(() => new Float64Array(n * n));
  const gramB = blocks.map(() => new Float64Array(n * n));
  let shiftA: tf.Tensor2D[] | null = null;
  let shiftB: tf.Tensor2D[] | null = null;
  let done = 0;

  /** The group's activations per block, shifted: [g, d] for each model. */
  const activations = (g: number): { a: tf.Tensor2D[]; b: tf.Tensor2D[]; start: number; size: number } => {
    const start = g * group;
    const size = Math.min(group, n - start);
    const partsA: tf.Tensor2D[][] = blocks.map(() => []);
    const partsB: tf.Tensor2D[][] = blocks.map(() => []);
    for (let s = start; s < start + size; s += batch) {
      const x = tf.slice(images, [s, 0, 0, 0], [Math.min(batch, start + size - s), -1, -1, -1]);
      const oa = va.run(x);
      const ob = vb.run(x);
      x.dispose();
      oa.forEach((t, i) => partsA[i]!.push(t));
      ob.forEach((t, i) => partsB[i]!.push(t));
    }
    const join = (parts: tf.Tensor2D[][]) =>
      parts.map((p) => {
        if (p.length === 1) return p[0]!;
        const c = tf.concat(p, 0);
        tf.dispose(p);
        return c;
      });
    let a = join(partsA);
    let b = join(partsB);
    if (!shiftA || !shiftB) {
      shiftA = a.map((t) => tf.mean(t, 0, true) as tf.Tensor2D);
      shiftB = b.map((t) => tf.mean(t, 0, true) as tf.Tensor2D);
    }
    const shift = (xs: tf.Tensor2D[], m: tf.Tensor2D[]) =>
      xs.map((t, i) => {
        const s = tf.sub(t, m[i]!) as tf.Tensor2D;
        t.dispose();
        return s;
      });
    a = shift(a, shiftA);
    b = shift(b, shiftB);
    return { a, b, start, size };
  };

  try {
    for (let p = 0; p < passes; p++) {
      const first = p * chunk;
      const last = Math.min(groups, first + chunk); // exclusive: the groups kept in this pass
      const keptA: { start: number; size: number; x: tf.Tensor2D }[][] = blocks.map(() => []);
      const keptB: { start: number; size: number; x: tf.Tensor2D }[][] = blocks.map(() => []);
      const keptIds = new Set<number>();
      try {
        for (let g = first; g < groups; g++) {
          const { a, b, start, size } = activations(g);
          try {
            for (let i = 0; i < nb; i++) {
              for (const [x, kept, gram] of [
                [a[i]!, keptA[i]!, gramA[i]!],
                [b[i]!, keptB[i]!, gramB[i]!],
              ] as const) {
                for (const k of kept) putBlock(gram, n, start, k.start, size, k.size, crossProduct(x, k.x));
                if (g < last) {
                  kept.push({ start, size, x });
                  keptIds.add(x.id);
                  putBlock(gram, n, start, start, size, size, crossProduct(x, x));
                }
              }
            }
          } finally {
            tf.dispose([...a, ...b].filter((t) => !keptIds.has(t.id)));
          }
          opts.onProgress?.(++done, totalSteps);
        }
      } finally {
        for (const k of [...keptA, ...keptB]) tf.dispose(k.map((e) => e.x));
      }
    }
  } finally {
    if (shiftA) tf.dispose(shiftA);
    if (shiftB) tf.dispose(shiftB);
  }
  return {
    samples: n,
    passes,
    blocks: blocks.map((block, i) => ({
      block,
      layer: va.layers[i]!,
      features_before: va.features[i]!,
      features_after: vb.features[i]!,
      cka: ckaFromGrams(gramA[i]!, gramB[i]!, n),
    })),
  };
}
