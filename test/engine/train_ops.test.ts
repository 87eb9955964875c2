import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';

import { profiler } from '../../src/engine/index.js';
import { sparseSoftmaxCrossEntropy } from '../../src/engine/ops/sparse_softmax_cross_entropy.js';
import { FusedAdam, type NamedTensor } from '../../src/train/optimizers/fused_adam.js';
import { maxRelativeError, randomTensor, randomValues } from './harness.js';

const BACKENDS = ['cpu', 'native'];
// Without the addon the ops still run on `native` (the JavaScript kernels are copied there);
// only the checks that the native kernels ran are then skipped.
const EXPECT_NATIVE = process.env.UNET_TRANSFER_NO_NATIVE !== '1';
const K = 23;

function labelsOf(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    Array.from(
      randomValues(
        shape.reduce((a, b) => a * b, 1),
        seed,
        0,
        K,
      ),
      Math.floor,
    ),
    shape,
    'int32',
  );
}

/** [loss, dlogits] of f(logits) on one backend, as plain arrays. */
async function lossAndGrad(backend: string, shape: number[], f: (logits: tf.Tensor, labels: tf.Tensor) => tf.Scalar) {
  await tf.setBackend(backend);
  const { result, kernels } = profiler.capture(() =>
    tf.tidy(() => {
      const logits = randomTensor(shape, 1, -4, 4);
      const labels = labelsOf(shape.slice(0, -1), 2);
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => f(x, labels))([logits]);
      return [value.dataSync()[0], grads[0].dataSync() as Float32Array] as const;
    }),
  );
  return { loss: result[0], grad: result[1], kernels };
}

const WEIGHTS = Array.from(randomValues(K, 3, 0.2, 2));

const reference = (logits: tf.Tensor, labels: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, K), logits) as tf.Scalar;
const weightedReference = (logits: tf.Tensor, labels: tf.Tensor) => {
  const wy = tf.gather(tf.tensor1d(WEIGHTS), labels);
  return tf.div(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, K), logits, wy, 0, tf.Reduction.SUM), tf.sum(wy)) as tf.Scalar;
};

// [1,40,36,23]: just above the native kernel's threshold for threads (one shape; the weighted
// and unweighted paths share the loop).
for (const [label, ours, theirs, shapes] of [
  [
    'mean',
    (x: tf.Tensor, y: tf.Tensor) => sparseSoftmaxCrossEntropy(x, y),
    reference,
    [
      [2, 3, 4, K],
      [1, 40, 36, K],
    ],
  ],
  [
    'class-weighted',
    (x: tf.Tensor, y: tf.Tensor) => sparseSoftmaxCrossEntropy(x, y, WEIGHTS),
    weightedReference,
    [
      [2, 3, 4, K],
      [1, 5, 7, K],
    ],
  ],
] as const) {
  test(`sparseSoftmaxCrossEntropy (${label}) matches tf.losses.softmaxCrossEntropy in value and gradient`, async () => {
    for (const shape of shapes) {
      const ref = await lossAndGrad('cpu', [...shape], theirs);
      for (const backend of BACKENDS) {
        const got = await lossAndGrad(backend, [...shape], ours);
        assert.ok(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss) <= 1e-4, `${backend} ${shape}: loss ${got.loss} vs ${ref.loss}`);
        const err = maxRelativeError(got.grad, ref.grad);
        assert.ok(err <= 1e-4, `${backend} ${shape}: gradient error ${err}`);
        const ran = got.kernels.filter((k) => k.kernel === 'UnetSparseSoftmaxXent');
        if (backend === 'native' && EXPECT_NATIVE)
          assert.ok(ran.length > 0 && ran.every((k) => k.native), `${shape}: UnetSparseSoftmaxXent did not run natively`);
      }
    }
  });
}

test('sparseSoftmaxCrossEntropy names a label outside [0, K) and leaks nothing', async () => {
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const logits = randomTensor([1, 2, 2, K], 4);
    for (const bad of [K, -1]) {
      const labels = tf.tensor3d([0, 5, bad, 1], [1, 2, 2], 'int32');
      const before = tf.memory().numTensors;
      const dataBefore = tf.engine().backend.numDataIds();
      assert.throws(() => sparseSoftmaxCrossEntropy(logits, labels), new RegExp(`label ${bad} at position 2 is outside \\[0, ${K}\\)`), backend);
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      assert.equal(tf.engine().backend.numDataIds(), dataBefore, `${backend}: buffers leaked`);
      labels.dispose();
    }
    assert.throws(() => sparseSoftmaxCrossEntropy(logits, tf.zeros([1, 2, 3], 'int32')), /labels must be int32 \[1,2,2\]/);
    logits.dispose();
  }
});

// A problem with a known gradient; size 182 puts w (33124 values) just above the native
// kernel's threshold for threads.
function problem(size = 182) {
  const w = tf.variable(randomTensor([size, size], 5));
  const b = tf.variable(randomTensor([7], 6));
  const tw = randomTensor([size, size], 7);
  const tb = randomTensor([7], 8);
  const loss = () => tf.add(tf.sum(tf.square(tf.sub(w, tw))), tf.sum(tf.mul(tf.square(tf.sub(b, tb)), tf.range(1, 8)))) as tf.Scalar;
  const dispose = () => tf.dispose([w, b, tw, tb]);
  return { w, b, loss, dispose };
}

async function train(backend: string, make: () => tf.Optimizer, steps: number, size?: number) {
  await tf.setBackend(backend);
  const p = problem(size);
  const opt = make();
  const { kernels } = profiler.capture(() => {
    for (let i = 0; i < steps; i++) opt.minimize(p.loss);
  });
  const out = { w: p.w.dataSync() as Float32Array, b: p.b.dataSync() as Float32Array, kernels };
  opt.dispose();
  p.dispose();
  return out;
}

test('10 steps of FusedAdam on cpu and native equal tf.train.adam on cpu (1e-5)', async () => {
  const ref = await train('cpu', () => tf.train.adam(0.01), 10);
  for (const backend of BACKENDS) {
    const got = await train(backend, () => new FusedAdam(0.01), 10);
    for (const k of ['w', 'b'] as const) {
      const err = maxRelativeError(got[k], ref[k]);
      assert.ok(err <= 1e-5, `${backend} ${k}: error ${err}`);
    }
    if (backend === 'native' && EXPECT_NATIVE) {
      const ran = got.kernels.filter((k) => k.kernel === 'UnetAdamUpdate');
      assert.ok(ran.length > 0 && ran.every((k) => k.native), 'UnetAdamUpdate did not run natively');
    }
  }
});

test('FusedAdam on a variable of over 2^20 values (the native streaming-store path) equals tf.train.adam (1e-5)', async () => {
  const size = 1025; // 1,050,625 values: not a multiple of 16, so the path's head and tail run too
  const ref = await train('cpu', () => tf.train.adam(0.01), 3, size);
  const got = await train('native', () => new FusedAdam(0.01), 3, size);
  for (const k of ['w', 'b'] as const) {
    const err = maxRelativeError(got[k], ref[k]);
    assert.ok(err <= 1e-5, `${k}: error ${err}`);
  }
});

test('FusedAdam.adamw applies decoupled weight decay (against a double-precision reference)', async () => {
  const [lr, wd, b1, b2, eps] = [0.05, 0.1, 0.9, 0.999, 1e-7];
  const x0 = Array.from(randomValues(3000, 9));
  const target = Array.from(randomValues(3000, 10));
  // Reference: loss = sum((x - target)^2), so g = 2 (x - target).
  const x = [...x0];
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  for (let t = 1; t <= 5; t++) {
    for (let i = 0; i < x.length; i++) {
      const g = 2 * (x[i] - target[i]);
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      x[i] = x[i] - lr * wd * x[i] - (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
    }
  }
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const variable = tf.variable(tf.tensor1d(x0));
    const t = tf.tensor1d(target);
    const opt = FusedAdam.adamw(lr, wd, { epsilon: eps });
    for (let i = 0; i < 5; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(variable, t))));
    const err = maxRelativeError(variable.dataSync(), x);
    assert.ok(err <= 1e-5, `${backend}: error ${err}`);
    opt.dispose();
    tf.dispose([variable, t]);
  }
});

test('FusedAdam state round-trips through getWeights / setWeights exactly, and steps leak nothing', async () => {
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const straight = await train(backend, () => new FusedAdam(0.02), 10, 20);

    const p = problem(20);
    const first = new FusedAdam(0.02);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      first.minimize(p.loss);
      counts.push(tf.memory().numTensors);
    }
    // After the first step has made the moments, the tensor count stays put.
    assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1], counts[1]], `${backend}: tensors per step ${counts}`);

    const saved: NamedTensor[] = await first.getWeights();
    assert.deepEqual(
      saved.map((s) => s.name),
      ['iter', `${p.w.name}/m`, `${p.b.name}/m`, `${p.w.name}/v`, `${p.b.name}/v`],
    );
    // A checkpoint holds copies; the optimizer that wrote it goes away.
    const copies = saved.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    first.dispose();
    saved[0].tensor.dispose();

    const second = new FusedAdam(0.02);
    await second.setWeights(copies);
    tf.dispose(copies.map((c) => c.tensor));
    assert.equal(second.iterations, 5);
    for (let i = 0; i < 5; i++) second.minimize(p.loss);
    assert.equal(maxRelativeError(p.w.dataSync(), straight.w), 0, `${backend}: restored run differs`);
    assert.equal(maxRelativeError(p.b.dataSync(), straight.b), 0, `${backend}: restored run differs`);

    const before = tf.memory().numTensors;
    second.dispose();
    assert.equal(tf.memory().numTensors, before - 4, `${backend}: dispose frees the four moments`);
    p.dispose();
  }
});

test('FusedAdam.setWeights rejects weights that are not moments', async () => {
  const opt = new FusedAdam(0.1);
  await assert.rejects(
    opt.setWeights([
      { name: 'iter', tensor: tf.scalar(1, 'int32') },
      { name: 'w/x', tensor: tf.zeros([2]) },
    ]),
    /w\/x is not a moment/,
  );
  await assert.rejects(
    opt.setWeights([
      { name: 'iter', tensor: tf.scalar(1, 'int32') },
      { name: 'w/m', tensor: tf.zeros([2]) },
    ]),
    /w has only its first moment/,
  );
  opt.dispose();
});

test('FusedAdam updates its moments in place only while nothing else refers to them', async (t) => {
  if (!EXPECT_NATIVE) return t.skip('the train family did not load');
  await tf.setBackend('native');
  const p = problem(); // w: 33,124 values, pooled buffers
  const opt = new FusedAdam(0.01);
  opt.minimize(p.loss); // makes the moments
  opt.minimize(p.loss); // the first step's moments came out of the kernel: now exclusively the optimizer's
  const [, m] = await opt.getWeights();
  const id = (m.tensor as tf.Variable).dataId;
  opt.minimize(p.loss);
  assert.equal((m.tensor as tf.Variable).dataId, id, 'an exclusive moment is written in place');

  // a clone shares the buffer: the update goes to a new one and the clone keeps the values it had
  const held = m.tensor.clone();
  const before = Float32Array.from(held.dataSync()); // reading it out also makes the buffer visible outside
  opt.minimize(p.loss);
  assert.notEqual((m.tensor as tf.Variable).dataId, id, 'a shared moment is not written in place');
  assert.deepEqual(Array.from(held.dataSync()), Array.from(before), 'the clone did not change');
  assert.ok(maxRelativeError(m.tensor.dataSync() as Float32Array, before) > 0, 'the moment did');
  held.dispose();
  opt.dispose();
  p.dispose();
});
