import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { buildUNet, layerFlops, trainingStepFlops } from '../../src/model/index.js';
import { UserError } from '../../src/util/errors.js';
import { useCpu, weightBytes } from './helpers.js';

before(useCpu);

test('the course U-Net has 8,640,471 parameters at F=32 and 2,161,399 at F=16 (23 classes, 96x128x3)', () => {
  for (const [filters, expected] of [
    [32, 8_640_471],
    [16, 2_161_399],
  ]) {
    const u = buildUNet({ arch: 'course', filters, classes: 23, input: [96, 128, 3], seed: 1 });
    assert.equal(u.model.countParams(), expected);
    assert.equal(u.layerMap.parameters, expected);
    assert.equal(
      u.layerMap.blocks.reduce((s, b) => s + b.parameters, 0),
      expected,
    );
    u.model.dispose();
  }
});

test('course layer names, blocks and regions follow DESIGN.md', () => {
  const u = buildUNet({ arch: 'course', depth: 4, filters: 4, classes: 5, input: [32, 32, 3], seed: 1 });
  const names = u.model.layers.map((l) => l.name);
  const expected = ['input'];
  for (let i = 1; i <= 4; i++) expected.push(`enc${i}_conv1`, `enc${i}_conv2`, ...(i === 4 ? ['enc4_dropout'] : []), `enc${i}_pool`);
  expected.push('bottleneck_conv1', 'bottleneck_conv2', 'bottleneck_dropout');
  for (let i = 4; i >= 1; i--) expected.push(`dec${i}_up`, `dec${i}_concat`, `dec${i}_conv1`, `dec${i}_conv2`);
  expected.push('head_conv', 'head_logits');
  assert.deepEqual(names, expected);
  assert.deepEqual(
    u.layerMap.blocks.map((b) => [b.name, b.region, b.level]),
    [
      ['enc1', 'encoder', 1],
      ['enc2', 'encoder', 2],
      ['enc3', 'encoder', 3],
      ['enc4', 'encoder', 4],
      ['bottleneck', 'bottleneck', 5],
      ['dec4', 'decoder', 4],
      ['dec3', 'decoder', 3],
      ['dec2', 'decoder', 2],
      ['dec1', 'decoder', 1],
      ['head', 'head', 1],
    ],
  );
  assert.equal(u.layerMap.layer('dec3_concat')?.kind, 'concat');
  assert.equal(u.layerMap.layer('dec3_up')?.kind, 'transpose');
  assert.equal(u.layerMap.layer('enc1_pool')?.block, 'enc1');
  assert.equal(u.layerMap.layer('input'), undefined);
  assert.equal(u.layerMap.input, 'input');
  // dec3 concatenates its up-sampling with enc3's skip (taken before the pool).
  const concat = u.model.getLayer('dec3_concat');
  assert.deepEqual(
    concat.inboundNodes[0].inboundLayers.map((l) => l.name),
    ['dec3_up', 'enc3_conv2'],
  );
  u.model.dispose();
});

test('the head outputs logits, NHWC [N, H, W, classes], with no softmax layer', () => {
  const u = buildUNet({ filters: 4, classes: 7, input: [32, 48, 3], seed: 3 });
  const last = u.model.layers[u.model.layers.length - 1];
  assert.equal(last.name, 'head_logits');
  assert.equal((last.getConfig() as { activation: string }).activation, 'linear');
  assert.ok(!u.model.layers.some((l) => l.getClassName() === 'Softmax' || (l.getConfig() as { activation?: string }).activation === 'softmax'));
  const y = tf.tidy(() => u.model.predict(tf.randomNormal([2, 32, 48, 3], 0, 1, 'float32', 1)) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 32, 48, 7]);
  const sums = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.sum(y, -1), 1))).dataSync()[0]);
  assert.ok(sums > 1e-3, 'outputs are not probabilities');
  y.dispose();
  u.model.dispose();
});

test('bn and classic archs: conv -> bn -> relu, bilinear up-sampling, no dropout by default', () => {
  const bn = buildUNet({ arch: 'bn', depth: 3, filters: 4, classes: 3, input: [32, 32, 1], upsample: 'bilinear', seed: 1 });
  const names = bn.model.layers.map((l) => l.name);
  for (const n of ['enc2_conv1', 'enc2_bn1', 'enc2_relu1', 'dec3_up', 'dec3_upconv', 'dec3_concat', 'head_logits']) assert.ok(names.includes(n), n);
  assert.ok(names.indexOf('enc2_conv1') < names.indexOf('enc2_bn1') && names.indexOf('enc2_bn1') < names.indexOf('enc2_relu1'));
  assert.ok(!names.some((n) => n.includes('dropout')));
  assert.equal(bn.layerMap.layer('enc2_bn1')?.kind, 'bn');
  assert.equal(bn.layerMap.layer('dec3_up')?.kind, 'upsample');
  assert.equal(bn.layerMap.layer('dec3_upconv')?.block, 'dec3');
  // BatchNormalization's moving statistics count as parameters but are not trainable.
  assert.equal(bn.layerMap.layer('enc2_bn1')?.parameters, 4 * 8);
  assert.equal(bn.layerMap.layer('enc2_bn1')?.trainableParameters, 2 * 8);
  assert.equal(bn.layerMap.parameters, bn.model.countParams());
  bn.model.dispose();

  const classic = buildUNet({ arch: 'classic', depth: 2, filters: 4, classes: 3, input: [16, 16, 3], seed: 1 });
  assert.deepEqual(
    classic.layerMap.blocks.map((b) => b.name),
    ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head'],
  );
  assert.deepEqual(classic.layerMap.block('head')?.layers, ['head_logits']);
  assert.deepEqual(classic.model.getLayer('dec2_up').getWeights()[0].shape, [2, 2, 8, 16]);
  classic.model.dispose();
});

test('depth 2..5 give the blocks enc1..encD, bottleneck, decD..dec1, head', () => {
  for (const depth of [2, 3, 4, 5]) {
    const u = buildUNet({ depth, filters: 2, classes: 2, input: [32, 32, 3], seed: 1 });
    const enc = Array.from({ length: depth }, (_, i) => `enc${i + 1}`);
    const dec = Array.from({ length: depth }, (_, i) => `dec${depth - i}`);
    assert.deepEqual(
      u.layerMap.blocks.map((b) => b.name),
      [...enc, 'bottleneck', ...dec, 'head'],
    );
    assert.equal(u.layerMap.block('bottleneck')?.level, depth + 1);
    assert.ok(u.layerMap.layer(`enc${depth}_dropout`));
    u.model.dispose();
  }
});

test('bad options are UserErrors that name the option; a wrong input size gets the nearest valid one', () => {
  assert.throws(
    () => buildUNet({ input: [97, 128, 3] }),
    (e: Error) => e instanceof UserError && /nearest valid size: 96x128x3/.test(e.message),
  );
  assert.throws(() => buildUNet({ depth: 5, input: [100, 70, 3] }), /multiples of 2\^5 = 32; nearest valid size: 96x64x3/);
  assert.throws(() => buildUNet({ depth: 3, input: [3, 3, 3] }), /nearest valid size: 8x8x3/);
  assert.throws(() => buildUNet({ depth: 6 }), /depth must be an integer from 2 to 5/);
  assert.throws(() => buildUNet({ filters: 0 }), /filters/);
  assert.throws(() => buildUNet({ dropout: 1 }), /dropout/);
  assert.throws(() => buildUNet({ arch: 'course', upsample: 'bilinear' }), /bilinear is not part of the course U-Net/);
  assert.throws(() => buildUNet({ arch: 'resnet' as never }), /arch must be one of course, classic, bn/);
});

test('the same seed gives bitwise the same weights; another seed does not', () => {
  const opts = { arch: 'bn' as const, depth: 2, filters: 4, classes: 3, input: [16, 16, 3] as [number, number, number] };
  const a = buildUNet({ ...opts, seed: 42 });
  const b = buildUNet({ ...opts, seed: 42 });
  const c = buildUNet({ ...opts, seed: 43 });
  assert.ok(weightBytes(a.model).equals(weightBytes(b.model)));
  assert.ok(!weightBytes(a.model).equals(weightBytes(c.model)));
  // he_normal: kernel std about sqrt(2 / fan_in) (truncated normal).
  const k = a.model.getLayer('enc2_conv1').getWeights()[0];
  const std = Math.sqrt(tf.tidy(() => tf.moments(k).variance.dataSync()[0]));
  const expected = Math.sqrt(2 / (3 * 3 * 4));
  assert.ok(Math.abs(std - expected) / expected < 0.2, `std ${std} vs ${expected}`);
  for (const u of [a, b, c]) u.model.dispose();
});

test('building, predicting and disposing leaks no tensors', () => {
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const u = buildUNet({ depth: 2, filters: 2, classes: 2, input: [16, 16, 3], seed: i });
    tf.tidy(() => {
      u.model.predict(tf.zeros([1, 16, 16, 3]));
    });
    u.model.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('layerFlops: 2*MACs per conv; a course F=16 batch-8 step is 30.3 GFLOP', () => {
  const u = buildUNet({ filters: 16, classes: 23, input: [96, 128, 3], seed: 1 });
  const flops = layerFlops(u);
  assert.equal(flops.length, 24);
  const first = flops[0];
  assert.equal(first.layer, 'enc1_conv1');
  assert.equal(first.forward, 2 * 96 * 128 * 3 * 3 * 3 * 16);
  assert.equal(first.backwardData, 0);
  const up = flops.find((f) => f.layer === 'dec4_up')!;
  assert.equal(up.kind, 'transpose');
  assert.equal(up.forward, 2 * 6 * 8 * 3 * 3 * 256 * 128); // one MAC per input pixel per kernel element
  const step = trainingStepFlops(u, 8);
  assert.equal(step.total, step.forward + step.backwardData + step.backwardWeights);
  assert.ok(Math.abs(step.total / 1e9 - 30.3) < 0.05, `${step.total / 1e9} GFLOP`);
  // Training the head only: forward everywhere, backward-data only inside the head.
  const head = trainingStepFlops(u, 8, ['head_conv', 'head_logits']);
  const hl = flops.find((f) => f.layer === 'head_logits')!;
  const hc = flops.find((f) => f.layer === 'head_conv')!;
  assert.equal(head.forward, step.forward);
  assert.equal(head.backwardData, 8 * hl.backwardData);
  assert.equal(head.backwardWeights, 8 * (hl.forward + hc.forward));
  u.model.dispose();
});
