// A model folder this package wrote is a plain TF.js layers model: after `import 'unet-transfer/layers'`,
// stock `tf.loadLayersModel('file://...')` loads it (here one with ResizeBilinear2x, written by
// `model import` from a milesial/Pytorch-UNet checkpoint) in a fresh Node process that has nothing else of
// the package, and its forward pass equals the package's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { cli } from '../data/cli-run.js';
import { loadModelFolder } from '../../src/model/index.js';
import { useCpu } from '../model/helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('an imported milesial-bilinear model loads with stock tf.loadLayersModel after importing unet-transfer/layers', async (t) => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'unet-layers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'model');
  const imported = cli('model', 'import', join(root, 'test', 'fixtures', 'import', 'milesial_f2_bilinear.pth'), '--out', out, '--input', '16x16');
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(readFileSync(join(out, 'model.json'), 'utf8'), /"class_name":"ResizeBilinear2x"/);

  const input = Array.from({ length: 2 * 16 * 16 * 1 }, (_, i) => Math.sin(i * 0.37));
  // The stock program: tfjs-core + cpu backend + tfjs-layers, and the package's layers entry (by name).
  const script = join(dir, 'stock.mjs');
  writeFileSync(
    script,
    [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-backend-cpu';",
      "import * as tfl from '@tensorflow/tfjs-layers';",
      "import 'unet-transfer/layers';",
      `const model = await tfl.loadLayersModel(${JSON.stringify(`file://${join(out, 'model.json')}`)});`,
      `const y = model.predict(tf.tensor4d(${JSON.stringify(input)}, [2, 16, 16, 1]));`,
      'process.stdout.write(JSON.stringify(Array.from(await y.data())));',
    ].join('\n'),
  );
  // Run from the repository so that 'unet-transfer' resolves to this package (its exports map), as in an app.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', readFileSync(script, 'utf8')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const stock = JSON.parse(r.stdout) as number[];

  const folder = await loadModelFolder(out);
  const y = tf.tidy(() => folder.model.predict(tf.tensor4d(input, [2, 16, 16, 1])) as tf.Tensor);
  const ours = Array.from(await y.data());
  y.dispose();
  folder.model.dispose();
  assert.equal(stock.length, ours.length);
  const worst = Math.max(...ours.map((v, i) => Math.abs(v - stock[i]!)));
  assert.ok(worst <= 1e-6, `largest difference ${worst}`);
});

test('the layers entry refuses weight paths that leave the model folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-layers-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] }));
  const code = [
    "import '@tensorflow/tfjs-backend-cpu';",
    "import * as tfl from '@tensorflow/tfjs-layers';",
    "import 'unet-transfer/layers';",
    `await tfl.loadLayersModel(${JSON.stringify(`file://${join(dir, 'model.json')}`)});`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /weight path "\.\.\/secret\.bin" leaves the model folder/);
});
