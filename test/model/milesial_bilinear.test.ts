// The bn arch's `milesial-bilinear` up-sampling (the bilinear variant of milesial/Pytorch-UNet) and its
// ResizeBilinear2x layer: parameter counts equal to PyTorch's, channel widths, align-corners resizing,
// gradients, and model folders that save and load it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { buildUNet, loadModelFolder, saveModelFolder } from '../../src/model/index.js';
import { ResizeBilinear2x } from '../../src/model/layers/resize-bilinear-2x.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, useCpu, weightBytes } from './helpers.js';

before(useCpu);

const kernelShape = (u: ReturnType<typeof buildUNet>, layer: string) => u.model.getLayer(layer).getWeights()[0].shape;

test('milesial-bilinear has exactly the parameters of milesial/Pytorch-UNet (bilinear=True)', () => {
  // From `/usr/bin/python3 bench/torch_import/milesial_unet.py 64 8` (PyTorch's model.parameters(),
  // which leaves out BatchNorm's running statistics, as our trainable count does).
  const cases: Array<[filters: number, channels: number, classes: number, torch: number]> = [
    [64, 3, 2, 17_263_042], // milesial's published 17.3M bilinear model
    [8, 3, 2, 270_906],
    [8, 1, 3, 270_771],
  ];
  for (const [filters, channels, classes, expected] of cases) {
    const u = buildUNet({ arch: 'bn', depth: 4, filters, classes, input: [32, 32, channels], upsample: 'milesial-bilinear', seed: 1 });
    assert.equal(u.layerMap.trainableParameters, expected, `filters ${filters}, ${channels} channels, ${classes} classes`);
    assert.equal(u.layerMap.parameters, u.model.countParams());
    u.model.dispose();
  }
  // The transposed variant is milesial's bilinear=False model (486,562 at filters 8), and our own bilinear
  // variant stays as it was: a conv after the resize and full-width channels.
  const t = buildUNet({ arch: 'bn', depth: 4, filters: 8, classes: 2, input: [32, 32, 3], upsample: 'transpose', seed: 1 });
  assert.equal(t.layerMap.trainableParameters, 486_562);
  t.model.dispose();
  const ours = buildUNet({ arch: 'bn', depth: 4, filters: 8, classes: 2, input: [32, 32, 3], upsample: 'bilinear', seed: 1 });
  assert.ok(ours.model.getLayer('dec4_upconv'));
  assert.deepEqual(kernelShape(ours, 'bottleneck_conv1'), [3, 3, 64, 128]);
  ours.model.dispose();
});

test('milesial-bilinear layers: an align-corners resize named decL_up, no up-conv, halved channels from the bottleneck on', () => {
  const F = 4;
  const u = buildUNet({ arch: 'bn', depth: 4, filters: F, classes: 3, input: [32, 32, 1], upsample: 'milesial-bilinear', seed: 2 });
  const names = u.model.layers.map((l) => l.name);
  assert.ok(!names.some((n) => n.endsWith('_upconv')));
  for (let level = 4; level >= 1; level--) {
    const up = u.model.getLayer(`dec${level}_up`);
    assert.ok(up instanceof ResizeBilinear2x);
    assert.equal((up as ResizeBilinear2x).alignCorners, true);
    assert.equal(up.countParams(), 0);
    assert.equal(u.layerMap.layer(`dec${level}_up`)?.kind, 'upsample');
    assert.equal(u.layerMap.layer(`dec${level}_up`)?.block, `dec${level}`);
    assert.deepEqual(
      u.model.getLayer(`dec${level}_concat`).inboundNodes[0].inboundLayers.map((l) => l.name),
      [`dec${level}_up`, `enc${level}_relu2`],
    );
  }
  // milesial: down4 = Down(8F, 8F); up1 = Up(16F, 4F) with mid 8F; ... up4 = Up(2F, F) with mid F.
  assert.deepEqual(kernelShape(u, 'bottleneck_conv1'), [3, 3, 8 * F, 8 * F]);
  assert.deepEqual(kernelShape(u, 'bottleneck_conv2'), [3, 3, 8 * F, 8 * F]);
  assert.deepEqual(kernelShape(u, 'dec4_conv1'), [3, 3, 16 * F, 8 * F]);
  assert.deepEqual(kernelShape(u, 'dec4_conv2'), [3, 3, 8 * F, 4 * F]);
  assert.deepEqual(kernelShape(u, 'dec3_conv1'), [3, 3, 8 * F, 4 * F]);
  assert.deepEqual(kernelShape(u, 'dec3_conv2'), [3, 3, 4 * F, 2 * F]);
  assert.deepEqual(kernelShape(u, 'dec2_conv2'), [3, 3, 2 * F, F]);
  assert.deepEqual(kernelShape(u, 'dec1_conv1'), [3, 3, 2 * F, F]);
  assert.deepEqual(kernelShape(u, 'dec1_conv2'), [3, 3, F, F]);
  assert.deepEqual(
    u.layerMap.blocks.map((b) => b.name),
    ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck', 'dec4', 'dec3', 'dec2', 'dec1', 'head'],
  );
  const y = tf.tidy(() => u.model.predict(tf.randomNormal([2, 32, 32, 1], 0, 1, 'float32', 3)) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 32, 32, 3]);
  y.dispose();
  u.model.dispose();
});

test('milesial-bilinear is a bn option only; other archs get a UserError naming the fix', () => {
  assert.throws(
    () => buildUNet({ arch: 'classic', upsample: 'milesial-bilinear' }),
    (e: Error) => e instanceof UserError && /use it with options\.arch bn, not options\.arch classic/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'course', upsample: 'milesial-bilinear' }),
    (e: Error) => e instanceof UserError && /use it with options\.arch bn, not options\.arch course/.test(e.message),
  );
  assert.throws(() => buildUNet({ arch: 'bn', upsample: 'bicubic' as never }), /upsample must be one of transpose, bilinear, milesial-bilinear, nearest/);
});

test('ResizeBilinear2x: align corners as PyTorch (corners coincide), otherwise as UpSampling2D; gradients flow; no tensors leak', () => {
  // 1-D along the width of a 1x1x3 image [0, 3, 6] -> 6 samples. align_corners=True samples at
  // i * (3 - 1) / (6 - 1) = 0, 0.4, ..., 2, i.e. values 0, 1.2, 2.4, 3.6, 4.8, 6 (what PyTorch gives).
  const x = tf.tensor4d([0, 3, 6], [1, 1, 3, 1]);
  const before = tf.memory().numTensors;
  const aligned = new ResizeBilinear2x({ alignCorners: true });
  const a = tf.tidy(() => aligned.apply(x) as tf.Tensor);
  assert.deepEqual(a.shape, [1, 2, 6, 1]);
  const row = Array.from(a.dataSync()).slice(0, 6);
  [0, 1.2, 2.4, 3.6, 4.8, 6].forEach((v, i) => assert.ok(Math.abs(row[i] - v) < 1e-5, `aligned[${i}] = ${row[i]}, expected ${v}`));
  const unaligned = tf.tidy(() => new ResizeBilinear2x({ alignCorners: false }).apply(x) as tf.Tensor);
  const upsampling = tf.tidy(() => tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(x) as tf.Tensor);
  assert.deepEqual(Array.from(unaligned.dataSync()), Array.from(upsampling.dataSync()));
  assert.deepEqual(aligned.computeOutputShape([null, 5, 7, 3]), [null, 10, 14, 3]);
  // The gradient of a sum: every input pixel's weights over the output add up to the output/input ratio 4.
  const square = tf.randomNormal([1, 3, 3, 2], 0, 1, 'float32', 4);
  const g = tf.grad((v: tf.Tensor) => tf.sum(aligned.apply(v) as tf.Tensor))(square);
  assert.deepEqual(g.shape, [1, 3, 3, 2]);
  assert.ok(Math.abs(tf.tidy(() => tf.sum(g).dataSync()[0]) - 36 * 2) < 1e-3);
  tf.dispose([a, unaligned, upsampling, square, g]);
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  assert.throws(() => new ResizeBilinear2x({ alignCorners: 'yes' as never }), /alignCorners must be true or false/);
});

test('a milesial-bilinear model folder round-trips bitwise; a non-boolean align_corners in model.json is refused', async (t) => {
  const dir = tempDir(t);
  const u = buildUNet({ arch: 'bn', depth: 3, filters: 4, classes: 3, input: [32, 32, 3], upsample: 'milesial-bilinear', seed: 5 });
  u.model.getLayer('dec2_bn1').setWeights(
    u.model
      .getLayer('dec2_bn1')
      .getWeights()
      .map((w, i) => tf.fill(w.shape, 0.5 + i)),
  );
  await saveModelFolder(dir, u);
  const loaded = await loadModelFolder(dir);
  assert.deepEqual(loaded.options, u.options);
  assert.equal((loaded.options as { upsample?: string }).upsample, 'milesial-bilinear');
  assert.ok(weightBytes(loaded.model).equals(weightBytes(u.model)));
  assert.equal((loaded.model.getLayer('dec3_up') as ResizeBilinear2x).alignCorners, true);
  assert.deepEqual(loaded.layerMap.toJSON(), u.layerMap.toJSON());
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 6);
  const [a, b] = [u.model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor];
  assert.ok(Buffer.from((a.dataSync() as Float32Array).buffer).equals(Buffer.from((b.dataSync() as Float32Array).buffer)));
  tf.dispose([x, a, b]);
  u.model.dispose();
  loaded.model.dispose();

  const modelJson = join(dir, 'model.json');
  const text = readFileSync(modelJson, 'utf8');
  assert.ok(text.includes('"class_name":"ResizeBilinear2x"'));
  writeFileSync(modelJson, text.replaceAll('"align_corners":true', '"align_corners":"yes"'));
  await assert.rejects(
    loadModelFolder(dir),
    (e: Error) => e instanceof UserError && /cannot build this model: .*alignCorners must be true or false/.test(e.message),
  );
});
