// Built-in digit scenes: real MNIST handwritten digits placed on a canvas, written as a folder data set.
//
// Each scene holds `perImage` digits from the `digits` range, each scaled to a random fraction of the
// canvas side and placed where its mask neither overlaps nor touches another digit's mask. A pixel belongs
// to a digit's class where the digit's (resized) stroke intensity is at least `threshold`, to background
// elsewhere. Class ids: 0 background, then 1..N for the digits lo..hi in order (digit d -> class d-lo+1).
// Training scenes (train/) use only MNIST's training split and validation scenes (val/) only its test
// split, so no handwritten digit is in both. Scene i of a split depends only on (seed, split, i): the same
// seed gives byte-identical files, and input shifts draw from their own stream, so a shifted set has
// exactly the same masks as the unshifted one. `--digits 5-9` puts new objects in the same class slots
// 1..5 (an output-level shift), which classes.json records under "shift".
import { UserError } from '../util/errors.js';
import { defaultColor, type ClassInfo } from './classes.js';
import { writeFolderAtomically } from './folder-writer.js';
import { indicesByDigit, readMnist, type MnistSet, type MnistSplit } from './mnist.js';
import { encodePng } from './png.js';
import { Rng } from './random.js';
import { resizeBilinear } from './resize.js';
import { applyShifts, formatShifts, type ShiftStep } from './shifts.js';

export interface DigitSceneOptions {
  size: number;
  /** Training scenes (from MNIST train). */
  count: number;
  /** Validation scenes (from MNIST test). */
  valCount: number;
  digits: [number, number];
  perImage: [number, number];
  /** Digit side as a fraction of the canvas side. */
  scale: [number, number];
  /** Stroke intensity (0..255) at which a pixel becomes the digit's class. */
  threshold: number;
  shifts: ShiftStep[];
  seed: number;
}

export const DEFAULT_DIGIT_SCENES: DigitSceneOptions = {
  size: 64,
  count: 2000,
  valCount: 500,
  digits: [0, 4],
  perImage: [1, 3],
  scale: [0.3, 0.5],
  threshold: 128,
  shifts: [],
  seed: 0,
};

/** The source-domain digit range the output-level shift is measured against. */
export const REFERENCE_DIGITS: [number, number] = [0, 4];

export interface PlacedDigit {
  digit: number;
  classId: number;
  /** Index into the MNIST split the scene was drawn from. */
  mnistIndex: number;
  x: number;
  y: number;
  side: number;
}

export interface DigitScene {
  size: number;
  image: Uint8Array;
  mask: Uint8Array;
  placed: PlacedDigit[];
}

export function validateDigitOptions(o: DigitSceneOptions): void {
  const bad = (m: string): never => {
    throw new UserError(m);
  };
  if (!Number.isInteger(o.size) || o.size < 16 || o.size > 2048) bad(`options.size must be an integer from 16 to 2048, got ${o.size}`);
  if (!Number.isInteger(o.count) || o.count < 1) bad(`options.count must be a positive integer, got ${o.count}`);
  if (!Number.isInteger(o.valCount) || o.valCount < 0) bad(`options.valCount must be an integer >= 0, got ${o.valCount}`);
  const [lo, hi] = o.digits;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && hi <= 9 && lo <= hi))
    bad(`options.digits must be a range within 0-9 like 0-4, got ${lo}-${hi}`);
  const [pl, ph] = o.perImage;
  if (!(Number.isInteger(pl) && Number.isInteger(ph) && pl >= 1 && ph <= 20 && pl <= ph))
    bad(`options.perImage must be a range like 1-3 within 1-20, got ${pl}-${ph}`);
  const [sl, sh] = o.scale;
  if (!(sl > 0 && sh <= 1 && sl <= sh) || Math.round(o.size * sl) < 8)
    bad(`options.scale must be a range of fractions like 0.3-0.5 within (0, 1], with digits at least 8 px (got ${sl}-${sh} of ${o.size} px)`);
  if (!Number.isInteger(o.threshold) || o.threshold < 1 || o.threshold > 255) bad(`options.threshold must be an integer from 1 to 255, got ${o.threshold}`);
}

/** Renders scene `index` of `split` (pure: depends only on options, split and index). */
export function renderScene(mnist: MnistSet, pools: number[][], split: MnistSplit, index: number, o: DigitSceneOptions): DigitScene {
  const S = o.size;
  const rng = new Rng(o.seed, 'digit-scene', split, index);
  const canvas = new Float32Array(S * S);
  const mask = new Uint8Array(S * S);
  // Pixels a new digit's mask may not use: earlier masks grown by one pixel, so digits never touch.
  const taken = new Uint8Array(S * S);
  const placed: PlacedDigit[] = [];
  const k = rng.int(o.perImage[0], o.perImage[1]);
  const rows = mnist.rows;
  const cols = mnist.cols;
  for (let d = 0; d < k; d++) {
    const digit = rng.int(o.digits[0], o.digits[1]);
    const pool = pools[digit]!;
    const mnistIndex = pool[rng.int(0, pool.length - 1)]!;
    const side = Math.min(S, Math.max(8, Math.round(S * rng.uniform(o.scale[0], o.scale[1]))));
    const src = { width: cols, height: rows, channels: 1, data: mnist.digit(mnistIndex) };
    const glyph = resizeBilinear(src, side, side);
    for (let tries = 0; tries < 40; tries++) {
      const x0 = rng.int(0, S - side);
      const y0 = rng.int(0, S - side);
      let clash = false;
      for (let y = 0; y < side && !clash; y++) {
        for (let x = 0; x < side; x++) {
          if (glyph[y * side + x]! >= o.threshold && taken[(y0 + y) * S + x0 + x]) {
            clash = true;
            break;
          }
        }
      }
      if (clash) continue;
      const classId = digit - o.digits[0] + 1;
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const v = glyph[y * side + x]!;
          const p = (y0 + y) * S + x0 + x;
          if (v > canvas[p]!) canvas[p] = v;
          if (v >= o.threshold) {
            mask[p] = classId;
            for (let dy = -1; dy <= 1; dy++) {
              for (let dx = -1; dx <= 1; dx++) {
                const yy = y0 + y + dy;
                const xx = x0 + x + dx;
                if (yy >= 0 && yy < S && xx >= 0 && xx < S) taken[yy * S + xx] = 1;
              }
            }
          }
        }
      }
      placed.push({ digit, classId, mnistIndex, x: x0, y: y0, side });
      break;
    }
  }
  for (let i = 0; i < canvas.length; i++) canvas[i]! /= 255;
  if (o.shifts.length) applyShifts(canvas, S, S, o.shifts, new Rng(o.seed, 'digit-shift', split, index));
  const image = new Uint8Array(S * S);
  for (let i = 0; i < canvas.length; i++) image[i] = Math.min(255, Math.max(0, Math.round(canvas[i]! * 255)));
  return { size: S, image, mask, placed };
}

const rangeText = (r: [number, number]): string => (r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`);

/** classes.json content for a digit-scene set: the class mapping, provenance and the shifts it carries. */
export function digitSceneClasses(o: DigitSceneOptions): { classes: ClassInfo[]; meta: Record<string, unknown> } {
  const classes: ClassInfo[] = [{ id: 0, name: 'background', color: [0, 0, 0] }];
  for (let d = o.digits[0]; d <= o.digits[1]; d++) {
    const id = d - o.digits[0] + 1;
    classes.push({ id, name: `digit_${d}`, color: defaultColor(id), digit: d });
  }
  const sameSlots = o.digits[1] - o.digits[0] === REFERENCE_DIGITS[1] - REFERENCE_DIGITS[0];
  const isReference = o.digits[0] === REFERENCE_DIGITS[0] && o.digits[1] === REFERENCE_DIGITS[1];
  const output = isReference
    ? null
    : {
        digits: rangeText(o.digits),
        reference: rangeText(REFERENCE_DIGITS),
        sameClassCount: sameSlots,
        description: `class slots 1..${classes.length - 1} hold digits ${rangeText(o.digits)} instead of the reference digits ${rangeText(REFERENCE_DIGITS)}: new objects${sameSlots ? ' for the same class slots' : ''}`,
      };
  return {
    classes,
    meta: {
      source: 'mnist-digit-scenes',
      classMapping: `0 is background; class k (1..${classes.length - 1}) is handwritten digit ${o.digits[0]}+k-1`,
      splits: { train: 'MNIST training split', val: 'MNIST test split' },
      generator: {
        size: o.size,
        count: o.count,
        valCount: o.valCount,
        digits: rangeText(o.digits),
        perImage: rangeText(o.perImage),
        scale: `${o.scale[0]}-${o.scale[1]}`,
        threshold: o.threshold,
        seed: o.seed,
      },
      shift: { input: formatShifts(o.shifts), output },
    },
  };
}

export interface DigitSceneSummary {
  out: string;
  train: number;
  val: number;
  classes: ClassInfo[];
  shift: unknown;
  seconds: number;
}

/**
 * Writes the data set to `out`: train/{images,masks}, val/{images,masks} (when valCount > 0),
 * classes.json and scenes.jsonl (which MNIST digits each scene holds, and where). The folder is built
 * next to `out` and renamed into place at the end, so `out` is never half-written.
 */
export async function generateDigitScenes(
  out: string,
  o: DigitSceneOptions,
  opts: { force?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<DigitSceneSummary> {
  validateDigitOptions(o);
  const t0 = Date.now();
  const total = o.count + o.valCount;
  let done = 0;
  const { classes, meta } = digitSceneClasses(o);
  const target = await writeFolderAtomically(out, opts.force === true, (folder) => {
    const lines: string[] = [];
    for (const [name, split, n] of [
      ['train', 'train', o.count],
      ['val', 'test', o.valCount],
    ] as const) {
      if (n === 0) continue;
      const mnist = readMnist(split);
      const pools = indicesByDigit(mnist);
      const width = Math.max(5, String(n - 1).length);
      for (let i = 0; i < n; i++) {
        const scene = renderScene(mnist, pools, split, i, o);
        const stem = String(i).padStart(width, '0');
        folder.put(`${name}/images/${stem}.png`, encodePng({ width: o.size, height: o.size, channels: 1, data: scene.image }, { fast: true }));
        folder.put(`${name}/masks/${stem}.png`, encodePng({ width: o.size, height: o.size, channels: 1, data: scene.mask }, { fast: true }));
        lines.push(JSON.stringify({ split: name, stem, mnistSplit: split, digits: scene.placed }));
        done++;
        if (opts.onProgress && (done % 250 === 0 || done === total)) opts.onProgress(done, total);
      }
    }
    folder.put('classes.json', `${JSON.stringify({ ...meta, classes }, null, 2)}\n`);
    folder.put('scenes.jsonl', `${lines.join('\n')}\n`);
  });
  return { out: target, train: o.count, val: o.valCount, classes, shift: (meta as { shift: unknown }).shift, seconds: (Date.now() - t0) / 1000 };
}
