// Small folder data sets built in temp dirs for the data tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { encodeJpeg } from '../../src/data/jpeg.js';
import { encodePng } from '../../src/data/png.js';
import type { Raster } from '../../src/data/raster.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `unet-data-${tag}-`));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A w x h picture whose pixel (x, y) is a deterministic pattern; `channels` 1 or 3. */
export function pattern(w: number, h: number, channels: 1 | 3, salt = 0): Raster {
  const data = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) data[(y * w + x) * channels + c] = (x * 7 + y * 13 + c * 50 + salt * 31) % 256;
  return { width: w, height: h, channels, data };
}

/** A mask with class 1 in the left half's top quarter, class 2 in a bottom-right block, 0 elsewhere. */
export function blockMask(w: number, h: number): Raster {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x < w / 2 && y < h / 4) data[y * w + x] = 1;
      else if (x >= (3 * w) / 4 && y >= h / 2) data[y * w + x] = 2;
    }
  }
  return { width: w, height: h, channels: 1, data };
}

export interface FixtureOptions {
  n?: number;
  w?: number;
  h?: number;
  channels?: 1 | 3;
  jpeg?: boolean;
  classes?: boolean;
}

/** DIR/images/sNN.png|jpg, DIR/masks/sNN.png, and classes.json (ids 0..2) unless classes: false. */
export function writeFolderDataset(dir: string, o: FixtureOptions = {}): string[] {
  const { n = 6, w = 20, h = 16, channels = 3 } = o;
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const stems: string[] = [];
  for (let i = 0; i < n; i++) {
    const stem = `s${String(i).padStart(2, '0')}`;
    stems.push(stem);
    const img = pattern(w, h, channels, i);
    writeFileSync(join(dir, 'images', `${stem}.${o.jpeg ? 'jpg' : 'png'}`), o.jpeg ? encodeJpeg(img, 95) : encodePng(img));
    writeFileSync(join(dir, 'masks', `${stem}.png`), encodePng(blockMask(w, h)));
  }
  if (o.classes !== false) {
    writeFileSync(
      join(dir, 'classes.json'),
      JSON.stringify([
        { id: 0, name: 'background', color: [0, 0, 0] },
        { id: 1, name: 'road', color: [128, 64, 128] },
        { id: 2, name: 'car', color: [0, 0, 142] },
      ]),
    );
  }
  return stems;
}
