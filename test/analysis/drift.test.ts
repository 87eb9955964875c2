import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { diffModels, largestEigenvalue, largestSingularValue } from '../../src/analysis/index.js';
import { UserError } from '../../src/util/errors.js';
import { shiftWeight, tiny } from './helpers.js';

await tf.setBackend('cpu');

const close = (a: number | null, b: number, tol = 1e-5, what = '') =>
  assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('a model against itself: zero drift, cos 1, spectral 0', () => {
  const a = tiny();
  const b = tiny();
  const r = diffModels(a, b);
  assert.ok(r.layers.length > 0);
  for (const l of r.layers) {
    assert.equal(l.abs, 0, l.layer);
    assert.equal(l.rel, 0);
    assert.equal(l.rms, 0);
    close(l.cos, 1, 1e-6, l.layer);
    assert.equal(l.filter_max, 0);
    assert.equal(l.spectral, 0);
  }
  for (const g of [...r.blocks, ...r.regions, r.total]) {
    assert.equal(g.abs, 0);
    close(g.cos, 1, 1e-6, g.name);
  }
  // U order: enc1, enc2, bottleneck, dec2, dec1, head.
  assert.deepEqual(
    r.blocks.map((x) => x.name),
    ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head'],
  );
  assert.deepEqual(
    r.regions.map((x) => x.name),
    ['encoder', 'bottleneck', 'decoder', 'head'],
  );
  assert.deepEqual(r.replaced, []);
  a.model.dispose();
  b.model.dispose();
});

test('+c on one kernel: abs = c*sqrt(n) there and 0 elsewhere; spectral = c*sqrt(n)/sigma_max(W)', () => {
  const a = tiny();
  const b = tiny();
  const c = 0.01;
  shiftWeight(b, 'enc2_conv1', 'kernel', c);
  const r = diffModels(a, b);
  for (const l of r.layers) {
    if (l.layer === 'enc2_conv1') {
      assert.equal(l.n, 3 * 3 * 4 * 8);
      close(l.abs, c * Math.sqrt(l.n), 1e-4, 'abs');
      close(l.rms, c, 1e-4, 'rms');
      close(l.rel, (c * Math.sqrt(l.n)) / l.norm_before, 1e-4, 'rel');
      assert.equal(l.bias_abs, 0);
      // The change is the all-c matrix [8, 36]: rank one, sigma = c*sqrt(n). sigma_max(W) by plain power iteration:
      const w = a.model.getLayer('enc2_conv1').weights[0]!.read();
      const v = w.dataSync();
      const out = 8;
      const rows = v.length / out;
      let x = new Float64Array(out).fill(1);
      let sigma2 = 0;
      for (let it = 0; it < 5000; it++) {
        const y = new Float64Array(rows);
        for (let p = 0; p < rows; p++) for (let o = 0; o < out; o++) y[p] += v[p * out + o]! * x[o]!;
        const z = new Float64Array(out);
        for (let p = 0; p < rows; p++) for (let o = 0; o < out; o++) z[o] += v[p * out + o]! * y[p]!;
        sigma2 = Math.hypot(...z);
        x = z.map((q) => q / sigma2);
      }
      close(l.spectral, (c * Math.sqrt(l.n)) / Math.sqrt(sigma2), 1e-3, 'spectral');
      assert.ok(l.cos! < 1 && l.cos! > 0.9);
    } else {
      assert.equal(l.abs, 0, l.layer);
    }
  }
  const enc2 = r.blocks.find((x) => x.name === 'enc2')!;
  close(enc2.abs, c * Math.sqrt(3 * 3 * 4 * 8), 1e-4, 'block abs');
  for (const blk of r.blocks) if (blk.name !== 'enc2') assert.equal(blk.abs, 0);
  close(r.regions.find((x) => x.name === 'encoder')!.abs, enc2.abs, 1e-9, 'region abs');
  close(r.total.abs, enc2.abs, 1e-9, 'total abs');
  a.model.dispose();
  b.model.dispose();
});

test('the spectral estimate matches long power iteration on random matrices', () => {
  for (const [rows, cols, seed] of [
    [30, 70, 1],
    [64, 20, 2],
    [1, 9, 3],
  ] as const) {
    const w = tf.randomNormal([rows, cols], 0, 1, 'float32', seed);
    const v = w.dataSync();
    // sigma_max^2 = lambda_max(W^T W) by 20000 power steps in float64.
    const g = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) for (let k = 0; k < rows; k++) g[i * cols + j] += v[k * cols + i]! * v[k * cols + j]!;
    let x = new Float64Array(cols).fill(1);
    let lam = 0;
    for (let it = 0; it < 20000; it++) {
      const y = new Float64Array(cols);
      for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) y[i] += g[i * cols + j]! * x[j]!;
      lam = Math.hypot(...y);
      x = y.map((q) => q / lam);
    }
    close(largestSingularValue(w, 1), Math.sqrt(lam), 1e-4, `${rows}x${cols}`);
    close(largestSingularValue(tf.transpose(w), 0), Math.sqrt(lam), 1e-4, `${rows}x${cols} transposed`);
    close(largestEigenvalue(g, cols, 5), lam, 1e-6, 'eigenvalue');
    w.dispose();
  }
});

test('a new head with another class count is reported as replaced, not compared', () => {
  const a = tiny();
  const b = tiny({ classes: 5 });
  const r = diffModels(a, b);
  assert.deepEqual(
    r.replaced.map((x) => [x.layer, x.block, x.shape_before.at(-1), x.shape_after.at(-1)]),
    [['head_logits', 'head', 3, 5]],
  );
  assert.ok(!r.layers.some((l) => l.layer === 'head_logits'));
  assert.ok(r.layers.some((l) => l.layer === 'head_conv'));
  assert.equal(r.total.abs, 0);
  a.model.dispose();
  b.model.dispose();
});

test('models with different architectures: an error listing the layers that differ', () => {
  const a = tiny();
  const b = tiny({ filters: 8 });
  assert.throws(
    () => diffModels(a, b, { names: { before: 'm/a', after: 'm/b' } }),
    (e: unknown) =>
      e instanceof UserError &&
      /m\/a and m\/b have different architectures/.test(e.message) &&
      /enc1_conv1 \(kernel \[3,3,1,4\] vs \[3,3,1,8\]/.test(e.message) &&
      /dec1_conv2/.test(e.message),
  );
  const c = tiny({ depth: 3 });
  assert.throws(
    () => diffModels(a, c),
    (e: unknown) => e instanceof UserError && /enc3_conv1 \(only in AFTER\)/.test(e.message),
  );
  for (const m of [a, b, c]) m.model.dispose();
});

test('BatchNormalization: gamma rows with moving statistics, left out of the kernel aggregates', () => {
  const a = tiny({ arch: 'bn' });
  const b = tiny({ arch: 'bn' });
  shiftWeight(b, 'enc1_bn1', 'gamma', 0.5);
  shiftWeight(b, 'enc1_bn1', 'moving_mean', 1);
  const r = diffModels(a, b);
  const bn = r.layers.find((l) => l.layer === 'enc1_bn1')!;
  assert.equal(bn.weight, 'gamma');
  close(bn.abs, 0.5 * Math.sqrt(4), 1e-5, 'gamma abs');
  assert.equal(bn.spectral, null);
  assert.ok(bn.moving_mean_rel === null || bn.moving_mean_rel > 0); // initial moving mean is 0: rel undefined
  assert.equal(bn.moving_variance_rel, 0);
  assert.equal(r.blocks.find((x) => x.name === 'enc1')!.abs, 0);
  a.model.dispose();
  b.model.dispose();
});

test('no tensors leak', () => {
  const a = tiny();
  const b = tiny();
  shiftWeight(b, 'dec1_up', 'kernel', 0.1);
  diffModels(a, b);
  const n = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) diffModels(a, b);
  assert.equal(tf.memory().numTensors, n);
  a.model.dispose();
  b.model.dispose();
});
