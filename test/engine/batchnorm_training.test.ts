// BatchNormalization in training mode on native (one forward and one backward kernel, ops/batch_norm_training.ts)
// against tfjs-layers' own path on cpu (tf.moments + tf.batchNorm and their TF.js gradients).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { nativeKernelNames } from '../../src/engine/index.js';
import { MOVING_AVERAGES } from '../../src/engine/kernels/math/batchnorm_training.js';
import { batchNormTraining } from '../../src/engine/ops/batch_norm_training.js';
import { expectSameOnBackends, maxRelativeError, randomTensor, runOn } from './harness.js';

const available = () => nativeKernelNames.has('UnetBatchNormTrain') && nativeKernelNames.has('UnetBatchNormTrainGrad');

/** A BatchNormalization layer (non-trivial gamma, beta and moving statistics) applied in training mode to x[shape]:
 * returns y, dx, dgamma, dbeta and the updated moving mean and variance. */
function layerStep(shape: number[], seed: number, lo = -2, hi = 3): tf.Tensor[] {
  const c = shape[shape.length - 1];
  const layer = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
  const x = randomTensor(shape, seed, lo, hi);
  layer.build(x.shape);
  layer.setWeights([randomTensor([c], seed + 1, 0.5, 1.5), randomTensor([c], seed + 2), randomTensor([c], seed + 3), randomTensor([c], seed + 4, 0.5, 2)]);
  const dy = randomTensor(shape, seed + 5);
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const f = (a: tf.Tensor) => layer.apply(a, { training: true }) as tf.Tensor;
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x), dy)) as tf.Scalar, [gamma, beta]);
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), dy)))(x);
  const y = f(x);
  const out = [y, dx, grads[gamma.name], grads[beta.name], value, ...layer.nonTrainableWeights.map((w) => tf.clone(w.read()))];
  for (const w of layer.weights) w.dispose();
  return out;
}

test('BatchNormalization (training) forward, gradients and moving statistics match cpu', async (t) => {
  if (!available()) return t.skip('the math family did not load');
  const shapes = [
    [8, 5, 7, 16],
    [3, 4, 4, 3],
    [2, 1, 1, 5],
    [64, 10],
    [1, 9, 11, 33],
  ];
  for (const [i, shape] of shapes.entries()) {
    await expectSameOnBackends(`BN training x[${shape}]`, () => layerStep(shape, 10 * i), { expectNative: ['UnetBatchNormTrain', 'UnetBatchNormTrainGrad'] });
  }
});

test('BatchNormalization (training): a large mean keeps the variance accurate', async (t) => {
  if (!available()) return t.skip('the math family did not load');
  await expectSameOnBackends('BN training, x in [1000, 1001)', () => layerStep([4, 6, 6, 8], 77, 1000, 1001), {
    tol: 2e-4,
    expectNative: ['UnetBatchNormTrain'],
  });
});

test('batchNormTraining: gradients reaching the mean and variance outputs count as in tf.moments', async (t) => {
  if (!available()) return t.skip('the math family did not load');
  const shape = [2, 5, 3, 7];
  const inputs = () => [
    randomTensor(shape, 1, -1, 2),
    randomTensor([7], 2, 0.5, 1.5),
    randomTensor([7], 3),
    randomTensor(shape, 4),
    randomTensor([7], 5),
    randomTensor([7], 6),
  ];
  // loss = sum(y dy) + sum(mean dm) + sum(variance dv), by the fused op on native and by TF.js's ops on cpu.
  const loss = (y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, dy: tf.Tensor, dm: tf.Tensor, dv: tf.Tensor) =>
    tf.addN([tf.sum(tf.mul(y, dy)), tf.sum(tf.mul(mean, dm)), tf.sum(tf.mul(variance, dv))]) as tf.Scalar;
  const native = await runOn('native', () => {
    const [x, g, b, dy, dm, dv] = inputs();
    return tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const [y, mean, variance] = batchNormTraining(a, s as tf.Tensor1D, o as tf.Tensor1D, 1e-3);
      return loss(y, mean, variance, dy, dm, dv);
    })([x, g, b]);
  });
  const cpu = await runOn('cpu', () => {
    const [x, g, b, dy, dm, dv] = inputs();
    return tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return loss(tf.batchNorm(a, mean, variance, o, s, 1e-3), mean, variance, dy, dm, dv);
    })([x, g, b]);
  });
  assert.ok(native.kernels.some((k) => k.kernel === 'UnetBatchNormTrainGrad' && k.native));
  native.outputs.forEach((o, i) => {
    const err = maxRelativeError(o.values, cpu.outputs[i].values);
    assert.ok(err <= 1e-4, `gradient ${i}: max relative error ${err.toExponential(2)}`);
  });
});

test("BatchNormalization in inference mode, and on cpu, keeps tfjs-layers' path", async (t) => {
  if (!available()) return t.skip('the math family did not load');
  const run = (training: boolean) => () => {
    const layer = tfl.layers.batchNormalization({});
    const y = layer.apply(randomTensor([2, 3, 3, 4], 9), { training }) as tf.Tensor;
    for (const w of layer.weights) w.dispose();
    return y;
  };
  const inference = await runOn('native', run(false));
  assert.ok(!inference.kernels.some((k) => k.kernel === 'UnetBatchNormTrain'), 'inference must use the moving statistics');
  assert.ok(inference.kernels.some((k) => k.kernel === 'FusedBatchNorm'));
  const cpu = await runOn('cpu', run(true));
  assert.ok(cpu.kernels.every((k) => k.kernel !== 'UnetBatchNormTrain'));
});

/** conv -> BN -> ReLU -> conv, and a BN whose output goes to a ReLU and to an Add (two consumers): one training
 * step's output, every trainable weight's gradient and the moving statistics. */
function reluModelStep(): tf.Tensor[] {
  const input = tfl.input({ shape: [6, 6, 4] });
  const conv = (name: string, seed: number) =>
    tfl.layers.conv2d({ name, filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-3 });
  const a = tfl.layers.reLU({ name: 'relu_a' }).apply(bn('bn_a').apply(conv('conv_a', 1).apply(input))) as tfl.SymbolicTensor;
  const bOut = bn('bn_b').apply(conv('conv_b', 2).apply(a)) as tfl.SymbolicTensor;
  const b = tfl.layers.activation({ name: 'relu_b', activation: 'relu' }).apply(bOut) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'add' }).apply([b, bOut]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: sum });
  const x = randomTensor([3, 6, 6, 4], 81);
  const dy = randomTensor([3, 6, 6, 8], 82);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar, weights);
  const out = [value, ...weights.map((w) => grads[w.name]), ...model.nonTrainableWeights.map((w) => tf.clone(w.read()))];
  model.dispose();
  return out;
}

test("a ReLU layer that is a batch norm's only consumer is fused into it; one with a second consumer is not", async (t) => {
  if (!available() || !nativeKernelNames.has('UnetBatchNormReluTrain')) return t.skip('the math family did not load');
  await expectSameOnBackends('conv-BN-ReLU model step', reluModelStep, { expectNative: ['UnetBatchNormReluTrain', 'UnetBatchNormTrain'] });
  const { kernels } = await runOn('native', reluModelStep);
  const count = (k: string) => kernels.filter((r) => r.kernel === k).length;
  assert.equal(count('UnetBatchNormReluTrain'), 1, 'bn_a + relu_a fused');
  assert.equal(count('UnetBatchNormTrain'), 1, 'bn_b keeps its own output (the Add reads it too)');
  assert.equal(count('Relu'), 1, 'relu_b still runs; relu_a does not');
});

/** conv -> BN -> ReLU(6) -> conv -> BN -> Activation('relu6'), with gamma 4 so that many values pass the cap: one
 * training step's output, every trainable weight's gradient and the moving statistics. */
function relu6ModelStep(): tf.Tensor[] {
  const input = tfl.input({ shape: [6, 6, 4] });
  const conv = (name: string, seed: number) =>
    tfl.layers.conv2d({ name, filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-3, gammaInitializer: tfl.initializers.constant({ value: 4 }) });
  const a = tfl.layers.reLU({ name: 'relu6_a', maxValue: 6 }).apply(bn('bn_a').apply(conv('conv_a', 3).apply(input))) as tfl.SymbolicTensor;
  const b = tfl.layers.activation({ name: 'relu6_b', activation: 'relu6' }).apply(bn('bn_b').apply(conv('conv_b', 4).apply(a))) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: b });
  const x = randomTensor([3, 6, 6, 4], 83);
  const dy = randomTensor([3, 6, 6, 8], 84);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar, weights);
  const capped = tf.sum(tf.cast(tf.equal(model.apply(x, { training: true }) as tf.Tensor, 6), 'float32'));
  const out = [value, capped, ...weights.map((w) => grads[w.name]), ...model.nonTrainableWeights.map((w) => tf.clone(w.read()))];
  model.dispose();
  return out;
}

test('a ReLU(6) after a batch norm is fused too: forward, gradients and moving statistics as tfjs-layers computes them', async (t) => {
  if (!available() || !nativeKernelNames.has('UnetBatchNormReluTrain')) return t.skip('the math family did not load');
  await expectSameOnBackends('conv-BN-ReLU6 model step', relu6ModelStep, { expectNative: ['UnetBatchNormReluTrain'] });
  const { kernels, outputs } = await runOn('native', relu6ModelStep);
  assert.ok(outputs[1].values[0] > 20, `values at the cap: ${outputs[1].values[0]} (the test must exercise it)`);
  const count = (k: string) => kernels.filter((r) => r.kernel === k).length;
  assert.equal(count('UnetBatchNormTrain'), 0, 'both batch norms fused with their ReLU6');
  assert.equal(count('Relu6') + count('ClipByValue') + count('Relu'), 0, 'no separate ReLU6 kernels');
});

test('the moving statistics update in one kernel rounds as tfjs-layers three ops do (bit for bit)', async (t) => {
  if (!nativeKernelNames.has(MOVING_AVERAGES)) return t.skip('the math family did not load');
  const { outputs } = await runOn('native', () => {
    const c = 37;
    const m = randomTensor([c], 5, -3, 3);
    const v = randomTensor([c], 6, 0.01, 40);
    const mean = randomTensor([c], 7, -3, 3);
    const variance = randomTensor([c], 8, 0.01, 40);
    const momentum = 0.99;
    const [m1, v1] = tf.engine().runKernel(MOVING_AVERAGES, { movingMean: m, movingVariance: v, mean, variance }, { momentum }) as tf.Tensor[];
    const update = (x: tf.Tensor, value: tf.Tensor) => tf.sub(x, tf.mul(tf.sub(x, value), 1 - momentum));
    return [tf.concat([m1, v1]), tf.concat([update(m, mean), update(v, variance)])];
  });
  assert.deepEqual(Array.from(outputs[0].values), Array.from(outputs[1].values), 'one kernel and three ops agree bit for bit');
});
