// `data inspect`: counts, sizes, classes with pixel shares, the shift recorded by the digit generator, and a
// contact sheet PNG with pictures and masks side by side.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { renderContactSheet } from '../../src/data/contact-sheet.js';
import { makeClassSet } from '../../src/data/classes.js';
import { decodeImageBytes } from '../../src/data/decode.js';
import { cli } from './cli-run.js';
import { blockMask, cleanup, pattern, tempDir } from './fixtures.js';

test('data digits then data inspect (the real program): counts, classes, shift, contact sheet', () => {
  const dir = tempDir('inspect');
  try {
    const out = join(dir, 'scenes');
    const gen = cli(
      'data',
      'digits',
      '--out',
      out,
      '--size',
      '32',
      '--count',
      '8',
      '--val-count',
      '2',
      '--shift',
      'speckle:0.4',
      '--digits',
      '5-9',
      '--seed',
      '3',
      '--quiet',
    );
    assert.equal(gen.code, 0, gen.stderr);
    const r = cli('data', 'inspect', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as {
      usable: number;
      splits: Record<string, number>;
      sizes: { width: number; height: number; count: number }[];
      classes: { id: number; name: string; share: number }[];
      meta: { shift: { input: string[]; output: { digits: string } } };
      sheet: string;
      problems: unknown[];
    };
    assert.equal(rep.usable, 10);
    assert.deepEqual(rep.splits, { train: 8, val: 2 });
    assert.deepEqual(rep.sizes, [{ width: 32, height: 32, count: 10 }]);
    assert.deepEqual(
      rep.classes.map((c) => c.name),
      ['background', 'digit_5', 'digit_6', 'digit_7', 'digit_8', 'digit_9'],
    );
    assert.ok(Math.abs(rep.classes.reduce((a, c) => a + c.share, 0) - 1) < 1e-9);
    assert.ok(rep.classes[0]!.share > 0.5);
    assert.deepEqual(rep.meta.shift.input, ['speckle:0.4']);
    assert.equal(rep.meta.shift.output.digits, '5-9');
    assert.deepEqual(rep.problems, []);
    assert.equal(rep.sheet, join(out, 'contact-sheet.png'));
    const sheet = decodeImageBytes(readFileSync(rep.sheet), rep.sheet);
    assert.equal(sheet.channels, 3);
    assert.ok(sheet.width > sheet.height, `${sheet.width}x${sheet.height}`);
    const text = cli('data', 'inspect', out, '--sheet', join(dir, 'sheet.png'));
    assert.equal(text.code, 0);
    assert.match(text.stdout, /10 usable pairs of 10 \(train 8, val 2\)/);
    assert.match(text.stdout, /digit_5/);
    assert.match(text.stdout, /output class slots 1\.\.5 hold digits 5-9/);
    assert.ok(existsSync(join(dir, 'sheet.png')));
  } finally {
    cleanup(dir);
  }
});

test('contact sheet: picture, mask in class colours and overlay side by side', () => {
  const classes = makeClassSet([
    { id: 0, name: 'bg', color: [0, 0, 0] },
    { id: 1, name: 'a', color: [255, 0, 0] },
    { id: 2, name: 'b', color: [0, 0, 255] },
  ]);
  const image = pattern(16, 16, 1);
  const ids = Int32Array.from(blockMask(16, 16).data);
  const sheet = renderContactSheet([{ image, ids }], classes, { tile: 16 });
  // One sample: three 16-px tiles with 4-px gaps between 12-px margins.
  assert.equal(sheet.width, 12 + 3 * 16 + 2 * 4 + 12);
  assert.equal(sheet.height, 12 + 16 + 12);
  const px = (x: number, y: number): number[] => Array.from(sheet.data.slice((y * sheet.width + x) * 3, (y * sheet.width + x) * 3 + 3));
  // Panel 1 (picture): grey, equal channels, the picture's value at (1,1).
  assert.deepEqual(px(12 + 1, 12 + 1), [image.data[17]!, image.data[17]!, image.data[17]!]);
  // Panel 2 (mask): class 1 red at top-left, class 2 blue at bottom-right, background black.
  assert.deepEqual(px(12 + 20 + 1, 12 + 1), [255, 0, 0]);
  assert.deepEqual(px(12 + 20 + 14, 12 + 14), [0, 0, 255]);
  assert.deepEqual(px(12 + 20 + 10, 12 + 1), [0, 0, 0]);
  // Panel 3 (overlay): red blended over the picture where class 1 is, the picture itself on background.
  const g = image.data[17]!;
  assert.deepEqual(px(12 + 40 + 1, 12 + 1), [Math.round(0.5 * g + 127.5), Math.round(0.5 * g), Math.round(0.5 * g)]);
  const bgv = image.data[1 * 16 + 10]!;
  assert.deepEqual(px(12 + 40 + 10, 12 + 1), [bgv, bgv, bgv]);
});
