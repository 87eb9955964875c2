// Augmentation: random flips and crops applied identically to a picture and its mask (the crop box and the
// flips are drawn once per sample), and brightness/contrast jitter applied to the picture only.
// Spec text, as a CLI takes it: "flip,crop:0.8,brightness:0.1,contrast:0.2" (`flip` = horizontal,
// `vflip` = vertical too; crop:S keeps a random box of S..1 of each side; brightness:B adds U(-B,B) of the
// full range; contrast:C scales around the mean by U(1-C,1+C)).
import { OptionError } from '../util/errors.js';
import type { Box } from './resize.js';
import type { Rng } from './random.js';

export interface AugmentSpec {
  flipH: boolean;
  flipV: boolean;
  /** Smallest crop side as a fraction of the picture's side (1: no cropping). */
  cropMin: number;
  brightness: number;
  contrast: number;
}

export const NO_AUGMENT: AugmentSpec = { flipH: false, flipV: false, cropMin: 1, brightness: 0, contrast: 0 };

/** Parses the spec text; errors name `options.<option>`. */
export function parseAugment(text: string, option = 'augment'): AugmentSpec {
  const spec = { ...NO_AUGMENT };
  if (text.trim() === '' || text === 'none') return spec;
  for (const part of text.split(',')) {
    const [name, arg, ...rest] = part.trim().split(':');
    const num = (lo: number, hi: number, dflt: number): number => {
      if (rest.length) throw new OptionError(option, `: "${part}" takes at most one value`);
      if (arg === undefined) return dflt;
      const v = Number(arg);
      if (!Number.isFinite(v) || v < lo || v > hi) throw new OptionError(option, `: "${part}" needs a number from ${lo} to ${hi}`);
      return v;
    };
    switch (name) {
      case 'flip':
      case 'hflip':
        num(0, 0, 0);
        spec.flipH = true;
        break;
      case 'vflip':
        num(0, 0, 0);
        spec.flipV = true;
        break;
      case 'crop':
        spec.cropMin = num(0.1, 1, 0.8);
        break;
      case 'brightness':
        spec.brightness = num(0, 1, 0.1);
        break;
      case 'contrast':
        spec.contrast = num(0, 1, 0.2);
        break;
      default:
        throw new OptionError(option, `: unknown augmentation "${name}" (expected flip, vflip, crop:S, brightness:B, contrast:C, or none)`);
    }
  }
  return spec;
}

export function isIdentity(spec: AugmentSpec | undefined): boolean {
  return !spec || (!spec.flipH && !spec.flipV && spec.cropMin >= 1 && spec.brightness === 0 && spec.contrast === 0);
}

/** The random draws for one sample: crop box in source pixels, flips, photometric jitter. */
export interface AugmentDraw {
  box?: Box;
  flipH: boolean;
  flipV: boolean;
  /** Added to 0..255 values. */
  brightness: number;
  contrast: number;
}

export function drawAugment(spec: AugmentSpec, rng: Rng, width: number, height: number): AugmentDraw {
  let box: Box | undefined;
  if (spec.cropMin < 1) {
    const s = rng.uniform(spec.cropMin, 1);
    const bw = Math.max(1, Math.round(width * s));
    const bh = Math.max(1, Math.round(height * s));
    box = { x: rng.int(0, width - bw), y: rng.int(0, height - bh), width: bw, height: bh };
  }
  return {
    box,
    flipH: spec.flipH && rng.next() < 0.5,
    flipV: spec.flipV && rng.next() < 0.5,
    brightness: spec.brightness ? rng.uniform(-spec.brightness, spec.brightness) * 255 : 0,
    contrast: spec.contrast ? rng.uniform(1 - spec.contrast, 1 + spec.contrast) : 1,
  };
}

/** Flips an interleaved H x W x C grid in place. */
export function flipInPlace(data: Float32Array | Int32Array, w: number, h: number, c: number, horizontal: boolean): void {
  if (horizontal) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w >> 1; x++) {
        const a = (y * w + x) * c;
        const b = (y * w + (w - 1 - x)) * c;
        for (let k = 0; k < c; k++) {
          const t = data[a + k]!;
          data[a + k] = data[b + k]!;
          data[b + k] = t;
        }
      }
    }
  } else {
    const row = w * c;
    for (let y = 0; y < h >> 1; y++) {
      const a = y * row;
      const b = (h - 1 - y) * row;
      for (let i = 0; i < row; i++) {
        const t = data[a + i]!;
        data[a + i] = data[b + i]!;
        data[b + i] = t;
      }
    }
  }
}

/** Brightness and contrast on 0..255 picture values, clamped. */
export function jitterInPlace(data: Float32Array, draw: AugmentDraw): void {
  if (draw.brightness === 0 && draw.contrast === 1) return;
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i]!;
  mean /= data.length || 1;
  for (let i = 0; i < data.length; i++) {
    const v = (data[i]! - mean) * draw.contrast + mean + draw.brightness;
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
