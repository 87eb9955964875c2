import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { MOBILENETV2_TAPS } from '../../src/model/encoders/mobilenetv2.js';
import { readExportedLiteral } from '../../src/model/pretrained/js-literal.js';
import { buildPretrainedUNet } from '../../src/model/pretrained/imagenet.js';
import { nsfwjsModelDir, readNsfwjsMobileNetV2 } from '../../src/model/pretrained/nsfwjs.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, useCpu } from './helpers.js';

before(useCpu);

/** A fixed 224x224 RGB picture in [-1, 1]: smooth gradients and a few edges, no randomness. */
function fixedImage(): tf.Tensor4D {
  const n = 224;
  const data = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 3;
      data[i] = Math.sin(x / 17) * 0.8;
      data[i + 1] = (y / n) * 2 - 1;
      data[i + 2] = (x > 80 && x < 150 && y > 60 && y < 170 ? 0.9 : -0.7) + 0.05 * Math.cos((x + y) / 5);
    }
  }
  return tf.tensor4d(data, [1, n, n, 3]);
}

test("the encoder's five tapped features equal those of nsfwjs' Keras model loaded by stock TF.js (1e-5)", async () => {
  const a = readNsfwjsMobileNetV2();
  const keras = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs, weightData: a.weightData }));
  const ref = tfl.model({ inputs: keras.inputs, outputs: MOBILENETV2_TAPS.map((n) => keras.getLayer(n).output as tfl.SymbolicTensor) });
  const { unet, mapped, skipped, provenance } = buildPretrainedUNet({ arch: 'mobilenetv2', classes: 3, input: [224, 224, 3], seed: 1 }, 'imagenet');
  const ours = tfl.model({ inputs: unet.model.inputs, outputs: MOBILENETV2_TAPS.map((n) => unet.model.getLayer(n).output as tfl.SymbolicTensor) });
  const x = fixedImage();
  tf.dispose([ref.predict(x) as tf.Tensor[], ours.predict(x) as tf.Tensor[]].flat()); // TF.js caches a few constants on a first call
  const before = tf.memory().numTensors;
  const want = ref.predict(x) as tf.Tensor[];
  const got = ours.predict(x) as tf.Tensor[];
  for (let i = 0; i < MOBILENETV2_TAPS.length; i++) {
    assert.deepEqual(got[i]!.shape, want[i]!.shape);
    const [scale, diff] = tf.tidy(() => [tf.max(tf.abs(want[i]!)).dataSync()[0]!, tf.max(tf.abs(tf.sub(got[i]!, want[i]!))).dataSync()[0]!]);
    assert.ok(scale > 0.1, `${MOBILENETV2_TAPS[i]} is all but zero (${scale}): the comparison would prove nothing`);
    assert.ok(diff <= 1e-5 * scale, `${MOBILENETV2_TAPS[i]}: max |diff| ${diff} > 1e-5 * ${scale}`);
  }
  tf.dispose([...want, ...got]);
  assert.equal(tf.memory().numTensors, before);
  // 52 BN x 4 + 35 convs (no bias) ... everything up to block_16_project; the top and block_16_project_BN are skipped.
  assert.equal(
    mapped.length,
    unet.layerMap.layers.filter((l) => l.region === 'encoder' || l.region === 'bottleneck').reduce((s, l) => s + unet.model.getLayer(l.name).weights.length, 0),
  );
  assert.ok(skipped.some((s) => s.name === 'block_16_project_BN/gamma') && skipped.some((s) => s.name === 'dense_3/kernel'));
  assert.deepEqual(unet.layerMap.pretrainedLayers().includes('block_16_project'), true);
  assert.equal(unet.layerMap.layer('dec4_up')?.pretrained, undefined);
  assert.match(JSON.stringify(provenance), /8-bit.*block_11 onwards/);
  tf.dispose(x);
  keras.dispose();
  unet.model.dispose();
});

test('a file of nsfwjs whose bytes were changed is refused by name', (t) => {
  const dir = tempDir(t);
  const src = nsfwjsModelDir();
  for (const f of ['model.min.js', 'group1-shard1of1.min.js']) copyFileSync(join(src, f), join(dir, f));
  assert.ok(readNsfwjsMobileNetV2(dir).weightSpecs.length > 0);
  for (const f of ['model.min.js', 'group1-shard1of1.min.js']) {
    const original = readFileSync(join(dir, f));
    const changed = Buffer.from(original);
    changed[changed.length - 40] ^= 1;
    writeFileSync(join(dir, f), changed);
    assert.throws(
      () => readNsfwjsMobileNetV2(dir),
      (e: Error) => e instanceof UserError && e.message.startsWith(join(dir, f)) && /refused: its sha256/.test(e.message),
    );
    writeFileSync(join(dir, f), original);
  }
});

test('the data reader accepts literal nodes only, and finds exactly one exports assignment', () => {
  assert.deepEqual(
    readExportedLiteral('!function(e){module.exports=e()}(function(){return function(a){a.exports={x:[1,-2.5,"s",!0,!1,null,void 0],y:{z:1}}}});', 'ok.js'),
    { x: [1, -2.5, 's', true, false, null, null], y: { z: 1 } },
  );
  const bad = [
    ['a.exports={x:require("fs")}', /bad\.js: refused: the data contains a CallExpression/],
    ['a.exports={x:y}', /refused: the data contains a Identifier/],
    ['a.exports={["k"]:1}', /computed/],
    ['a.exports={...o}', /spread/],
    ['a.exports={get x(){return 1}}', /computed, method or shorthand/],
    ['a.exports={x:`t${1}`}', /TemplateLiteral/],
    ['a.exports={__proto__:{}}', /__proto__/],
    ['a.exports={};b.exports={}', /found 2/],
    ['a.exports=(', /not parseable/],
  ] as const;
  for (const [src, re] of bad)
    assert.throws(
      () => readExportedLiteral(src, 'bad.js'),
      (e: Error) => e instanceof UserError && re.test(e.message),
      src,
    );
});

test('pretrained imagenet refuses what the shipped weights cannot fill, naming the option', () => {
  assert.throws(
    () => buildPretrainedUNet({ arch: 'resnet34' }, 'imagenet'),
    (e: Error) => e instanceof UserError && /^option 'pretrained'.*model import/.test(e.message),
  );
  assert.throws(
    () => buildPretrainedUNet({ arch: 'mobilenetv2', alpha: 0.5 }, 'imagenet'),
    (e: Error) => e instanceof UserError && /alpha 1\.0/.test(e.message),
  );
  assert.throws(
    () => buildPretrainedUNet({ arch: 'mobilenetv2' }, 'places' as never),
    (e: Error) => e instanceof UserError && /expected imagenet/.test(e.message),
  );
});
