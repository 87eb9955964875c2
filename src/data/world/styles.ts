// Looks: `day`, `night`, `fog`, `toon` and `retro` are input-level shifts of the same scenes. Each picks
// how the scene is lit (shade.ts) and then post-processes the picture: fog hazes by distance, toon draws
// outlines where surfaces meet, retro drops to a low resolution and a 16-colour palette and scales back
// up by nearest neighbour. They read the G-buffer but never write it: the mask is the same in every look.
import { Rng } from '../random.js';
import { NOTHING, type GBuffer } from './rasterise.js';
import type { Lighting } from './shade.js';

export const STYLES = ['day', 'night', 'fog', 'toon', 'retro'] as const;
export type WorldStyle = (typeof STYLES)[number];

export interface LookParams {
  lighting: Lighting;
  fogDensity: number;
  fogColour: [number, number, number];
}

/** The look's parameters for one frame, drawn from the frame's style stream (never the layout's). */
export function lookParams(style: WorldStyle, rng: Rng): LookParams {
  const sun = rng.uniform(0.45, 0.7);
  const ambient = rng.uniform(0.45, 0.6);
  const grey = rng.uniform(0.68, 0.8);
  return {
    lighting: { night: style === 'night', flat: style === 'toon', sun: style === 'fog' ? sun * 0.3 : sun, ambient: style === 'fog' ? ambient + 0.2 : ambient },
    fogDensity: style === 'fog' ? rng.uniform(0.03, 0.07) : 0,
    fogColour: [grey, grey + 0.01, grey + 0.03],
  };
}

/** Haze by distance: colour * e^(-density * distance) + fog * (1 - that); the sky is all fog. */
export function applyFog(img: Float32Array, g: GBuffer, density: number, fog: [number, number, number]): void {
  const n = g.prim.length;
  for (let i = 0; i < n; i++) {
    const keep = g.prim[i] === NOTHING ? 0 : Math.exp(-density * g.depth[i]! * g.camera.rayLength[i]!);
    for (let c = 0; c < 3; c++) img[i * 3 + c] = img[i * 3 + c]! * keep + fog[c]! * (1 - keep);
  }
}

/** Dark outlines on pixels whose right or lower neighbour shows another surface or class. */
export function applyOutlines(img: Float32Array, g: GBuffer): void {
  const { width: W, height: H } = g.camera;
  const edge = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const differs = (j: number): boolean => g.prim[j] !== g.prim[i] || g.mask[j] !== g.mask[i];
      if ((x + 1 < W && differs(i + 1)) || (y + 1 < H && differs(i + W))) edge[i] = 1;
    }
  }
  for (let i = 0; i < W * H; i++) {
    if (!edge[i]) continue;
    img[i * 3] = img[i * 3]! * 0.15;
    img[i * 3 + 1] = img[i * 3 + 1]! * 0.15;
    img[i * 3 + 2] = img[i * 3 + 2]! * 0.18;
  }
}

/** A 16-colour palette in the spirit of 8-bit home computers: greys, and three or fewer shades
 * each of sky blue, foliage green and brick brown, red, yellow, orange and a fifth, darker grey. */
const PALETTE: [number, number, number][] = [
  [20, 20, 24],
  [80, 80, 84],
  [140, 140, 140],
  [205, 205, 200],
  [40, 60, 130],
  [100, 160, 230],
  [170, 210, 245],
  [30, 70, 30],
  [80, 130, 40],
  [150, 180, 80],
  [110, 70, 40],
  [180, 130, 80],
  [180, 40, 40],
  [235, 200, 60],
  [230, 130, 40],
  [48, 48, 52],
];

/** Low resolution (block x block pixels averaged), the palette's nearest colour, nearest up-scaling. */
export function applyRetro(rgb: Uint8Array, height: number, width: number, block: number): void {
  for (let by = 0; by < height; by += block) {
    for (let bx = 0; bx < width; bx += block) {
      const y1 = Math.min(height, by + block);
      const x1 = Math.min(width, bx + block);
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const o = (y * width + x) * 3;
          r += rgb[o]!;
          g += rgb[o + 1]!;
          b += rgb[o + 2]!;
        }
      }
      const k = (y1 - by) * (x1 - bx);
      r /= k;
      g /= k;
      b /= k;
      let best = 0;
      let bestD = Infinity;
      for (let p = 0; p < PALETTE.length; p++) {
        const [pr, pg, pb] = PALETTE[p]!;
        // Weighted RGB distance (green counts most, as the eye does).
        const d = 3 * (r - pr) ** 2 + 4 * (g - pg) ** 2 + 2 * (b - pb) ** 2;
        if (d < bestD) {
          bestD = d;
          best = p;
        }
      }
      const [pr, pg, pb] = PALETTE[best]!;
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const o = (y * width + x) * 3;
          rgb[o] = pr;
          rgb[o + 1] = pg;
          rgb[o + 2] = pb;
        }
      }
    }
  }
}

/** Float colours (0..1) to 8-bit RGB; values above 1 (glare) are rolled off rather than cut. */
export function toBytes(img: Float32Array): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) {
    let v = img[i]!;
    if (v > 0.85) v = 0.85 + 0.15 * (1 - Math.exp(-(v - 0.85) / 0.15));
    out[i] = v <= 0 ? 0 : Math.min(255, Math.round(v * 255));
  }
  return out;
}
