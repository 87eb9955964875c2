import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';

import { decodeImageBytes, readImageFile, readImageHeaderSync } from '../../src/data/decode.js';
import { encodeJpeg } from '../../src/data/jpeg.js';
import { encodePng } from '../../src/data/png.js';
import { Rng } from '../../src/data/random.js';
import { toChannels } from '../../src/data/raster.js';
import { UserError } from '../../src/util/errors.js';
import { cleanup, pattern, tempDir } from './fixtures.js';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A hand-made PNG: any header values, any IDAT payload. */
function rawPng(w: number, h: number, opts: { depth?: number; colorType?: number; interlace?: number; idat?: Buffer } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = opts.depth ?? 8;
  ihdr[9] = opts.colorType ?? 0;
  ihdr[12] = opts.interlace ?? 0;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', opts.idat ?? deflateSync(Buffer.alloc((w + 1) * h))), chunk('IEND', Buffer.alloc(0))]);
}

test('PNG round trip keeps grey, RGB and RGBA pixels exactly; the same pixels give the same bytes', () => {
  for (const channels of [1, 3] as const) {
    const img = pattern(23, 9, channels, 3);
    const bytes = encodePng(img);
    assert.deepEqual(encodePng(img), bytes);
    const back = decodeImageBytes(bytes, 'x.png');
    assert.equal(back.width, 23);
    assert.equal(back.height, 9);
    assert.equal(back.channels, channels);
    assert.deepEqual(Array.from(back.data), Array.from(img.data));
  }
  const fast = decodeImageBytes(encodePng(pattern(8, 8, 3), { fast: true }), 'f.png');
  assert.deepEqual(Array.from(fast.data), Array.from(pattern(8, 8, 3).data));
});

test('16-bit grey PNG masks keep ids above 255 when asked', () => {
  const w = 3;
  const h = 2;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + 2 * w);
    for (let x = 0; x < w; x++) row.writeUInt16BE(300 + y * w + x, 1 + 2 * x);
    rows.push(row);
  }
  const png = rawPng(w, h, { depth: 16, idat: deflateSync(Buffer.concat(rows)) });
  const ids = decodeImageBytes(png, 'm.png', { keep16: true });
  assert.deepEqual(Array.from(ids.data), [300, 301, 302, 303, 304, 305]);
});

test('JPEG decodes to the header size with small error, grey and colour', () => {
  const img = pattern(33, 17, 3);
  const back = decodeImageBytes(encodeJpeg(img, 95), 'x.jpg');
  assert.equal(back.width, 33);
  assert.equal(back.height, 17);
  assert.equal(back.channels, 3);
  let err = 0;
  for (let i = 0; i < img.data.length; i++) err += Math.abs(back.data[i]! - img.data[i]!);
  assert.ok(err / img.data.length < 12, `mean abs error ${err / img.data.length}`);
  assert.equal(toChannels(back, 1).channels, 1);
});

test('format comes from the bytes, not the name, and junk is a UserError naming the file', () => {
  const png = encodePng(pattern(4, 4, 1));
  assert.equal(decodeImageBytes(png, 'really-a-png.jpg').width, 4);
  assert.throws(
    () => decodeImageBytes(Buffer.from('hello, not a picture'), 'notes.png'),
    (e: Error) => e instanceof UserError && /notes\.png: not a PNG or JPEG/.test(e.message),
  );
  assert.throws(
    () => decodeImageBytes(Buffer.alloc(0), 'empty.png'),
    (e: Error) => e instanceof UserError && /empty\.png: empty file/.test(e.message),
  );
  assert.throws(
    () => decodeImageBytes(png.subarray(0, 60), 'cut.png'),
    (e: Error) => e instanceof UserError && /cut\.png: not a valid PNG/.test(e.message),
  );
  const jpg = encodeJpeg(pattern(16, 16, 3));
  assert.throws(
    () => decodeImageBytes(jpg.subarray(0, jpg.length - 40), 'cut.jpg'),
    (e: Error) => e instanceof UserError && /cut\.jpg: not a valid JPEG/.test(e.message),
  );
});

test('pixel limit is checked from the header before decoding (default 100 MP, adjustable)', () => {
  // Header says 20000 x 20000 (400 MP) with a tiny payload: refused without allocating 1.6 GB.
  const huge = rawPng(20000, 20000, { idat: deflateSync(Buffer.alloc(16)) });
  assert.throws(
    () => decodeImageBytes(huge, 'huge.png'),
    (e: Error) => e instanceof UserError && /huge\.png: 20000x20000 \(400\.0 megapixels\) is over the limit of 100\.0 megapixels/.test(e.message),
  );
  const jpg = Buffer.from(encodeJpeg(pattern(16, 16, 3)));
  // Patch the SOF0 frame size to 40000 x 40000.
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  jpg.writeUInt16BE(40000, sof + 5);
  jpg.writeUInt16BE(40000, sof + 7);
  assert.throws(
    () => decodeImageBytes(jpg, 'huge.jpg'),
    (e: Error) => e instanceof UserError && /huge\.jpg: 40000x40000 .* is over the limit/.test(e.message),
  );
  const small = encodePng(pattern(100, 100, 1));
  assert.throws(() => decodeImageBytes(small, 'ten-k.png', { maxPixels: 5000 }), /ten-k\.png: 100x100 \(10,000 pixels\) is over the limit of 5,000 pixels/);
  assert.equal(decodeImageBytes(small, 'ok.png', { maxPixels: 10000 }).width, 100);
});

test('an interlaced PNG that inflates far beyond its size is refused (decompression bomb)', () => {
  const bomb = rawPng(4, 4, { interlace: 1, idat: deflateSync(Buffer.alloc(64 * 2 ** 20)) });
  const t0 = Date.now();
  assert.throws(
    () => decodeImageBytes(bomb, 'bomb.png'),
    (e: Error) => e instanceof UserError && /bomb\.png: not a valid PNG/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 5000);
});

test('fuzz: mutated PNG and JPEG files either decode or fail with a UserError, quickly', () => {
  const seeds = [encodePng(pattern(24, 20, 3)), encodePng(pattern(24, 20, 1)), encodeJpeg(pattern(24, 20, 3), 80), encodeJpeg(pattern(24, 20, 1), 80)];
  const rng = new Rng(7, 'fuzz');
  const t0 = Date.now();
  let decoded = 0;
  let refused = 0;
  for (let i = 0; i < 400; i++) {
    const src = Buffer.from(seeds[i % seeds.length]!);
    let bytes: Buffer = src;
    const kind = rng.int(0, 3);
    if (kind === 0) for (let k = rng.int(1, 8); k > 0; k--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    else if (kind === 1) bytes = src.subarray(0, rng.int(0, src.length - 1));
    else if (kind === 2) {
      const at = rng.int(0, src.length);
      bytes = Buffer.concat([src.subarray(0, at), Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))), src.subarray(at)]);
    } else {
      // Corrupt a length or size field near the start.
      const at = rng.int(2, Math.min(40, src.length - 2));
      bytes.writeUInt16BE(rng.int(0, 65535), at);
    }
    try {
      const r = decodeImageBytes(bytes, `fuzz-${i}`, { maxPixels: 4_000_000 });
      assert.ok(r.width > 0 && r.height > 0 && r.data.length === r.width * r.height * r.channels);
      decoded++;
    } catch (e) {
      assert.ok(e instanceof UserError, `case ${i} (kind ${kind}) threw ${(e as Error).stack}`);
      assert.match((e as Error).message, new RegExp(`^fuzz-${i}: `));
      refused++;
    }
  }
  assert.ok(refused > 100 && decoded > 0, `decoded ${decoded}, refused ${refused}`);
  assert.ok(Date.now() - t0 < 30000, `fuzzing took ${Date.now() - t0} ms`);
});

test('files that are not regular files are refused without reading (a FIFO would block forever)', async () => {
  const dir = tempDir('codec');
  try {
    mkdirSync(join(dir, 'folder.png'));
    await assert.rejects(readImageFile(join(dir, 'folder.png')), /folder\.png: not a regular file/);
    const fifo = join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(readImageFile(fifo), /pipe\.png: not a regular file/);
    assert.throws(() => readImageHeaderSync(fifo), /pipe\.png: not a regular file/);
    await assert.rejects(readImageFile(join(dir, 'missing.png')), /missing\.png: cannot read \(ENOENT\)/);
    // A JPEG whose frame header sits after a 100 KB application segment is still found by the header reader.
    const jpg = encodeJpeg(pattern(12, 10, 3));
    const app = Buffer.alloc(4 + 60000);
    app.writeUInt16BE(0xffe5, 0);
    app.writeUInt16BE(60002, 2);
    const padded = Buffer.concat([jpg.subarray(0, 2), app, app, jpg.subarray(2)]);
    writeFileSync(join(dir, 'exif.jpg'), padded);
    const h = readImageHeaderSync(join(dir, 'exif.jpg'));
    assert.equal(h.width, 12);
    assert.equal(h.height, 10);
  } finally {
    cleanup(dir);
  }
});
