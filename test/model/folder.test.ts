import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { buildUNet, loadModelFolder, saveModelFolder, type UnetJson } from '../../src/model/index.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, useCpu, weightBytes } from './helpers.js';

before(useCpu);

const SMALL = { arch: 'bn' as const, depth: 2, filters: 4, classes: 3, input: [16, 16, 3] as [number, number, number] };

async function savedFolder(t: Parameters<typeof tempDir>[0], seed = 1): Promise<string> {
  const dir = tempDir(t);
  const u = buildUNet({ ...SMALL, seed });
  await saveModelFolder(dir, u);
  u.model.dispose();
  return dir;
}

function readModelJson(dir: string): {
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  userDefinedMetadata?: unknown;
} {
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
}

function writeModelJson(dir: string, json: unknown): void {
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
}

async function refused(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModelFolder(dir), (e: Error) => {
    assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('save -> load round-trips bitwise: weights, predictions, options, layer map, classes, provenance', async (t) => {
  const dir = tempDir(t);
  const u = buildUNet({ ...SMALL, depth: 3, input: [32, 32, 3], upsample: 'bilinear', seed: 9 });
  // Make the BatchNormalization statistics non-trivial so that they are part of what must round-trip.
  u.model.getLayer('enc1_bn1').setWeights(
    u.model
      .getLayer('enc1_bn1')
      .getWeights()
      .map((w, i) => tf.fill(w.shape, 0.5 + i)),
  );
  const classes = [
    { id: 0, name: 'background', color: [0, 0, 0] as [number, number, number] },
    { id: 1, name: 'wall', color: [200, 10, 10] as [number, number, number] },
    { id: 2, name: 'floor', color: [10, 200, 10] as [number, number, number] },
  ];
  const saved = await saveModelFolder(dir, u, { classes, provenance: { createdBy: 'test', trainedOn: { dataset: 'rooms' } } });
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', saved.files[0], 'unet.json'].sort());
  assert.match(saved.files[0], /^weights\.[0-9a-f]{16}\.bin$/);

  const loaded = await loadModelFolder(dir);
  assert.ok(weightBytes(loaded.model).equals(weightBytes(u.model)), 'weights differ after the round trip');
  assert.deepEqual(
    loaded.model.weights.map((w) => w.originalName),
    u.model.weights.map((w) => w.originalName),
  );
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5);
  const [a, b] = [u.model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor];
  assert.ok(Buffer.from((a.dataSync() as Float32Array).buffer).equals(Buffer.from((b.dataSync() as Float32Array).buffer)));
  tf.dispose([x, a, b]);
  assert.deepEqual(loaded.options, u.options);
  assert.deepEqual(loaded.layerMap.toJSON(), u.layerMap.toJSON());
  assert.deepEqual(loaded.classes, classes);
  assert.equal(loaded.provenance.trainedOn?.dataset, 'rooms');
  assert.equal(loaded.weights.sha256, saved.sha256);
  assert.deepEqual(loaded.warnings, []);
  // unet.json beside model.json holds the same architecture, layer map and classes.
  const unetJson = JSON.parse(readFileSync(join(dir, 'unet.json'), 'utf8')) as UnetJson;
  assert.deepEqual(unetJson.architecture, u.options);
  assert.equal(unetJson.layerMap.layers.find((l) => l.name === 'dec2_concat')?.block, 'dec2');
  u.model.dispose();
  loaded.model.dispose();
});

test('saving again replaces the weights file and removes the old one', async (t) => {
  const dir = await savedFolder(t, 1);
  const first = readModelJson(dir).weightsManifest[0].paths[0];
  const u = buildUNet({ ...SMALL, seed: 2 });
  const w = await saveModelFolder(dir, u);
  assert.notEqual(w.files[0], first);
  assert.ok(!existsSync(join(dir, first)));
  const loaded = await loadModelFolder(dir);
  assert.ok(weightBytes(loaded.model).equals(weightBytes(u.model)));
  u.model.dispose();
  loaded.model.dispose();
});

test('a weights path with .. is refused, naming model.json', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir);
  j.weightsManifest[0].paths = ['../x.bin'];
  writeModelJson(dir, j);
  await refused(dir, /model\.json: weights path "\.\.\/x\.bin" leaves the model folder/);
  j.weightsManifest[0].paths = ['sub/../../x.bin'];
  writeModelJson(dir, j);
  await refused(dir, /leaves the model folder/);
});

test('an absolute weights path or a URL is refused', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir);
  j.weightsManifest[0].paths = [join(dir, j.weightsManifest[0].paths[0])];
  writeModelJson(dir, j);
  await refused(dir, /model\.json: weights path ".*" is absolute/);
  j.weightsManifest[0].paths = ['file:///etc/passwd'];
  writeModelJson(dir, j);
  await refused(dir, /is a URL/);
});

test('a symlink that leads out of the folder is refused; one inside is fine', async (t) => {
  const dir = await savedFolder(t);
  const outside = tempDir(t);
  const j = readModelJson(dir);
  const file = j.weightsManifest[0].paths[0];
  writeFileSync(join(outside, 'w.bin'), readFileSync(join(dir, file)));
  symlinkSync(join(outside, 'w.bin'), join(dir, 'link.bin'));
  j.weightsManifest[0].paths = ['link.bin'];
  writeModelJson(dir, j);
  await refused(dir, /link\.bin: is a symlink that leads out of the model folder/);
  symlinkSync(file, join(dir, 'inside.bin'));
  j.weightsManifest[0].paths = ['inside.bin'];
  writeModelJson(dir, j);
  const loaded = await loadModelFolder(dir);
  loaded.model.dispose();
});

test('a wrong byte count in the manifest, a truncated file or a longer file is refused, naming the file', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir);
  const file = j.weightsManifest[0].paths[0];
  const original = JSON.stringify(j);
  j.weightsManifest[0].weights[0].shape = [3, 3, 3, 5]; // was [3, 3, 3, 4]
  writeModelJson(dir, j);
  await refused(dir, new RegExp(`${file.replace(/\./g, '\\.')}: \\d+ bytes, but model\\.json's manifest needs \\d+`));
  writeFileSync(join(dir, 'model.json'), original);
  const size = readFileSync(join(dir, file)).length;
  truncateSync(join(dir, file), size - 8);
  await refused(dir, new RegExp(`${file.replace(/\./g, '\\.')}: ${size - 8} bytes, but model\\.json's manifest needs ${size} .*truncated`));
  truncateSync(join(dir, file), size);
  appendFileSync(join(dir, file), Buffer.alloc(4));
  await refused(dir, /longer than the weights model\.json describes/);
});

test('changed weight bytes (same size) are refused by the sha256 check', async (t) => {
  const dir = await savedFolder(t);
  const file = readModelJson(dir).weightsManifest[0].paths[0];
  const bytes = readFileSync(join(dir, file));
  bytes[100] ^= 0xff;
  writeFileSync(join(dir, file), bytes);
  await refused(dir, new RegExp(`${file.replace(/\./g, '\\.')}: sha256 .* the weights were changed or damaged`));
});

test('hostile manifest entries are refused before anything is allocated', async (t) => {
  const dir = await savedFolder(t);
  const base = JSON.stringify(readModelJson(dir));
  const edit = (fn: (j: ReturnType<typeof readModelJson>) => void) => {
    const j = JSON.parse(base);
    fn(j);
    writeModelJson(dir, j);
  };
  edit((j) => (j.weightsManifest[0].weights[0].shape = [1e6, 1e6, 1e3]));
  await refused(dir, /more than \d+ bytes of weights; refused/);
  edit((j) => (j.weightsManifest[0].weights[0].dtype = 'string'));
  await refused(dir, /dtype "string"/);
  edit((j) => ((j.weightsManifest[0].weights[0] as Record<string, unknown>).quantization = { dtype: 'uint8', scale: 1, min: 0 }));
  await refused(dir, /quantized/);
  edit((j) => (j.weightsManifest[0].weights[0].shape = [-1, 3]));
  await refused(dir, /invalid shape/);
  edit((j) => (j.weightsManifest[0].paths = ['missing.bin']));
  await refused(dir, /missing\.bin: missing/);
  edit((j) => j.weightsManifest.push(j.weightsManifest[0]));
  await refused(dir, /listed twice/);
  writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
  await refused(dir, /model\.json: not valid JSON/);
  writeModelJson(dir, { format: 'graph-model', modelTopology: {}, weightsManifest: [] });
  await refused(dir, /graph model/);
  await refused(join(dir, 'nope'), /does not exist/);
});

test('a folder without unet.json is sent to `model adopt`; a stale unet.json is a warning, not a failure', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir);
  delete j.userDefinedMetadata;
  writeModelJson(dir, j);
  const unetJson = readFileSync(join(dir, 'unet.json'));
  // unet.json alone still binds: the layer map is read from it.
  const viaSidecar = await loadModelFolder(dir);
  assert.deepEqual(viaSidecar.warnings, []);
  viaSidecar.model.dispose();
  writeFileSync(join(dir, 'unet.json.bak'), unetJson);
  writeFileSync(join(dir, 'unet.json'), '');
  await refused(dir, /unet\.json: not valid JSON/);
  const { rmSync } = await import('node:fs');
  rmSync(join(dir, 'unet.json'));
  await refused(dir, /has no unet\.json.*model adopt/);

  const dir2 = await savedFolder(t);
  const meta = JSON.parse(readFileSync(join(dir2, 'unet.json'), 'utf8'));
  meta.provenance.createdBy = 'an older save';
  writeFileSync(join(dir2, 'unet.json'), JSON.stringify(meta));
  const loaded = await loadModelFolder(dir2);
  assert.equal(loaded.warnings.length, 1);
  assert.match(loaded.warnings[0], /unet\.json differs from the copy inside model\.json/);
  loaded.model.dispose();
});

test('unet.json content is validated: a layer map naming unknown layers is refused', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir) as unknown as { userDefinedMetadata: { unetTransfer: UnetJson } };
  j.userDefinedMetadata.unetTransfer.layerMap.layers[0].name = 'not_a_layer';
  writeModelJson(dir, j);
  await refused(dir, /model\.json: .*(not_a_layer|has no block)/);
});

test('a topology that would build more weights than the manifest holds is refused before TF.js allocates them', async (t) => {
  const dir = await savedFolder(t);
  const j = readModelJson(dir) as unknown as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
  const conv = j.modelTopology.config.layers.find((l) => l.config.name === 'enc1_conv1')!;
  conv.config.filters = 100_000;
  writeModelJson(dir, j);
  await refused(dir, /model\.json: building the topology needs more weights .* by layer enc1_conv1.*refused before allocating/);
  conv.config.filters = 4;
  const lambda = j.modelTopology.config.layers.find((l) => l.config.name === 'enc1_pool')!;
  lambda.class_name = 'Lambda';
  writeModelJson(dir, j);
  await refused(dir, /layer enc1_pool is a Lambda, which unet-transfer does not load/);
});

test('loading and disposing in a loop leaks no tensors', async (t) => {
  const dir = await savedFolder(t);
  const first = await loadModelFolder(dir);
  first.model.dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const m = await loadModelFolder(dir);
    tf.tidy(() => {
      m.model.predict(tf.zeros([1, 16, 16, 3]));
    });
    m.model.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
