// The batch API the training loop consumes: shapes and dtypes, seeded order per epoch, augmentation applied
// identically to picture and mask, streaming without leaking tensors, splits, channels, formats.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { parseAugment } from '../../src/data/augment.js';
import { loadInMemory, streamBatches } from '../../src/data/batches.js';
import { classStats } from '../../src/data/class-stats.js';
import { openFolderDataset } from '../../src/data/folder-dataset.js';
import { encodePng } from '../../src/data/png.js';
import { epochOrder } from '../../src/data/random.js';
import { seededSplit, splitDataset } from '../../src/data/split.js';
import { OptionError } from '../../src/util/errors.js';
import { blockMask, cleanup, tempDir, writeFolderDataset } from './fixtures.js';

async function epochStems(dir: string, seed: number, epoch: number): Promise<string[]> {
  const ds = openFolderDataset(dir);
  const stems: string[] = [];
  for await (const b of streamBatches(ds, ds.pairs, { height: 8, width: 8, channels: 1, batchSize: 3, seed, epoch })) {
    stems.push(...b.stems);
    tf.dispose([b.images, b.masks]);
  }
  return stems;
}

test('batches: [B,H,W,C] float32 in [0,1] and [B,H,W] int32; last batch smaller unless dropRemainder', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir('batch');
  try {
    writeFolderDataset(dir, { n: 7, w: 20, h: 16, channels: 1 });
    const ds = openFolderDataset(dir);
    const sizes: number[] = [];
    for await (const b of streamBatches(ds, ds.pairs, { height: 12, width: 10, channels: 3, batchSize: 3 })) {
      sizes.push(b.images.shape[0]);
      assert.deepEqual(b.images.shape.slice(1), [12, 10, 3]);
      assert.deepEqual(b.masks.shape.slice(1), [12, 10]);
      assert.equal(b.images.dtype, 'float32');
      assert.equal(b.masks.dtype, 'int32');
      const x = await b.images.data();
      assert.ok(x.every((v) => v >= 0 && v <= 1));
      // Grey input was copied into R, G and B.
      for (let i = 0; i < x.length; i += 3) assert.ok(x[i] === x[i + 1] && x[i] === x[i + 2]);
      assert.ok((await b.masks.data()).every((v) => v >= 0 && v <= 2));
      tf.dispose([b.images, b.masks]);
    }
    assert.deepEqual(sizes, [3, 3, 1]);
    let n = 0;
    for await (const b of streamBatches(ds, ds.pairs, { height: 8, width: 8, channels: 1, batchSize: 3, dropRemainder: true })) {
      n++;
      tf.dispose([b.images, b.masks]);
    }
    assert.equal(n, 2);
    // Resizing masks is nearest-neighbour: 20x16 -> 10x8 takes source pixel (2x+1, 2y+1), never a blend.
    const all = await loadInMemory(ds, ds.pairs.slice(0, 1), { height: 8, width: 10, channels: 1 });
    const m = await all.masks.data();
    const src = blockMask(20, 16).data;
    const want = Array.from({ length: 80 }, (_, i) => src[(2 * Math.floor(i / 10) + 1) * 20 + 2 * (i % 10) + 1]);
    assert.deepEqual(Array.from(m), Array.from(want));
    assert.deepEqual(all.images.shape, [1, 8, 10, 1]);
    tf.dispose([all.images, all.masks]);
  } finally {
    cleanup(dir);
  }
});

test('order: a permutation fixed by (seed, epoch), so a resumed run sees the same order', async () => {
  const dir = tempDir('order');
  try {
    writeFolderDataset(dir, { n: 9, w: 8, h: 8 });
    const e0 = await epochStems(dir, 1, 0);
    const e1 = await epochStems(dir, 1, 1);
    assert.deepEqual(await epochStems(dir, 1, 0), e0);
    assert.deepEqual(await epochStems(dir, 1, 1), e1, 'epoch 1 alone (a resumed run) equals epoch 1 after epoch 0');
    assert.notDeepEqual(e0, e1);
    assert.notDeepEqual(await epochStems(dir, 2, 0), e0);
    assert.deepEqual([...e0].sort(), ['s00', 's01', 's02', 's03', 's04', 's05', 's06', 's07', 's08']);
    assert.deepEqual(epochOrder(5, 3, 4), epochOrder(5, 3, 4));
  } finally {
    cleanup(dir);
  }
});

test('augmentation moves picture and mask together (flips, crops); brightness/contrast touch the picture only', async () => {
  const dir = tempDir('aug');
  try {
    // Pictures that are renderings of their masks (value = 100 x class id), so any geometric mismatch shows.
    mkdirSync(join(dir, 'images'), { recursive: true });
    mkdirSync(join(dir, 'masks'), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const m = blockMask(32, 24);
      // Make each sample asymmetric in a different way.
      for (let y = 0; y < 24; y++) for (let x = 0; x < 32; x++) if (x + y * 2 < 8 + i * 3) m.data[y * 32 + x] = 2;
      writeFileSync(join(dir, 'masks', `a${i}.png`), encodePng(m));
      writeFileSync(join(dir, 'images', `a${i}.png`), encodePng({ ...m, data: m.data.map((v) => v * 100) }));
    }
    const ds = openFolderDataset(dir, { checkHeaders: true });
    const opts = { height: 24, width: 32, channels: 1 as const, batchSize: 6, seed: 3, epoch: 0, shuffle: false, augment: parseAugment('flip,vflip,crop:0.6') };
    const plain = await loadInMemory(ds, ds.pairs, { height: 24, width: 32, channels: 1 });
    let changed = 0;
    for await (const b of streamBatches(ds, ds.pairs, opts)) {
      const x = await b.images.data();
      const y = await b.masks.data();
      let agree = 0;
      for (let i = 0; i < y.length; i++) if (Math.round((x[i]! * 255) / 100) === y[i]) agree++;
      assert.ok(agree / y.length > 0.97, `picture and mask agree at ${((100 * agree) / y.length).toFixed(1)}% of pixels`);
      const p = await plain.masks.data();
      for (let s = 0; s < 6; s++) if (y.slice(s * 768, (s + 1) * 768).some((v, i) => v !== p[s * 768 + i])) changed++;
      tf.dispose([b.images, b.masks]);
    }
    assert.ok(changed >= 4, `${changed} of 6 samples were changed by augmentation`);
    // Same (seed, epoch) -> same augmentation; photometric jitter leaves masks alone.
    const jitter = { ...opts, augment: parseAugment('brightness:0.3,contrast:0.3') };
    for await (const b of streamBatches(ds, ds.pairs, jitter)) {
      assert.deepEqual(Array.from(await b.masks.data()), Array.from(await plain.masks.data()));
      assert.notDeepEqual(Array.from(await b.images.data()), Array.from(await plain.images.data()));
      tf.dispose([b.images, b.masks]);
    }
    tf.dispose([plain.images, plain.masks]);
    assert.throws(
      () => parseAugment('flip,spin'),
      (e: Error) => e instanceof OptionError && /options\.augment: unknown augmentation "spin"/.test(e.message),
    );
    assert.throws(() => parseAugment('crop:2'), /crop:2" needs a number from 0.1 to 1/);
  } finally {
    cleanup(dir);
  }
});

test('streaming many epochs leaves no tensors behind once batches are disposed', async () => {
  const dir = tempDir('leak');
  try {
    writeFolderDataset(dir, { n: 5, w: 12, h: 12 });
    const ds = openFolderDataset(dir);
    const before = tf.memory().numTensors;
    for (let epoch = 0; epoch < 4; epoch++) {
      for await (const b of streamBatches(ds, ds.pairs, { height: 8, width: 8, channels: 3, batchSize: 2, epoch, augment: parseAugment('flip,crop') })) {
        tf.dispose([b.images, b.masks]);
      }
      assert.equal(tf.memory().numTensors, before, `epoch ${epoch}`);
    }
  } finally {
    cleanup(dir);
  }
});

test('split: seeded and stable; train/ + val/ folders win; JPEG pictures and RGB palette masks read', async () => {
  const dir = tempDir('split');
  try {
    writeFolderDataset(dir, { n: 10, w: 8, h: 8, jpeg: true });
    const ds = openFolderDataset(dir);
    assert.equal(ds.pairs[0]!.imageFormat, 'jpeg');
    const a = splitDataset(ds, { valFraction: 0.3, seed: 4 });
    const b = splitDataset(ds, { valFraction: 0.3, seed: 4 });
    assert.equal(a.source, 'seeded');
    assert.equal(a.val.length, 3);
    assert.deepEqual(a, b);
    assert.deepEqual(
      [...a.train, ...a.val].map((p) => p.stem).sort(),
      ds.pairs.map((p) => p.stem),
    );
    assert.notDeepEqual(splitDataset(ds, { valFraction: 0.3, seed: 5 }).val, a.val);
    assert.equal(seededSplit(ds.pairs.slice(0, 2), 0.01, 0).val.length, 1);
    // RGB masks with a palette in classes.json.
    const rgbDir = join(dir, 'rgb');
    for (const sub of ['train', 'val']) {
      mkdirSync(join(rgbDir, sub, 'images'), { recursive: true });
      mkdirSync(join(rgbDir, sub, 'masks'), { recursive: true });
      const ids = blockMask(8, 8).data;
      const palette = [
        [0, 0, 0],
        [128, 64, 128],
        [0, 0, 142],
      ];
      const rgb = new Uint8Array(64 * 3);
      ids.forEach((id, i) => rgb.set(palette[id]!, i * 3));
      writeFileSync(join(rgbDir, sub, 'images', 'x.png'), encodePng({ width: 8, height: 8, channels: 3, data: rgb }));
      writeFileSync(join(rgbDir, sub, 'masks', 'x.png'), encodePng({ width: 8, height: 8, channels: 3, data: rgb }));
    }
    writeFileSync(
      join(rgbDir, 'classes.json'),
      JSON.stringify({
        classes: [
          { id: 0, name: 'bg', color: [0, 0, 0] },
          { id: 1, name: 'road', color: [128, 64, 128] },
          { id: 2, name: 'car', color: [0, 0, 142] },
        ],
      }),
    );
    const rds = openFolderDataset(rgbDir);
    const rs = splitDataset(rds);
    assert.equal(rs.source, 'folders');
    assert.deepEqual([rs.train.length, rs.val.length], [1, 1]);
    const got = await loadInMemory(rds, rs.val, { height: 8, width: 8, channels: 3 });
    assert.deepEqual(Array.from(await got.masks.data()), Array.from(blockMask(8, 8).data));
    tf.dispose([got.images, got.masks]);
  } finally {
    cleanup(dir);
  }
});

test('class statistics: pixel shares, masks per class, median-frequency weights', async () => {
  const dir = tempDir('stats');
  try {
    writeFolderDataset(dir, { n: 3, w: 16, h: 16 });
    const ds = openFolderDataset(dir);
    const st = await classStats(ds, ds.pairs);
    // blockMask(16,16): class 1 = 8x4 = 32 px, class 2 = 4x8 = 32 px, background 192 px, per mask.
    assert.equal(st.totalPixels, 3 * 256);
    assert.deepEqual(
      st.classes.map((c) => [c.id, c.name, c.pixels, c.masks]),
      [
        [0, 'background', 576, 3],
        [1, 'road', 96, 3],
        [2, 'car', 96, 3],
      ],
    );
    assert.ok(Math.abs(st.classes[0]!.share - 0.75) < 1e-12);
    assert.ok(Math.abs(st.classes[1]!.weight - 1) < 1e-12);
    assert.ok(Math.abs(st.classes[0]!.weight - 0.125 / 0.75) < 1e-12);
  } finally {
    cleanup(dir);
  }
});
