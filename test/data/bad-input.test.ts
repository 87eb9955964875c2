// Every bad-input case of the folder reader: the library error names the file, `data inspect` exits
// non-zero naming it, and --skip-bad lists it as skipped instead.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import '@tensorflow/tfjs-backend-cpu';

import { streamBatches } from '../../src/data/batches.js';
import { openFolderDataset } from '../../src/data/folder-dataset.js';
import { encodePng } from '../../src/data/png.js';
import { UserError } from '../../src/util/errors.js';
import { cli, cliInProcess } from './cli-run.js';
import { blockMask, cleanup, pattern, tempDir, writeFolderDataset } from './fixtures.js';

interface Case {
  name: string;
  /** Breaks a good data set; returns the file the error must name. */
  breakIt(dir: string): string;
  /** Found when opening (header scan) or only when the sample is decoded. */
  when: 'open' | 'load';
  message: RegExp;
  options?: string[];
  maxPixels?: number;
}

const CASES: Case[] = [
  {
    name: 'an image that is not a picture',
    breakIt: (d) => (writeFileSync(join(d, 'images', 's01.png'), 'GIF89a not really'), join(d, 'images', 's01.png')),
    when: 'open',
    message: /not a PNG or JPEG picture/,
  },
  {
    name: 'an image whose pixel data is corrupt (header fine)',
    breakIt: (d) => {
      const png = encodePng(pattern(20, 16, 3, 1));
      writeFileSync(join(d, 'images', 's01.png'), png.subarray(0, 50));
      return join(d, 'images', 's01.png');
    },
    when: 'load',
    message: /not a valid PNG/,
  },
  {
    name: 'a missing mask',
    breakIt: (d) => (rmSync(join(d, 'masks', 's02.png')), join(d, 'images', 's02.png')),
    when: 'open',
    message: /has no mask \(expected .*s02\.png\)/,
  },
  {
    name: 'an extra mask',
    breakIt: (d) => (writeFileSync(join(d, 'masks', 'zz.png'), encodePng(blockMask(20, 16))), join(d, 'masks', 'zz.png')),
    when: 'open',
    message: /is a mask without an image/,
  },
  {
    name: 'a mask whose size differs from its image',
    breakIt: (d) => (writeFileSync(join(d, 'masks', 's03.png'), encodePng(blockMask(10, 16))), join(d, 'masks', 's03.png')),
    when: 'open',
    message: /is 10x16 but its image .*s03\.png is 20x16/,
  },
  {
    name: 'a class id not in classes.json',
    breakIt: (d) => {
      const m = blockMask(20, 16);
      m.data[5 * 20 + 7] = 9;
      writeFileSync(join(d, 'masks', 's04.png'), encodePng(m));
      return join(d, 'masks', 's04.png');
    },
    when: 'load',
    message: /class id 9 at pixel \(7, 5\) is not a known class \(expected ids in .*classes\.json: 0, 1, 2\)/,
  },
  {
    name: 'a colour not in classes.json',
    breakIt: (d) => {
      const rgb = new Uint8Array(20 * 16 * 3);
      rgb.set([128, 64, 128], 0);
      rgb.set([1, 2, 3], 3 * 21);
      writeFileSync(join(d, 'masks', 's05.png'), encodePng({ width: 20, height: 16, channels: 3, data: rgb }));
      return join(d, 'masks', 's05.png');
    },
    when: 'load',
    message: /colour \[1, 2, 3\] at pixel \(1, 1\) is not a class colour/,
  },
  {
    name: 'an image over the pixel limit',
    breakIt: (d) => (
      writeFileSync(join(d, 'images', 's00.png'), encodePng(pattern(40, 30, 3))),
      writeFileSync(join(d, 'masks', 's00.png'), encodePng(blockMask(40, 30))),
      join(d, 'images', 's00.png')
    ),
    when: 'open',
    message: /40x30 \(1,200 pixels\) is over the limit of 1,000 pixels \(raise it with (--max-megapixels|options\.maxPixels)\)/,
    options: ['--max-megapixels', '0.001'],
    maxPixels: 1000,
  },
];

for (const c of CASES) {
  test(`bad input: ${c.name} -> error naming the file; --skip-bad skips and lists it`, async () => {
    const dir = tempDir('bad');
    try {
      writeFolderDataset(dir, { n: 6 });
      const file = c.breakIt(dir);
      const names = (e: unknown): boolean => e instanceof UserError && e.message.startsWith(`${file}: `) && c.message.test(e.message);
      // Library: opening (or streaming) fails with a message that starts with the file.
      const run = async (skipBad: boolean) => {
        const ds = openFolderDataset(dir, { skipBad, maxPixels: c.maxPixels });
        for await (const b of streamBatches(ds, ds.pairs, { height: 8, width: 8, channels: 3, batchSize: 4, shuffle: false })) {
          b.images.dispose();
          b.masks.dispose();
        }
        return ds;
      };
      if (c.when === 'open') assert.throws(() => openFolderDataset(dir, { maxPixels: c.maxPixels }), names);
      else assert.ok(openFolderDataset(dir, { maxPixels: c.maxPixels }).pairs.length > 0);
      await assert.rejects(run(false), names);
      const ds = await run(true);
      assert.deepEqual(
        ds.skipped.map((s) => s.file),
        [file],
      );
      // CLI: non-zero exit, the file named on stderr; with --skip-bad exit 0 and the file listed as skipped.
      // The first case also runs the real program in a child process (slower), the rest run in-process.
      const run1 = c === CASES[0] ? async (...a: string[]) => cli(...a) : cliInProcess;
      const bad = await run1('data', 'inspect', dir, '--sheet', 'none', ...(c.options ?? []));
      assert.equal(bad.code, 1, bad.stderr);
      assert.ok(bad.stderr.includes(file), bad.stderr);
      assert.match(bad.stderr, c.message);
      const skip = await run1('data', 'inspect', dir, '--sheet', 'none', '--skip-bad', ...(c.options ?? []));
      assert.equal(skip.code, 0, skip.stderr);
      assert.match(skip.stdout, /skipped 1 bad file/);
      assert.ok(skip.stdout.includes(file), skip.stdout);
      const json = await cliInProcess('data', 'inspect', dir, '--sheet', 'none', '--skip-bad', '--json', ...(c.options ?? []));
      assert.equal(json.code, 0);
      assert.deepEqual(JSON.parse(json.stdout).skipped, [file]);
    } finally {
      cleanup(dir);
    }
  });
}

test('bad input: an empty folder, a folder without images/, an empty images/ -> error naming the folder', async () => {
  const dir = tempDir('empty');
  try {
    const r1 = await cliInProcess('data', 'inspect', dir, '--skip-bad');
    assert.equal(r1.code, 1);
    assert.ok(r1.stderr.includes(`${dir}: empty folder`), r1.stderr);
    assert.throws(
      () => openFolderDataset(dir),
      (e: Error) => e instanceof UserError && e.message.startsWith(`${dir}: empty folder`),
    );
    writeFileSync(join(dir, 'notes.txt'), 'x');
    assert.throws(() => openFolderDataset(dir), /not a data set folder; expected images\/ and masks\//);
    mkdirSync(join(dir, 'images'));
    mkdirSync(join(dir, 'masks'));
    assert.throws(
      () => openFolderDataset(dir, { skipBad: true }),
      (e: Error) => e.message.startsWith(`${join(dir, 'images')}: no images`),
    );
    const r2 = await cliInProcess('data', 'inspect', dir);
    assert.equal(r2.code, 1);
    assert.ok(r2.stderr.includes(`${join(dir, 'images')}: no images`), r2.stderr);
    assert.throws(() => openFolderDataset(join(dir, 'nope')), /nope: no such folder/);
  } finally {
    cleanup(dir);
  }
});

test('bad input: several problems -> the first is named and the count of the rest is given', () => {
  const dir = tempDir('many');
  try {
    writeFolderDataset(dir, { n: 5 });
    rmSync(join(dir, 'masks', 's01.png'));
    rmSync(join(dir, 'masks', 's03.png'));
    writeFileSync(join(dir, 'masks', 's04.jpg'), 'x');
    assert.throws(
      () => openFolderDataset(dir),
      /images\/s01\.png: has no mask .* \(and 2 more problems; `unet-transfer data inspect .*` lists them, options\.skipBad skips them\)/,
    );
    const ds = openFolderDataset(dir, { skipBad: true });
    assert.deepEqual(
      ds.pairs.map((p) => p.stem),
      ['s00', 's02', 's04'],
    ); // s04 keeps its PNG mask
    assert.equal(ds.skipped.length, 3);
    assert.ok(ds.skipped.some((s) => s.file.endsWith('s04.jpg') && /masks must be PNG/.test(s.reason)));
  } finally {
    cleanup(dir);
  }
});

test('bad input: a broken classes.json names the file and what was expected', () => {
  const dir = tempDir('classes');
  try {
    writeFolderDataset(dir, { n: 2 });
    for (const [text, msg] of [
      ['{not json', /not valid JSON/],
      ['[{"id":0,"name":"a"},{"id":0,"name":"b"}]', /class id 0 appears twice/],
      ['[{"id":0,"name":"a","color":[0,0]}]', /expected \[r,g,b\]/],
      ['{"foo":1}', /expected a list of classes/],
    ] as const) {
      writeFileSync(join(dir, 'classes.json'), text);
      assert.throws(
        () => openFolderDataset(dir),
        (e: Error) => e instanceof UserError && e.message.startsWith(join(dir, 'classes.json')) && msg.test(e.message),
      );
    }
  } finally {
    cleanup(dir);
  }
});
