// Weight drift (../shared/DESIGN.md, Measures): how far each layer's weights moved during fine-tuning.
// Per layer with a kernel W (BatchNormalization: its gamma), bias (beta) reported apart:
//   abs = ||W_after - W_before||_F, rel = abs / ||W_before||_F, rms = abs / sqrt(n),
//   cos = cosine(W_before, W_after), filter_max / filter_median = the largest and the median relative
//   drift of one output filter (||dW[..., o]|| / ||W_before[..., o]||), spectral = sigma_max(dW) /
//   sigma_max(W_before) with W reshaped to [out, in*kh*kw].
// Blocks and regions aggregate the kernels by sum of squares: abs = sqrt(sum abs^2), rel = abs /
// sqrt(sum ||W_before||^2), cos of the concatenated kernels, spectral = sqrt(sum sigma(dW)^2) /
// sqrt(sum sigma(W)^2), filter_max / filter_median over all the block's filters. BatchNormalization's
// gamma rows and its moving statistics are listed per layer but left out of the aggregates (they are not
// kernels, and BN makes their scale a different kind of quantity).
import * as tf from '@tensorflow/tfjs-core';

import { REGIONS, type Region } from '../model/layer-map.js';
import { layerWeights, pairModels, type AnalysisModel, type PairedLayer } from './pairing.js';
import { largestSingularValue } from './spectral.js';

/** The measures of ../shared/DESIGN.md, under its names; null where undefined (a zero denominator). */
export interface DriftMeasures {
  abs: number;
  rel: number | null;
  rms: number;
  cos: number | null;
  filter_max: number | null;
  filter_median: number | null;
  spectral: number | null;
  bias_abs: number | null;
  bias_rel: number | null;
}

export interface LayerDrift extends DriftMeasures {
  layer: string;
  block: string;
  region: Region;
  /** The weight measured: `kernel` (convolutions), `gamma` (BatchNormalization). */
  weight: string;
  shape: number[];
  /** Elements of the weight. */
  n: number;
  /** ||W_before||_F. */
  norm_before: number;
  /** BatchNormalization only: relative change of the moving mean and variance. */
  moving_mean_rel: number | null;
  moving_variance_rel: number | null;
}

/** A layer not compared: a new head with another class count. */
export interface ReplacedLayer {
  layer: string;
  block: string;
  region: Region;
  replaced: true;
  shape_before: number[];
  shape_after: number[];
}

export interface AggregateDrift extends DriftMeasures {
  /** Block name, region name for region rows, `total` for the whole model. */
  name: string;
  region: Region | 'all';
  /** Kernels aggregated, and their elements. */
  kernels: number;
  n: number;
  norm_before: number;
}

export interface DriftReport {
  /** Layer rows in U order (blocks enc1..bottleneck..dec1, head; layers in model order within a block). */
  layers: LayerDrift[];
  replaced: ReplacedLayer[];
  /** Blocks in U order (blocks without kernels are left out). */
  blocks: AggregateDrift[];
  regions: AggregateDrift[];
  /** Every kernel of the model. */
  total: AggregateDrift;
}

export interface DiffOptions {
  /** Labels of the two models in error messages (e.g. their folders). */
  names?: { before: string; after: string };
  /** Seed of the spectral power iteration's start vector (default 0). */
  seed?: number;
}

const MAIN_WEIGHTS = ['kernel', 'depthwise_kernel', 'pointwise_kernel', 'gamma'];
const BIAS_WEIGHTS: Record<string, string> = { kernel: 'bias', depthwise_kernel: 'bias', gamma: 'beta' };

/** Sums of one weight's comparison, kept so that blocks and regions can aggregate exactly. */
interface Sums {
  d2: number;
  b2: number;
  a2: number;
  ab: number;
  n: number;
  sigmaD2: number;
  sigmaB2: number;
  filters: number[];
  biasD2: number;
  biasB2: number;
  hasBias: boolean;
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = Float64Array.from(xs).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : 0.5 * (s[h - 1]! + s[h]!);
}

/** The axis of a kernel that indexes output filters: Conv2DTranspose keeps [kh, kw, out, in]. */
function outputAxis(className: string, shape: number[]): number {
  if (shape.length <= 1) return 0;
  return className === 'Conv2DTranspose' ? shape.length - 2 : shape.length - 1;
}

function compare(
  before: Float32Array,
  after: Float32Array,
  shape: number[],
  outAxis: number,
): Omit<Sums, 'sigmaD2' | 'sigmaB2' | 'biasD2' | 'biasB2' | 'hasBias'> {
  const out = shape[outAxis] ?? 1;
  const stride = shape.slice(outAxis + 1).reduce((a, b) => a * b, 1);
  const fd = new Float64Array(out);
  const fb = new Float64Array(out);
  let d2 = 0;
  let b2 = 0;
  let a2 = 0;
  let ab = 0;
  const n = before.length;
  // Output filter f owns runs of `stride` consecutive values, repeating every out * stride values; counters
  // walk that pattern without a division per element.
  for (let i = 0, f = 0, s = 0; i < n; i++) {
    const b = before[i]!;
    const a = after[i]!;
    const d = a - b;
    d2 += d * d;
    b2 += b * b;
    a2 += a * a;
    ab += a * b;
    fd[f]! += d * d;
    fb[f]! += b * b;
    if (++s === stride) {
      s = 0;
      if (++f === out) f = 0;
    }
  }
  const filters: number[] = [];
  for (let f = 0; f < out; f++) if (fb[f]! > 0) filters.push(Math.sqrt(fd[f]! / fb[f]!));
  return { d2, b2, a2, ab, n, filters };
}

function sumSq(a: Float32Array, b?: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b ? a[i]! - b[i]! : a[i]!;
    s += d * d;
  }
  return s;
}

function measures(s: Sums): DriftMeasures {
  const abs = Math.sqrt(s.d2);
  return {
    abs,
    rel: ratio(abs, Math.sqrt(s.b2)),
    rms: s.n > 0 ? abs / Math.sqrt(s.n) : 0,
    cos: ratio(s.ab, Math.sqrt(s.a2) * Math.sqrt(s.b2)),
    filter_max: s.filters.length ? s.filters.reduce((m, x) => (x > m ? x : m), -Infinity) : null,
    filter_median: median(s.filters),
    spectral: Number.isNaN(s.sigmaB2) ? null : ratio(Math.sqrt(s.sigmaD2), Math.sqrt(s.sigmaB2)),
    bias_abs: s.hasBias ? Math.sqrt(s.biasD2) : null,
    bias_rel: s.hasBias ? ratio(Math.sqrt(s.biasD2), Math.sqrt(s.biasB2)) : null,
  };
}

function aggregate(name: string, region: Region | 'all', parts: Sums[]): AggregateDrift {
  const s: Sums = { d2: 0, b2: 0, a2: 0, ab: 0, n: 0, sigmaD2: 0, sigmaB2: 0, filters: [], biasD2: 0, biasB2: 0, hasBias: false };
  for (const p of parts) {
    s.d2 += p.d2;
    s.b2 += p.b2;
    s.a2 += p.a2;
    s.ab += p.ab;
    s.n += p.n;
    s.sigmaD2 += p.sigmaD2;
    s.sigmaB2 += p.sigmaB2;
    for (const f of p.filters) s.filters.push(f);
    s.biasD2 += p.biasD2;
    s.biasB2 += p.biasB2;
    s.hasBias ||= p.hasBias;
  }
  return { name, region, kernels: parts.length, n: s.n, norm_before: Math.sqrt(s.b2), ...measures(s) };
}

function measureLayer(p: PairedLayer, seed: number): { rows: LayerDrift[]; sums: Sums[] } {
  const bw = layerWeights(p.before);
  const aw = layerWeights(p.after);
  const rows: LayerDrift[] = [];
  const sums: Sums[] = [];
  const read = (w: { read(): tf.Tensor }) => w.read().dataSync() as Float32Array;
  const statRel = (k: string): number | null => {
    const b = bw.get(k);
    const a = aw.get(k);
    return b && a ? ratio(Math.sqrt(sumSq(read(a), read(b))), Math.sqrt(sumSq(read(b)))) : null;
  };
  for (const name of MAIN_WEIGHTS) {
    const b = bw.get(name);
    const a = aw.get(name);
    if (!b || !a) continue;
    const shape = b.shape as number[];
    const outAxis = outputAxis(p.info.className, shape);
    const bv = read(b);
    const av = read(a);
    const c = compare(bv, av, shape, outAxis);
    const isKernel = name !== 'gamma' && shape.length >= 2;
    let sigmaD2 = NaN;
    let sigmaB2 = NaN;
    if (isKernel) {
      const delta = tf.sub(a.read(), b.read());
      try {
        sigmaD2 = largestSingularValue(delta, outAxis, seed) ** 2;
        sigmaB2 = largestSingularValue(b.read(), outAxis, seed) ** 2;
      } finally {
        delta.dispose();
      }
    }
    const biasName = BIAS_WEIGHTS[name];
    const bb = biasName ? bw.get(biasName) : undefined;
    const ba = biasName ? aw.get(biasName) : undefined;
    const hasBias = !!(bb && ba);
    const sums1: Sums = {
      ...c,
      sigmaD2,
      sigmaB2,
      hasBias,
      biasD2: hasBias ? sumSq(read(ba!), read(bb!)) : 0,
      biasB2: hasBias ? sumSq(read(bb!)) : 0,
    };
    const isBn = p.info.kind === 'bn';
    rows.push({
      layer: p.info.name,
      block: p.info.block,
      region: p.info.region,
      weight: name,
      shape,
      n: c.n,
      norm_before: Math.sqrt(c.b2),
      ...measures(sums1),
      moving_mean_rel: isBn ? statRel('moving_mean') : null,
      moving_variance_rel: isBn ? statRel('moving_variance') : null,
    });
    if (isKernel) sums.push(sums1);
  }
  return { rows, sums };
}

/**
 * Compares the weights of two models of the same architecture, layer by layer, then per block and
 * region (U order). Throws a UserError listing the layers that differ when the architectures do not
 * match; a new head (another class count) is listed under `replaced`.
 */
export function diffModels(before: AnalysisModel, after: AnalysisModel, opts: DiffOptions = {}): DriftReport {
  const pair = pairModels(before, after, opts.names);
  const seed = opts.seed ?? 0;
  const byLayer = new Map(pair.layers.map((p) => [p.info.name, p]));
  const layers: LayerDrift[] = [];
  const replaced: ReplacedLayer[] = [];
  const blocks: AggregateDrift[] = [];
  const blockSums = new Map<string, Sums[]>();
  const all: Sums[] = [];
  for (const block of before.layerMap.blocks) {
    const sums: Sums[] = [];
    for (const name of block.layers) {
      const p = byLayer.get(name)!;
      if (p.replaced) {
        const main = p.before.weights.find((w) => MAIN_WEIGHTS.includes(w.originalName.slice(w.originalName.lastIndexOf('/') + 1))) ?? p.before.weights[0]!;
        const other = layerWeights(p.after).get(main.originalName.slice(main.originalName.lastIndexOf('/') + 1))!;
        replaced.push({
          layer: name,
          block: p.info.block,
          region: p.info.region,
          replaced: true,
          shape_before: main.shape as number[],
          shape_after: other.shape as number[],
        });
        continue;
      }
      const m = measureLayer(p, seed);
      layers.push(...m.rows);
      sums.push(...m.sums);
    }
    blockSums.set(block.name, sums);
    all.push(...sums);
    if (sums.length > 0) blocks.push(aggregate(block.name, block.region, sums));
  }
  const regions: AggregateDrift[] = [];
  for (const region of REGIONS) {
    const sums = before.layerMap.blocksIn(region).flatMap((b) => blockSums.get(b.name) ?? []);
    if (sums.length > 0) regions.push(aggregate(region, region, sums));
  }
  return { layers, replaced, blocks, regions, total: aggregate('total', 'all', all) };
}
