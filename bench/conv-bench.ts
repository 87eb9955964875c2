// Micro-benchmark of the native convolution kernels on the course U-Net's shapes (F=16, batch 8,
// 96x128 input): forward, backward-data and backward-weights of each of the 24 convolutions of one
// training step, in GFLOP/s. Not a test. Usage (after `npx tsc -p .`):
//   node dist/bench/conv-bench.js [--reps 3] [--batch 8] [--filters 16] [--raw] [--precision bf16]
// By default each pass runs as a TF.js kernel (output allocation included); --raw calls the addon
// directly on preallocated buffers, which isolates oneDNN from the cost of fresh output memory.
// --precision bf16 (implies --raw) times every pass in fp32 and in bf16, interleaved, and prints bf16 / fp32; the
// bf16 calls pass no tensor ids, so each converts its inputs (and weights) as a training step's first use does.
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { family } from '../src/engine/addon.js';
import { cpuCapabilities, nativeKernelNames, useBestBackend } from '../src/engine/index.js';
import { nativeConv } from '../src/engine/kernels/conv/geometry.js';

interface Layer {
  name: string;
  /** Spatial size of the full-resolution side (the input of a conv, the output of an up-conv). */
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  /** 'up': Conv2DTranspose 3x3 stride 2 same from [h/2, w/2, cin] to [h, w, cout]. */
  up?: boolean;
  /** The first layer needs no gradient with respect to its input. */
  noDx?: boolean;
}

function courseUnet(f: number, h: number, w: number, classes = 23): Layer[] {
  const layers: Layer[] = [];
  let c = 3;
  for (let level = 1; level <= 4; level++) {
    const s = 2 ** (level - 1);
    const n = f * s;
    layers.push({ name: `enc${level}_conv1`, h: h / s, w: w / s, cin: c, cout: n, k: 3, noDx: level === 1 });
    layers.push({ name: `enc${level}_conv2`, h: h / s, w: w / s, cin: n, cout: n, k: 3 });
    c = n;
  }
  layers.push({ name: 'bottleneck_conv1', h: h / 16, w: w / 16, cin: c, cout: 16 * f, k: 3 });
  layers.push({ name: 'bottleneck_conv2', h: h / 16, w: w / 16, cin: 16 * f, cout: 16 * f, k: 3 });
  c = 16 * f;
  for (let level = 4; level >= 1; level--) {
    const s = 2 ** (level - 1);
    const n = f * s;
    layers.push({ name: `dec${level}_up`, h: h / s, w: w / s, cin: c, cout: n, k: 3, up: true });
    // The up-conv's output is concatenated with the skip of encL (n channels).
    layers.push({ name: `dec${level}_conv1`, h: h / s, w: w / s, cin: 2 * n, cout: n, k: 3 });
    layers.push({ name: `dec${level}_conv2`, h: h / s, w: w / s, cin: n, cout: n, k: 3 });
    c = n;
  }
  layers.push({ name: 'head_conv', h, w, cin: f, cout: f, k: 3 });
  layers.push({ name: 'head_logits', h, w, cin: f, cout: classes, k: 1 });
  return layers;
}

const conv = (x: tf.Tensor, filter: tf.Tensor, strides: number) =>
  tf.engine().runKernel(tf.Conv2D, { x, filter }, { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1 }) as tf.Tensor;
const backpropInput = (dy: tf.Tensor, filter: tf.Tensor, inputShape: number[], strides: number) =>
  tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { inputShape, strides, pad: 'same', dataFormat: 'NHWC' }) as tf.Tensor;
const backpropFilter = (x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number) =>
  tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { filterShape, strides, pad: 'same', dataFormat: 'NHWC' }) as tf.Tensor;

type Pass = 'fwd' | 'bwdData' | 'bwdWeights';

/** The three passes of one layer as thunks, on tensors made once. A convolution's view: `big` is
 * the full-resolution tensor, `small` the strided side (for a conv, stride 1: the same size). */
function passes(l: Layer, batch: number): { flops: number; run: Partial<Record<Pass, () => tf.Tensor>>; dispose: () => void } {
  const stride = l.up ? 2 : 1;
  const [sh, sw] = [l.h / stride, l.w / stride];
  if (l.up) {
    // conv2dTranspose from small [cin] to big [cout] = Conv2DBackpropInput of the conv big[cout] -> small[cin].
    const x = tf.randomNormal([batch, sh, sw, l.cin]);
    const filter = tf.randomNormal([l.k, l.k, l.cout, l.cin]);
    const dOut = tf.randomNormal([batch, l.h, l.w, l.cout]);
    return {
      flops: 2 * batch * sh * sw * l.k * l.k * l.cin * l.cout,
      run: {
        fwd: () => backpropInput(x, filter, [batch, l.h, l.w, l.cout], 2),
        bwdData: () => conv(dOut, filter, 2),
        bwdWeights: () => backpropFilter(dOut, x, filter.shape, 2),
      },
      dispose: () => tf.dispose([x, filter, dOut]),
    };
  }
  const x = tf.randomNormal([batch, l.h, l.w, l.cin]);
  const filter = tf.randomNormal([l.k, l.k, l.cin, l.cout]);
  const dy = tf.randomNormal([batch, l.h, l.w, l.cout]);
  const run: Partial<Record<Pass, () => tf.Tensor>> = {
    fwd: () => conv(x, filter, 1),
    bwdWeights: () => backpropFilter(x, dy, filter.shape, 1),
  };
  if (!l.noDx) run.bwdData = () => backpropInput(dy, filter, x.shape, 1);
  return { flops: 2 * batch * l.h * l.w * l.k * l.k * l.cin * l.cout, run, dispose: () => tf.dispose([x, filter, dy]) };
}

/** The same three passes straight on the addon, outputs preallocated (--raw); bf16: the bf16 kernels. */
function rawPasses(l: Layer, batch: number, bf16 = false): Partial<Record<Pass, () => void>> {
  const native = family('conv');
  if (!native) throw new Error('--raw needs the native conv family');
  const stride = l.up ? 2 : 1;
  // The convolution seen from its strided side: big [h, w, cBig] -> small [h/s, w/s, cSmall].
  const [cBig, cSmall] = l.up ? [l.cout, l.cin] : [l.cin, l.cout];
  const conv = nativeConv([batch, l.h, l.w, cBig], [l.k, l.k, cBig, cSmall], { strides: stride, pad: 'same' })!;
  const big = new Float32Array(batch * l.h * l.w * cBig).fill(0.5);
  const small = new Float32Array(batch * (l.h / stride) * (l.w / stride) * cSmall).fill(0.5);
  const filter = new Float32Array(l.k * l.k * cBig * cSmall).fill(0.1);
  const g = conv.geometry;
  const fwd = () => native.conv2dForward(big, filter, null, small, g, 0, 0, bf16);
  const data = () => native.conv2dBackwardData(small, filter, big, g, bf16);
  const weights = () => native.conv2dBackwardWeights(big, small, filter, g, bf16);
  if (l.up) return { fwd: data, bwdData: fwd, bwdWeights: weights };
  return l.noDx ? { fwd, bwdWeights: weights } : { fwd, bwdData: data, bwdWeights: weights };
}

/** Best of `reps` timed runs after one warm-up (which also creates the cached primitives). */
function time(fn: () => tf.Tensor | void, reps: number): number {
  const dispose = (t: tf.Tensor | void) => t && tf.dispose(t);
  dispose(fn());
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const out = fn();
    best = Math.min(best, performance.now() - start);
    dispose(out);
  }
  return best;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      batch: { type: 'string', default: '8' },
      filters: { type: 'string', default: '16' },
      raw: { type: 'boolean', default: false },
      precision: { type: 'string', default: 'fp32' },
    },
  });
  if (values.precision === 'bf16') return comparePrecisions(Number(values.reps), Number(values.batch), Number(values.filters));
  if (values.precision !== 'fp32') throw new Error(`--precision: fp32 or bf16, not ${values.precision}`);
  const reps = Number(values.reps);
  const batch = Number(values.batch);
  const f = Number(values.filters);
  const backend = await useBestBackend('native');
  for (const k of [tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter]) {
    if (!nativeKernelNames.has(k)) console.warn(`warning: ${k} is not native here; timing the JavaScript kernel`);
  }
  console.log(`conv bench: backend ${backend}${values.raw ? ' (raw addon calls)' : ''}, batch ${batch}, F=${f}, 96x128, best of ${reps}`);
  const cols: Pass[] = ['fwd', 'bwdData', 'bwdWeights'];
  console.log(['layer'.padEnd(18), 'shape'.padEnd(26), ...cols.map((c) => `${c} ms  GF/s`.padStart(18))].join(''));
  const total = { flops: 0, ms: 0 };
  const perPass: Record<Pass, { flops: number; ms: number }> = { fwd: { flops: 0, ms: 0 }, bwdData: { flops: 0, ms: 0 }, bwdWeights: { flops: 0, ms: 0 } };
  for (const l of courseUnet(f, 96, 128)) {
    const p = passes(l, batch);
    const raw = values.raw ? rawPasses(l, batch) : undefined;
    const shape = l.up ? `up ${l.h / 2}x${l.w / 2}x${l.cin}->${l.cout}` : `${l.h}x${l.w} ${l.k}x${l.k} ${l.cin}->${l.cout}`;
    const cells = cols.map((c) => {
      const fn = raw ? raw[c] : p.run[c];
      if (!fn) return '-'.padStart(18);
      const ms = time(fn, reps);
      total.flops += p.flops;
      total.ms += ms;
      perPass[c].flops += p.flops;
      perPass[c].ms += ms;
      return `${ms.toFixed(2).padStart(9)} ${(p.flops / ms / 1e6).toFixed(1).padStart(7)}`.padStart(18);
    });
    console.log([l.name.padEnd(18), shape.padEnd(26), ...cells].join(''));
    p.dispose();
  }
  for (const c of cols) {
    console.log(
      `${c.padEnd(11)} ${(perPass[c].flops / 1e9).toFixed(2)} GFLOP in ${perPass[c].ms.toFixed(1)} ms: ${(perPass[c].flops / perPass[c].ms / 1e6).toFixed(1)} GFLOP/s`,
    );
  }
  console.log(
    `all 24 convolutions of a training step: ${(total.flops / 1e9).toFixed(2)} GFLOP in ${total.ms.toFixed(1)} ms: ${(total.flops / total.ms / 1e6).toFixed(1)} GFLOP/s`,
  );
}

function once(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** --precision bf16: every pass of every layer in fp32 and in bf16 (best of reps each, interleaved), and the totals. */
async function comparePrecisions(reps: number, batch: number, f: number): Promise<void> {
  await useBestBackend('native');
  const caps = cpuCapabilities();
  if (!caps.bf16) throw new Error(`bf16 cannot run here: ${caps.bf16Unavailable}`);
  console.log(
    `conv bench fp32 vs bf16 (raw addon calls, inputs converted per call): batch ${batch}, F=${f}, 96x128, best of ${reps}, oneDNN ISA ${caps.onednnIsa}`,
  );
  const cols: Pass[] = ['fwd', 'bwdData', 'bwdWeights'];
  console.log(['layer'.padEnd(18), 'shape'.padEnd(26), ...cols.map((c) => `${c} fp32/bf16 ms`.padStart(24))].join(''));
  const sum: Record<Pass, { fp32: number; bf16: number }> = { fwd: { fp32: 0, bf16: 0 }, bwdData: { fp32: 0, bf16: 0 }, bwdWeights: { fp32: 0, bf16: 0 } };
  for (const l of courseUnet(f, 96, 128)) {
    const fp32 = rawPasses(l, batch, false);
    const bf16 = rawPasses(l, batch, true);
    const shape = l.up ? `up ${l.h / 2}x${l.w / 2}x${l.cin}->${l.cout}` : `${l.h}x${l.w} ${l.k}x${l.k} ${l.cin}->${l.cout}`;
    const cells = cols.map((c) => {
      const a = fp32[c];
      const b = bf16[c];
      if (!a || !b) return '-'.padStart(24);
      a();
      b();
      let ta = Infinity;
      let tb = Infinity;
      for (let i = 0; i < reps; i++) {
        ta = Math.min(ta, once(a));
        tb = Math.min(tb, once(b));
      }
      sum[c].fp32 += ta;
      sum[c].bf16 += tb;
      return `${ta.toFixed(2)}/${tb.toFixed(2)} ${(tb / ta).toFixed(2)}x`.padStart(24);
    });
    console.log([l.name.padEnd(18), shape.padEnd(26), ...cells].join(''));
  }
  let fp32 = 0;
  let bf16 = 0;
  for (const c of cols) {
    console.log(`${c.padEnd(11)} fp32 ${sum[c].fp32.toFixed(1)} ms, bf16 ${sum[c].bf16.toFixed(1)} ms: ${(sum[c].bf16 / sum[c].fp32).toFixed(2)}x`);
    fp32 += sum[c].fp32;
    bf16 += sum[c].bf16;
  }
  console.log(`all 24 convolutions: fp32 ${fp32.toFixed(1)} ms, bf16 ${bf16.toFixed(1)} ms: ${(bf16 / fp32).toFixed(2)}x`);
}

await main();
