// Input-level domain shifts: composable functions that change how a picture looks and never its mask.
// Spec text: comma-separated steps applied in order, each `name` or `name:param[:param]`, e.g.
// "speckle:0.5,blur:1.5". Pictures are float arrays in [0, 1], one channel, width x height.
//
//   speckle:S      multiplicative grainy noise as in ultrasound: (I + 0.3·S) · (1 + S·g), g a unit-variance
//                  Gaussian field smoothed over ~1.5 px (S 0..5; the offset lets speckle show on background)
//   blur:SIGMA     Gaussian blur, sigma in pixels (0..20)
//   invert         1 - I
//   contrast:F     0.5 + F·(I - 0.5) (F 0..10)
//   brightness:B   I + B (B -1..1)
//   gamma:G        I^G (G 0.05..10)
//   noise:SIGMA    additive Gaussian noise (0..1)
//   texture:A[:P]  adds A·T where T is smooth random clutter with feature size P px (default width/8),
//                  so the background is no longer empty (A 0..1)
//   none           no change
// Every result is clamped to [0, 1]. Randomness comes from the Rng the caller passes (seeded per picture).
import { UsageError } from '../util/errors.js';
import type { Rng } from './random.js';

export interface ShiftStep {
  name: string;
  params: number[];
}

interface ShiftDef {
  params: { name: string; lo: number; hi: number; dflt?: number }[];
  apply(img: Float32Array, w: number, h: number, p: number[], rng: Rng): void;
}

function clamp01(img: Float32Array): void {
  for (let i = 0; i < img.length; i++) {
    const v = img[i]!;
    img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/** Separable Gaussian blur in place (edges clamped). */
export function gaussianBlur(img: Float32Array, w: number, h: number, sigma: number): void {
  if (sigma <= 0) return;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r]! * img[y * w + Math.min(w - 1, Math.max(0, x + i))]!;
      tmp[y * w + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r]! * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x]!;
      img[y * w + x] = acc;
    }
  }
}

function gaussianField(w: number, h: number, rng: Rng, smooth: number): Float32Array {
  const f = new Float32Array(w * h);
  for (let i = 0; i < f.length; i++) f[i] = rng.normal();
  if (smooth > 0) {
    gaussianBlur(f, w, h, smooth);
    let sq = 0;
    for (let i = 0; i < f.length; i++) sq += f[i]! * f[i]!;
    const std = Math.sqrt(sq / f.length) || 1;
    for (let i = 0; i < f.length; i++) f[i]! /= std;
  }
  return f;
}

const SHIFTS: Record<string, ShiftDef> = {
  none: { params: [], apply: () => {} },
  speckle: {
    params: [{ name: 'strength', lo: 0, hi: 5, dflt: 0.5 }],
    apply(img, w, h, [s], rng) {
      const g = gaussianField(w, h, rng, 0.75);
      for (let i = 0; i < img.length; i++) img[i] = (img[i]! + 0.3 * s!) * (1 + s! * g[i]!);
    },
  },
  blur: { params: [{ name: 'sigma', lo: 0, hi: 20, dflt: 1 }], apply: (img, w, h, [s]) => gaussianBlur(img, w, h, s!) },
  invert: { params: [], apply: (img) => img.forEach((v, i) => (img[i] = 1 - v)) },
  contrast: { params: [{ name: 'factor', lo: 0, hi: 10, dflt: 0.5 }], apply: (img, _w, _h, [f]) => img.forEach((v, i) => (img[i] = 0.5 + f! * (v - 0.5))) },
  brightness: { params: [{ name: 'offset', lo: -1, hi: 1, dflt: 0.2 }], apply: (img, _w, _h, [b]) => img.forEach((v, i) => (img[i] = v + b!)) },
  gamma: {
    params: [{ name: 'gamma', lo: 0.05, hi: 10, dflt: 2 }],
    apply: (img, _w, _h, [g]) => img.forEach((v, i) => (img[i] = Math.pow(Math.max(0, v), g!))),
  },
  noise: {
    params: [{ name: 'sigma', lo: 0, hi: 1, dflt: 0.1 }],
    apply(img, _w, _h, [s], rng) {
      for (let i = 0; i < img.length; i++) img[i] = img[i]! + s! * rng.normal();
    },
  },
  texture: {
    params: [
      { name: 'amplitude', lo: 0, hi: 1, dflt: 0.4 },
      { name: 'period', lo: 1, hi: 4096 },
    ],
    apply(img, w, h, [a, period], rng) {
      const p = period ?? Math.max(2, w / 8);
      const f = gaussianField(w, h, rng, p / 2);
      // Map the smooth field to [0, 1] clutter with a soft threshold, so it looks like blobs and stripes of tissue.
      for (let i = 0; i < img.length; i++) img[i] = img[i]! + a! * (1 / (1 + Math.exp(-2.5 * f[i]!)));
    },
  },
};

export const SHIFT_NAMES = Object.keys(SHIFTS);

/** Parses "speckle:0.5,blur:1.5" into steps with defaults filled in; a bad step is a UsageError naming the option. */
export function parseShifts(text: string, option = '--shift'): ShiftStep[] {
  const steps: ShiftStep[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const [name, ...args] = part.split(':');
    const def = SHIFTS[name!];
    if (!def) throw new UsageError(`${option}: unknown shift "${name}" (expected ${SHIFT_NAMES.join(', ')}, e.g. speckle:0.5,blur:1.5)`);
    if (args.length > def.params.length)
      throw new UsageError(
        `${option}: "${part}" takes ${def.params.length ? `at most ${def.params.length} value(s): ${def.params.map((p) => p.name).join(', ')}` : 'no value'}`,
      );
    const params: number[] = [];
    for (const [i, p] of def.params.entries()) {
      const a = args[i];
      if (a === undefined || a === '') {
        if (p.dflt !== undefined) params.push(p.dflt);
        continue;
      }
      const v = Number(a);
      if (!Number.isFinite(v) || v < p.lo || v > p.hi) throw new UsageError(`${option}: "${part}": ${p.name} must be a number from ${p.lo} to ${p.hi}`);
      params.push(v);
    }
    if (name !== 'none') steps.push({ name: name!, params });
  }
  return steps;
}

/** The canonical text of steps (what classes.json records). */
export function formatShifts(steps: ShiftStep[]): string[] {
  return steps.map((s) => (s.params.length ? `${s.name}:${s.params.join(':')}` : s.name));
}

/** Applies the steps in order to a [0,1] picture in place, clamping after each step. */
export function applyShifts(img: Float32Array, w: number, h: number, steps: ShiftStep[], rng: Rng): void {
  for (const s of steps) {
    SHIFTS[s.name]!.apply(img, w, h, s.params, rng);
    clamp01(img);
  }
}
