// predict: masks at each picture's own size, whose classes are the model's view of the picture, as
// evaluate sees it (the picture resized to the model's input).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { cli } from '../data/cli-run.js';
import { decodePng, readPngHeader } from '../../src/data/png.js';
import { resizeNearest } from '../../src/data/resize.js';
import { loadSample } from '../../src/data/sample.js';
import { openFolderDataset } from '../../src/data/folder-dataset.js';
import { useBestBackend } from '../../src/engine/index.js';
import { loadModelFolder } from '../../src/model/index.js';
import { writeDigitScenes } from '../../src/index.js';
import { tempDir } from '../model/helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');

test('predict on 20 pictures of another size writes 20 masks of their sizes that agree with the model as evaluate sees it', { timeout: 120_000 }, async (t) => {
  await useBestBackend('native', () => {});
  const dir = tempDir(t, 'unet-predict-');
  const data = join(dir, 'scenes');
  await writeDigitScenes({ out: data, size: 96, count: 20, valCount: 0, digits: [0, 4], seed: 7 });
  const model = join(root, 'models', 'digits04'); // 64x64x1 input
  const out = join(dir, 'masks');
  const r = cli('predict', '--model', model, join(data, 'train', 'images'), '--out', out, '--overlay', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.overlay.png')).length, 20);
  const masks = readdirSync(out)
    .filter((f) => /^\d+\.png$/.test(f))
    .sort();
  assert.equal(masks.length, 20);

  const folder = await loadModelFolder(model);
  const ds = openFolderDataset(join(data, 'train'));
  let agree = 0;
  let total = 0;
  let foreground = 0;
  for (const pair of ds.pairs) {
    const bytes = readFileSync(join(out, `${pair.stem}.png`));
    const mask = decodePng(bytes, pair.stem, readPngHeader(bytes, pair.stem));
    assert.deepEqual([mask.width, mask.height, mask.channels], [96, 96, 1]);
    const s = await loadSample(ds, pair, { height: 64, width: 64, channels: 1 });
    const view = tf.tidy(() => tf.argMax(folder.model.predict(tf.tensor4d(s.image, [1, 64, 64, 1])) as tf.Tensor, 3).dataSync());
    const back = resizeNearest(mask, 64, 64);
    for (let i = 0; i < back.length; i++) {
      agree += back[i] === view[i] ? 1 : 0;
      foreground += view[i] !== 0 ? 1 : 0;
    }
    total += back.length;
  }
  folder.model.dispose();
  assert.ok(foreground > 0.02 * total, 'the model finds digits');
  assert.ok(agree / total > 0.995, `masks agree with the model's view on ${((100 * agree) / total).toFixed(2)}% of pixels`);
});

test('predict refuses a missing picture and a folder without pictures, naming them', (t) => {
  const dir = tempDir(t, 'unet-predict-bad-');
  const missing = cli('predict', '--model', join(root, 'models', 'digits04'), join(dir, 'nope.png'), '--out', join(dir, 'o'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.png: no such file or folder/);
  const empty = cli('predict', '--model', join(root, 'models', 'digits04'), dir, '--out', join(dir, 'o'));
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /holds no pictures/);
  assert.doesNotMatch(missing.stderr + empty.stderr, /\s+at /);
});
