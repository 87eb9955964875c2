// Binary and multilabel data sets made from digit scenes, for the head-mode tests and figures.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_DIGIT_SCENES, encodePng, generateDigitScenes } from '../../src/data/index.js';
import { readPicture } from '../../src/data/decode.js';

/** Rewrites every mask of a digit-scene set as a grey PNG of `value(class id)`. */
export async function rewriteMasks(dir: string, value: (id: number) => number): Promise<void> {
  for (const split of ['train', 'val']) {
    const masks = join(dir, split, 'masks');
    for (const f of readdirSync(masks)) {
      const { raster } = await readPicture(join(masks, f));
      const data = new Uint8Array(raster.width * raster.height);
      for (let i = 0; i < data.length; i++) data[i] = value(raster.data[i * raster.channels]!);
      writeFileSync(join(masks, f), encodePng({ width: raster.width, height: raster.height, channels: 1, data }));
    }
  }
}

/**
 * Digit scenes made binary: every digit pixel 255 (or only those of the digits `foreground` keeps), the rest
 * 0; classes.json names background and digit. Default 24 training and 8 validation scenes of 32x32 with
 * digits 0..2, all of them foreground.
 */
export async function binaryDigitSet(
  dir: string,
  o: { count?: number; valCount?: number; digits?: [number, number]; seed?: number; foreground?: (digit: number) => boolean } = {},
): Promise<string> {
  const [lo] = o.digits ?? [0, 2];
  const foreground = o.foreground ?? (() => true);
  // Large, thick digits, so that the foreground is about a tenth of the pixels.
  await generateDigitScenes(dir, {
    ...DEFAULT_DIGIT_SCENES,
    size: 32,
    count: o.count ?? 24,
    valCount: o.valCount ?? 8,
    digits: o.digits ?? [0, 2],
    perImage: [2, 3],
    scale: [0.5, 0.7],
    threshold: 64,
    seed: o.seed ?? 0,
  });
  await rewriteMasks(dir, (id) => (id > 0 && foreground(lo + id - 1) ? 255 : 0));
  writeFileSync(
    join(dir, 'classes.json'),
    JSON.stringify({
      classes: [
        { id: 0, name: 'background', color: [0, 0, 0] },
        { id: 1, name: 'digit', color: [255, 255, 255] },
      ],
    }),
  );
  return dir;
}
