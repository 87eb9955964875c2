// One training sample from a pair of files: decode, check, convert to the model's channels, crop/flip
// (identically for picture and mask), resize (bilinear / nearest), normalise.
import { UserError } from '../util/errors.js';
import { drawAugment, flipInPlace, isIdentity, jitterInPlace, type AugmentSpec } from './augment.js';
import { readPicture } from './decode.js';
import type { FolderDataset, SamplePair } from './folder-dataset.js';
import { maskToIds, type MaskEncoding } from './mask.js';
import { Rng } from './random.js';
import { toChannels } from './raster.js';
import { resizeBilinear, resizeNearest } from './resize.js';

/** How pictures become model inputs. */
export interface SampleOptions {
  height: number;
  width: number;
  /** The model's input channels: 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** Default: value / 255, so inputs lie in [0, 1]. With mean/std: (value / 255 - mean[c]) / std[c]. */
  normalize?: { mean: number[]; std: number[] };
  /** When classes.json is absent: grey mask ids must be below this (the model's class count). */
  numClasses?: number;
  /** How grey mask values are read (mask.ts); default class ids. Binary and bits masks are grey. */
  maskEncoding?: MaskEncoding;
  augment?: AugmentSpec;
}

export interface Sample {
  stem: string;
  /** height x width x channels, float32, normalised. */
  image: Float32Array;
  /** height x width class ids. */
  mask: Int32Array;
}

/** Loads a pair at full resolution: the picture (8-bit raster) and its class ids. Errors name the file. */
export async function loadPairRaw(ds: FolderDataset, pair: SamplePair, numClasses?: number, encoding: MaskEncoding = 'ids') {
  const [img, msk] = await Promise.all([
    readPicture(pair.image, { maxPixels: ds.maxPixels }),
    readPicture(pair.mask, { maxPixels: ds.maxPixels, keep16: true }),
  ]);
  if (msk.header.format !== 'png') throw new UserError(`${pair.mask}: masks must be PNG (this is a JPEG)`);
  if (msk.raster.width !== img.raster.width || msk.raster.height !== img.raster.height) {
    throw new UserError(
      `${pair.mask}: is ${msk.raster.width}x${msk.raster.height} but its image ${pair.image} is ${img.raster.width}x${img.raster.height}; a mask must have its image's size`,
    );
  }
  const ids =
    encoding === 'ids'
      ? maskToIds(msk.raster, pair.mask, ds.classes, ds.classes ? undefined : numClasses)
      : maskToIds(msk.raster, pair.mask, null, numClasses, encoding);
  return { image: img.raster, ids, header: img.header };
}

/**
 * Loads one sample. `augmentKey` (e.g. [seed, epoch, index]) seeds the augmentation draw so that the same
 * sample in the same epoch of the same run is augmented the same way.
 */
export async function loadSample(ds: FolderDataset, pair: SamplePair, opts: SampleOptions, augmentKey: number[] = [0]): Promise<Sample> {
  const { image, ids } = await loadPairRaw(ds, pair, opts.numClasses, opts.maskEncoding);
  const rgb = toChannels(image, opts.channels);
  const aug = isIdentity(opts.augment)
    ? null
    : drawAugment(opts.augment!, new Rng(augmentKey[0] ?? 0, 'augment', ...augmentKey.slice(1), pair.stem), rgb.width, rgb.height);
  const { width: W, height: H, channels: C } = opts;
  const x = resizeBilinear(rgb, W, H, aug?.box);
  const y = resizeNearest({ width: image.width, height: image.height, channels: 1, data: ids }, W, H, aug?.box);
  if (aug) {
    if (aug.flipH) {
      flipInPlace(x, W, H, C, true);
      flipInPlace(y, W, H, 1, true);
    }
    if (aug.flipV) {
      flipInPlace(x, W, H, C, false);
      flipInPlace(y, W, H, 1, false);
    }
    jitterInPlace(x, aug);
  }
  normalizeInPlace(x, C, opts.normalize);
  return { stem: pair.stem, image: x, mask: y };
}

export function normalizeInPlace(x: Float32Array, channels: number, norm?: { mean: number[]; std: number[] }): void {
  if (!norm) {
    for (let i = 0; i < x.length; i++) x[i] = x[i]! / 255;
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    x[i] = (x[i]! / 255 - (norm.mean[c] ?? 0)) / (norm.std[c] ?? 1);
  }
}
