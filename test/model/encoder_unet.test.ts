import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { buildUNet, loadModelFolder, saveModelFolder } from '../../src/model/index.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, useCpu, weightBytes } from './helpers.js';

before(useCpu);

const encoderParams = (u: ReturnType<typeof buildUNet>) =>
  u.layerMap.layers.filter((l) => l.region === 'encoder' || l.region === 'bottleneck').reduce((s, l) => s + l.parameters, 0);

test("mobilenetv2 at 128x128x3 with 3 classes has the tutorial's 6,504,227 parameters, 1,843,904 non-trainable in Keras' count", () => {
  const u = buildUNet({ arch: 'mobilenetv2', classes: 3, seed: 1 });
  assert.equal(u.model.countParams(), 6_504_227);
  assert.equal(u.layerMap.parameters, 6_504_227);
  // Keras: the frozen down_stack (everything up to block_16_project) plus the decoder's BN moving statistics.
  const decoderMoving = u.layerMap.layers
    .filter((l) => l.region === 'decoder' || l.region === 'head')
    .reduce((s, l) => s + l.parameters - l.trainableParameters, 0);
  assert.equal(encoderParams(u) + decoderMoving, 1_843_904);
  assert.deepEqual(u.model.outputs[0]!.shape, [null, 128, 128, 3]);
  u.model.dispose();
});

test("resnet34 (and the mobilenetv2 speed peer) with 23 classes have the PyTorch U-Nets' counts: 24,439,559 parameters + 19,008 BN running statistics", () => {
  // From bench/peer/encoder_unet.py --arch resnet34 --count-only (torchvision 0.14): parameters 24439559, buffers 19008.
  const u = buildUNet({ arch: 'resnet34', classes: 23, seed: 1 });
  assert.equal(u.layerMap.parameters, 24_439_559 + 19_008);
  assert.equal(u.layerMap.trainableParameters, 24_439_559);
  u.model.dispose();
  const r18 = buildUNet({ arch: 'resnet18', classes: 23, seed: 1 });
  assert.equal(r18.layerMap.trainableParameters, 14_331_399); // same script, --arch resnet18
  r18.model.dispose();
  // The speed peer of mobilenetv2 (torchvision's backbone, symmetric padding): parameters 6500215, buffers 32832.
  const m = buildUNet({ arch: 'mobilenetv2', classes: 23, seed: 1 });
  assert.equal(m.layerMap.parameters, 6_500_215 + 32_832);
  m.model.dispose();
});

test('encoder stages follow output strides: enc1..enc4 at 2..16, the bottleneck at 32; source names recorded', () => {
  for (const arch of ['mobilenetv2', 'resnet18'] as const) {
    const u = buildUNet({ arch, classes: 4, input: [64, 64, 3], alpha: 0.25, filters: 4, seed: 2 });
    assert.deepEqual(
      u.layerMap.blocks.map((b) => b.name),
      ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck', 'dec4', 'dec3', 'dec2', 'dec1', 'head'],
    );
    for (const l of u.layerMap.layers) {
      const stride = { enc1: 2, enc2: 4, enc3: 8, enc4: 16, bottleneck: 32 }[l.block as 'enc1'];
      if (stride === undefined || l.kind === 'pad') continue;
      const shape = u.model.getLayer(l.name).output as { shape: (number | null)[] };
      // A stage's layers run at its stride, except the stride-2 layer that enters it (its input is the previous stage's).
      assert.equal(64 / shape.shape[1]!, stride, `${arch} ${l.name} in ${l.block} has output ${shape.shape}`);
    }
    const last = arch === 'mobilenetv2' ? 'block_16_project' : 'layer4_1_relu2';
    assert.equal(u.layerMap.layer(last)?.block, 'bottleneck');
    assert.equal(u.model.getLayer(last).outboundNodes.length > 0, true);
    if (arch === 'mobilenetv2') {
      assert.equal(u.layerMap.layer('block_13_expand_relu')?.block, 'enc4');
      assert.equal(u.layerMap.layer('block_13_pad')?.block, 'bottleneck');
      assert.equal(u.layerMap.layer('block_13_expand_relu')?.sourceName, 'block_13_expand_relu');
    } else {
      assert.equal(u.layerMap.layer('layer3_0_conv1')?.sourceName, 'layer3.0.conv1');
      assert.equal(u.layerMap.layer('maxpool')?.block, 'enc2');
      assert.equal(u.layerMap.layer('head_conv1')?.sourceName, 'decoder.blocks.4.conv1.0');
    }
    u.model.dispose();
  }
});

test('the torchvision flavour of mobilenetv2 pads symmetrically; the keras flavour on the bottom/right', () => {
  const k = buildUNet({ arch: 'mobilenetv2', classes: 2, input: [32, 32, 3], alpha: 0.35, filters: 4, seed: 3 });
  const t = buildUNet({ arch: 'mobilenetv2', classes: 2, input: [32, 32, 3], alpha: 0.35, filters: 4, seed: 3, flavour: 'torchvision' });
  assert.deepEqual((k.model.getLayer('Conv1_pad').getConfig() as { padding: number[][] }).padding, [
    [0, 1],
    [0, 1],
  ]);
  assert.deepEqual((t.model.getLayer('Conv1_pad').getConfig() as { padding: number[][] }).padding, [
    [1, 1],
    [1, 1],
  ]);
  assert.equal(t.layerMap.layer('block_13_expand_relu')?.sourceName, 'features.14.conv.0.2');
  assert.equal(t.layerMap.layer('block_16_project')?.sourceName, 'features.17.conv.2');
  assert.equal(k.model.countParams(), t.model.countParams());
  assert.deepEqual(k.options.inputNormalization?.name, 'symmetric');
  assert.deepEqual(t.options.inputNormalization?.name, 'imagenet');
  k.model.dispose();
  t.model.dispose();
});

test('encoder U-Nets refuse what their reference does not have, naming the option', () => {
  assert.throws(
    () => buildUNet({ arch: 'mobilenetv2', input: [100, 128, 3] }),
    (e: Error) => e instanceof UserError && /multiples of 32.*96x128x3/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'resnet34', depth: 3 }),
    (e: Error) => e instanceof UserError && /^depth: resnet34 has a fixed depth of 4/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'resnet18', flavour: 'keras' }),
    (e: Error) => e instanceof UserError && /^flavour/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'resnet18', upsample: 'transpose' }),
    (e: Error) => e instanceof UserError && /^upsample: resnet18 up-samples by nearest/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'bn', alpha: 0.5 }),
    (e: Error) => e instanceof UserError && /^alpha is an option of the encoder archs/.test(e.message),
  );
  assert.throws(
    () => buildUNet({ arch: 'bn', upsample: 'nearest' }),
    (e: Error) => e instanceof UserError && /upsample nearest/.test(e.message),
  );
});

test('an encoder U-Net saves and loads with its options, normalisation, source names and pretrained marks', async (t) => {
  const dir = tempDir(t);
  const u = buildUNet({ arch: 'resnet18', classes: 3, input: [32, 32, 3], alpha: 0.125, filters: 2, seed: 4 });
  const marked = u.layerMap.withPretrained(u.model, ['conv1', 'bn1']);
  await saveModelFolder(dir, { ...u, layerMap: marked });
  const f = await loadModelFolder(dir);
  assert.deepEqual(f.options, u.options);
  assert.deepEqual(f.layerMap.pretrainedLayers(), ['conv1', 'bn1']);
  assert.equal(f.layerMap.layer('layer2_0_downsample_0')?.sourceName, 'layer2.0.downsample.0');
  assert.ok(weightBytes(f.model).equals(weightBytes(u.model)));
  const x = tf.randomUniform([1, 32, 32, 3]);
  const a = u.model.predict(x) as tf.Tensor;
  const b = f.model.predict(x) as tf.Tensor;
  assert.equal(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], 0);
  tf.dispose([x, a, b]);
  u.model.dispose();
  f.model.dispose();
});
