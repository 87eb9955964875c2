import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { adoptModelFolder, buildUNet, inferLayerMap, loadModelFolder, saveModelFolder, type LayerMap } from '../../src/model/index.js';
import { UserError } from '../../src/util/errors.js';
import { courseUNetTheCourseWay, tempDir, useCpu, weightBytes, writePlainTfjsFolder } from './helpers.js';

before(useCpu);

/** The block structure of a map without layer names: what adoption must recover. */
function shapeOf(map: LayerMap) {
  return map.blocks.map((b) => ({
    block: b.name,
    region: b.region,
    level: b.level,
    parameters: b.parameters,
    kinds: map.layersIn(b.name).map((l) => l.kind),
  }));
}

test('model adopt recovers the block map of a course U-Net saved without unet.json (default layer names)', async (t) => {
  const dir = tempDir(t);
  const plain = courseUNetTheCourseWay([32, 48, 3], 4, 5);
  assert.ok(
    plain.layers.every((l) => !/^(enc|dec|bottleneck|head)/.test(l.name)),
    'the plain model must not use our names',
  );
  await writePlainTfjsFolder(plain, dir);
  await assert.rejects(loadModelFolder(dir), /has no unet\.json.*model adopt/);

  const adopted = await adoptModelFolder(dir);
  const reference = buildUNet({ arch: 'course', depth: 4, filters: 4, classes: 5, input: [32, 48, 3], seed: 1 });
  assert.deepEqual(shapeOf(adopted.layerMap), shapeOf(reference.layerMap));
  assert.deepEqual(adopted.options, { arch: 'adopted', depth: 4, filters: 4, classes: 5, input: [32, 48, 3] });
  assert.equal(adopted.layerMap.parameters, plain.countParams());
  assert.ok(existsSync(join(dir, 'unet.json')));

  // The folder now loads, with the adopted map and the original weights, untouched.
  const loaded = await loadModelFolder(dir);
  assert.deepEqual(loaded.layerMap.toJSON(), adopted.layerMap.toJSON());
  assert.ok(weightBytes(loaded.model).equals(weightBytes(plain)));
  assert.deepEqual(loaded.warnings, []);
  await assert.rejects(adoptModelFolder(dir), /already exists; pass options\.force/);
  // unet.json is bound to these weights: a different weights.bin of the same size is refused.
  const bytes = readFileSync(join(dir, 'weights.bin'));
  bytes[0] ^= 1;
  writeFileSync(join(dir, 'weights.bin'), bytes);
  await assert.rejects(loadModelFolder(dir), /weights\.bin: sha256 .*unet\.json records/);
  for (const m of [plain, reference.model, adopted.model, loaded.model]) m.dispose();
});

test('adoption agrees with the builder for every arch and up-sampling', () => {
  for (const opts of [
    { arch: 'course' as const, depth: 2 },
    { arch: 'course' as const, depth: 5 },
    { arch: 'classic' as const, depth: 3 },
    { arch: 'classic' as const, depth: 3, upsample: 'bilinear' as const, dropout: 0.2 },
    { arch: 'bn' as const, depth: 4 },
    { arch: 'bn' as const, depth: 3, upsample: 'bilinear' as const },
    { arch: 'bn' as const, depth: 2, upsample: 'milesial-bilinear' as const },
  ]) {
    const u = buildUNet({ ...opts, filters: 2, classes: 3, input: [32, 32, 3], seed: 1 });
    const inferred = inferLayerMap(u.model);
    assert.deepEqual(inferred.layerMap.toJSON(), u.layerMap.toJSON(), JSON.stringify(opts));
    assert.equal(inferred.filters, 2);
    u.model.dispose();
  }
});

test('adopt says which layer it cannot place', async (t) => {
  // A decoder without the skip concatenations of a U-Net.
  const inp = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(inp) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  const noSkips = tfl.model({ inputs: inp, outputs: x });
  assert.throws(
    () => inferLayerMap(noSkips),
    (e: Error) => e instanceof UserError && /no skip concatenation at level 1 \(decoder block dec1\)/.test(e.message),
  );

  // A dense layer has no place in a U-Net.
  const inp2 = tfl.input({ shape: [16, 16, 3] });
  const flat = tfl.layers.flatten().apply(inp2) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 4, name: 'classifier' }).apply(flat) as tfl.SymbolicTensor;
  const notUNet = tfl.model({ inputs: inp2, outputs: dense });
  assert.throws(() => inferLayerMap(notUNet), /could not place layer flatten.* \(Flatten\).*not one image batch/);

  const dir = tempDir(t);
  await writePlainTfjsFolder(notUNet, dir);
  await assert.rejects(adoptModelFolder(dir), /model\.json: could not place layer/);
  assert.ok(!existsSync(join(dir, 'unet.json')));
  noSkips.dispose();
  notUNet.dispose();
});

test('a folder saved by unet-transfer has nothing to adopt', async (t) => {
  const dir = tempDir(t);
  const u = buildUNet({ depth: 2, filters: 2, classes: 2, input: [16, 16, 3], seed: 1 });
  await saveModelFolder(dir, u);
  await assert.rejects(adoptModelFolder(dir, { force: true }), /nothing to adopt/);
  assert.match(readFileSync(join(dir, 'unet.json'), 'utf8'), /"arch": "course"/);
  u.model.dispose();
});

test('adopt records the head mode: binary for one output channel, multiclass otherwise, or as asked when it fits', async (t) => {
  const one = tempDir(t);
  const plain1 = courseUNetTheCourseWay([16, 16, 1], 2, 1);
  await writePlainTfjsFolder(plain1, one);
  const binary = await adoptModelFolder(one);
  assert.equal(binary.headMode, 'binary');
  assert.equal(binary.classes.length, 2, 'background and foreground');
  const multilabel = await adoptModelFolder(one, { force: true, headMode: 'multilabel' });
  assert.equal(multilabel.headMode, 'multilabel');
  const loaded = await loadModelFolder(one);
  assert.equal(loaded.headMode, 'multilabel');
  const three = tempDir(t);
  const plain3 = courseUNetTheCourseWay([16, 16, 1], 2, 3);
  await writePlainTfjsFolder(plain3, three);
  await assert.rejects(adoptModelFolder(three, { headMode: 'binary' }), /^OptionError: options\.headMode binary needs one output channel, the model has 3/);
  await assert.rejects(adoptModelFolder(three, { headMode: 'softmax' as never }), /options\.headMode must be one of multiclass, binary, multilabel/);
  const multiclass = await adoptModelFolder(three);
  assert.equal(multiclass.headMode, 'multiclass');
  for (const m of [plain1, plain3, binary.model, multilabel.model, loaded.model, multiclass.model]) m.dispose();
});
