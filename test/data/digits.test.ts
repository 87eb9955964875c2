// Digit scenes: built, read back through the folder reader, and checked for pairs, shapes, value ranges,
// class ids, the MNIST split each side uses, shifts that touch only the image, and determinism by seed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { loadInMemory } from '../../src/data/batches.js';
import { DEFAULT_DIGIT_SCENES, generateDigitScenes, type DigitSceneOptions } from '../../src/data/digit-scenes.js';
import { openFolderDataset } from '../../src/data/folder-dataset.js';
import { readMnist } from '../../src/data/mnist.js';
import { decodeImageBytes } from '../../src/data/decode.js';
import { parseShifts } from '../../src/data/shifts.js';
import { splitDataset } from '../../src/data/split.js';
import { UsageError, UserError } from '../../src/util/errors.js';
import { cliInProcess } from './cli-run.js';
import { cleanup, tempDir } from './fixtures.js';

const SMALL: DigitSceneOptions = { ...DEFAULT_DIGIT_SCENES, size: 32, count: 12, valCount: 4, seed: 5 };

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (f.endsWith('.png') || f.endsWith('.json') || f.endsWith('.jsonl')) out.set(f, readFileSync(join(dir, f)));
  }
  return out;
}

test('MNIST files ship with the package and read with the right shapes and labels', () => {
  const train = readMnist('train');
  const testSet = readMnist('test');
  assert.equal(train.count, 60000);
  assert.equal(testSet.count, 10000);
  assert.equal(train.rows, 28);
  assert.equal(train.cols, 28);
  const d = train.digit(0);
  assert.equal(d.length, 784);
  assert.ok(Math.max(...d) > 200, 'a real stroke');
  assert.equal(train.labels[0], 5); // the first MNIST training digit is a 5
  assert.equal(testSet.labels[0], 7); // and the first test digit a 7
});

test('digit scenes read back through the folder reader: pairs, shapes, value ranges, class ids', async () => {
  const dir = tempDir('digits');
  try {
    const out = join(dir, 'set');
    const summary = await generateDigitScenes(out, SMALL);
    assert.equal(summary.train, 12);
    assert.equal(summary.val, 4);
    const ds = openFolderDataset(out);
    assert.equal(ds.layout, 'splits');
    assert.equal(ds.pairs.length, 16);
    for (const p of ds.pairs) assert.equal(p.image.replace('/images/', '/masks/'), p.mask);
    const split = splitDataset(ds);
    assert.equal(split.source, 'folders');
    assert.equal(split.train.length, 12);
    assert.equal(split.val.length, 4);
    // classes.json: background then digit_0..digit_4 in slots 1..5.
    assert.deepEqual(
      ds.classes!.classes.map((c) => c.name),
      ['background', 'digit_0', 'digit_1', 'digit_2', 'digit_3', 'digit_4'],
    );
    assert.deepEqual(ds.classes!.meta.shift, { input: [], output: null });
    const batch = await loadInMemory(ds, split.train, { height: 32, width: 32, channels: 3 });
    try {
      assert.deepEqual(batch.images.shape, [12, 32, 32, 3]);
      assert.deepEqual(batch.masks.shape, [12, 32, 32]);
      assert.equal(batch.images.dtype, 'float32');
      assert.equal(batch.masks.dtype, 'int32');
      const x = batch.images.dataSync();
      const y = batch.masks.dataSync();
      assert.ok(Math.min(...x) >= 0 && Math.max(...x) <= 1 && Math.max(...x) > 0.9);
      const ids = new Set(y);
      for (const id of ids) assert.ok(id >= 0 && id <= 5, `class id ${id}`);
      assert.ok(ids.has(0) && ids.size >= 3, `ids ${[...ids]}`);
      // Where the mask says digit, the picture is bright (stroke >= threshold); background pixels far from
      // any digit are dark.
      let strokeSum = 0;
      let strokeN = 0;
      for (let i = 0; i < y.length; i++) if (y[i]! > 0) ((strokeSum += x[i * 3]!), strokeN++);
      assert.ok(strokeSum / strokeN > 0.5, `mean stroke intensity ${strokeSum / strokeN}`);
    } finally {
      tf.dispose([batch.images, batch.masks]);
    }
    // Provenance: training scenes use MNIST train, validation scenes MNIST test; the class is the digit's.
    const scenes = readFileSync(join(out, 'scenes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { split: string; mnistSplit: string; digits: { digit: number; classId: number; mnistIndex: number }[] });
    assert.equal(scenes.length, 16);
    for (const s of scenes) {
      assert.equal(s.mnistSplit, s.split === 'train' ? 'train' : 'test');
      const mnist = readMnist(s.mnistSplit as 'train' | 'test');
      for (const d of s.digits) {
        assert.equal(mnist.labels[d.mnistIndex], d.digit);
        assert.equal(d.classId, d.digit + 1);
      }
    }
  } finally {
    cleanup(dir);
  }
});

test('the same seed gives byte-identical files; another seed gives other scenes', async () => {
  const dir = tempDir('seed');
  try {
    await generateDigitScenes(join(dir, 'a'), SMALL);
    await generateDigitScenes(join(dir, 'b'), SMALL);
    await generateDigitScenes(join(dir, 'c'), { ...SMALL, seed: 6 });
    const a = filesOf(join(dir, 'a'));
    const b = filesOf(join(dir, 'b'));
    const c = filesOf(join(dir, 'c'));
    assert.equal(a.size, 16 * 2 + 2);
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs between two runs with the same seed`);
    assert.ok(!a.get('train/images/00000.png')!.equals(c.get('train/images/00000.png')!));
  } finally {
    cleanup(dir);
  }
});

test('input shifts change only the image; --digits 5-9 is an output shift recorded in classes.json', async () => {
  const dir = tempDir('shift');
  try {
    await generateDigitScenes(join(dir, 'plain'), SMALL);
    await generateDigitScenes(join(dir, 'speckle'), { ...SMALL, shifts: parseShifts('speckle:0.5,blur:1') });
    await generateDigitScenes(join(dir, 'new'), { ...SMALL, digits: [5, 9] });
    const plain = filesOf(join(dir, 'plain'));
    const speckle = filesOf(join(dir, 'speckle'));
    let imagesDiffer = 0;
    for (const [k, v] of plain) {
      if (k.includes('/masks/')) assert.ok(v.equals(speckle.get(k)!), `${k}: a shift changed a mask`);
      if (k.includes('/images/') && !v.equals(speckle.get(k)!)) imagesDiffer++;
    }
    assert.equal(imagesDiffer, 16);
    // Speckle puts grain on the background: the background is no longer flat black.
    const img = decodeImageBytes(speckle.get('train/images/00000.png')!, 'x');
    const mask = decodeImageBytes(speckle.get('train/masks/00000.png')!, 'y');
    let bg = 0;
    let n = 0;
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i] === 0) ((bg += img.data[i]!), n++);
    assert.ok(bg / n > 10, `mean background ${bg / n}`);
    const shifted = JSON.parse(speckle.get('classes.json')!.toString()) as { shift: unknown };
    assert.deepEqual(shifted.shift, { input: ['speckle:0.5', 'blur:1'], output: null });
    const fresh = JSON.parse(filesOf(join(dir, 'new')).get('classes.json')!.toString()) as {
      classes: { id: number; name: string; digit?: number }[];
      shift: { output: { digits: string; reference: string; sameClassCount: boolean } };
    };
    assert.deepEqual(
      fresh.classes.map((c) => [c.id, c.name]),
      [
        [0, 'background'],
        [1, 'digit_5'],
        [2, 'digit_6'],
        [3, 'digit_7'],
        [4, 'digit_8'],
        [5, 'digit_9'],
      ],
    );
    assert.equal(fresh.shift.output.digits, '5-9');
    assert.equal(fresh.shift.output.reference, '0-4');
    assert.equal(fresh.shift.output.sameClassCount, true);
  } finally {
    cleanup(dir);
  }
});

test('shift specs parse with defaults and reject bad names or values naming the option', () => {
  assert.deepEqual(parseShifts('none'), []);
  assert.deepEqual(parseShifts('speckle,invert,contrast:0.3,texture:0.2:6'), [
    { name: 'speckle', params: [0.5] },
    { name: 'invert', params: [] },
    { name: 'contrast', params: [0.3] },
    { name: 'texture', params: [0.2, 6] },
  ]);
  assert.throws(
    () => parseShifts('sparkle:1'),
    (e: Error) => e instanceof UsageError && /--shift: unknown shift "sparkle"/.test(e.message),
  );
  assert.throws(() => parseShifts('blur:-1'), /--shift: "blur:-1": sigma must be a number from 0 to 20/);
  assert.throws(() => parseShifts('invert:2'), /takes no value/);
});

test('data digits CLI: writes the set, refuses a non-empty folder without --force, bad flags are usage errors', async () => {
  const dir = tempDir('cli');
  try {
    const out = join(dir, 'd');
    const r = await cliInProcess(
      'data',
      'digits',
      '--out',
      out,
      '--size',
      '32',
      '--count',
      '6',
      '--val-count',
      '2',
      '--digits',
      '5-9',
      '--shift',
      'invert',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { train: number; val: number; shift: { input: string[] } };
    assert.equal(summary.train, 6);
    assert.equal(summary.val, 2);
    assert.deepEqual(summary.shift.input, ['invert']);
    const again = await cliInProcess('data', 'digits', '--out', out, '--count', '3');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /folder exists and is not empty \(use --force/);
    const forced = await cliInProcess('data', 'digits', '--out', out, '--size', '32', '--count', '3', '--val-count', '0', '--force', '--quiet');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readdirSync(join(out, 'train', 'images')).length, 3);
    for (const [flag, value, msg] of [
      ['--digits', '7-3', /--digits must be a range/],
      ['--size', '8', /--size must be an integer from 16/],
      ['--shift', 'blur:99', /sigma must be a number from 0 to 20/],
    ] as const) {
      const bad = await cliInProcess('data', 'digits', '--out', join(dir, 'x'), flag, value);
      assert.equal(bad.code, 2, `${flag} ${value}: ${bad.stderr}`);
      assert.match(bad.stderr, msg);
    }
    await assert.rejects(
      generateDigitScenes(join(dir, 'y'), { ...SMALL, scale: [0.1, 0.2] }),
      (e: Error) => e instanceof UserError && /options\.scale/.test(e.message),
    );
  } finally {
    cleanup(dir);
  }
});
