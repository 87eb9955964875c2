// Procedural textures: seeded value noise and the materials built on it (asphalt, bricks, facades with
// windows, paving, grass, foliage, bark, car paint, glass, wood, fabric, books, signs, lamps). A material
// is plain data; `shadeMaterial` gives its colour at surface coordinates (u, v) in metres, and how much it
// glows at night. Everything is a pure function of the material's fields and (u, v): no state, no
// randomness at render time, so the same scene always gives the same pixels.
import type { Vec3 } from './scene.js';

export type MaterialKind =
  | 'plain'
  | 'plaster'
  | 'brick'
  | 'facade'
  | 'asphalt'
  | 'paint'
  | 'paving'
  | 'grass'
  | 'dirt'
  | 'foliage'
  | 'bark'
  | 'metal'
  | 'glass'
  | 'rubber'
  | 'wood'
  | 'planks'
  | 'tiles'
  | 'fabric'
  | 'books'
  | 'sign'
  | 'lamp'
  | 'trafficlight'
  | 'window'
  | 'picture';

export interface Material {
  kind: MaterialKind;
  /** Base colour, 0..1 per channel. */
  color: Vec3;
  /** A second colour (mortar, window frames, stripes, sign symbol). */
  color2?: Vec3;
  seed: number;
  /** Facades: window cell (width, height) in metres and the window's share of it. */
  cell?: [number, number];
  window?: [number, number];
  /** Facades: the share of windows lit at night. */
  lit?: number;
  /** Signs and traffic lights: the face's size in metres, to place their symbols. */
  size?: [number, number];
  /** Signs: which face; traffic lights: which lamp (0 red, 1 amber, 2 green) is on. */
  variant?: number;
}

/** A 32-bit integer hash of two integers and a seed, as a number in [0, 1). */
export function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1). */
export function valueNoise(x: number, y: number, seed: number): number {
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(xi, yi, seed);
  const b = hash2(xi + 1, yi, seed);
  const c = hash2(xi, yi + 1, seed);
  const d = hash2(xi + 1, yi + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** Two octaves of value noise, in [0, 1). */
export function fbm(x: number, y: number, seed: number): number {
  return 0.65 * valueNoise(x, y, seed) + 0.35 * valueNoise(x * 2.7 + 11.3, y * 2.7 + 5.1, seed + 1);
}

const frac = (x: number): number => x - Math.floor(x);

/** What shading a material at one point gives: colour (0..1) and night glow (0 none .. 1 full). */
export interface MaterialSample {
  r: number;
  g: number;
  b: number;
  glow: number;
}

function set(out: MaterialSample, c: Vec3, k: number, glow = 0): void {
  out.r = c[0] * k;
  out.g = c[1] * k;
  out.b = c[2] * k;
  out.glow = glow;
}

function mix(out: MaterialSample, a: Vec3, b: Vec3, t: number, k = 1): void {
  out.r = (a[0] + (b[0] - a[0]) * t) * k;
  out.g = (a[1] + (b[1] - a[1]) * t) * k;
  out.b = (a[2] + (b[2] - a[2]) * t) * k;
  out.glow = 0;
}

const WHITE: Vec3 = [0.92, 0.92, 0.9];
const RED: Vec3 = [0.8, 0.08, 0.08];
const BLUE: Vec3 = [0.1, 0.3, 0.75];
const DARK: Vec3 = [0.06, 0.06, 0.07];
const WARM: Vec3 = [1, 0.85, 0.55];

/**
 * The colour of material `m` at (u, v) metres on its surface. `flat` drops fine texture (noise, bricks,
 * grain) and keeps only the large patterns a cartoon would draw (windows, signs, lamps).
 */
export function shadeMaterial(m: Material, u: number, v: number, flat: boolean, out: MaterialSample): void {
  const s = m.seed;
  const c2 = m.color2 ?? WHITE;
  switch (m.kind) {
    case 'plain':
      return set(out, m.color, flat ? 1 : 0.94 + 0.12 * valueNoise(u * 3, v * 3, s));
    case 'plaster':
      return set(out, m.color, flat ? 1 : 0.86 + 0.24 * fbm(u * 1.5, v * 1.5, s));
    case 'brick': {
      if (flat) return set(out, m.color, 1);
      const row = Math.floor(v / 0.3);
      const bu = u / 0.6 + (row & 1) * 0.5;
      const mortar = frac(v / 0.3) < 0.14 || frac(bu) < 0.07;
      if (mortar) return set(out, c2, 0.9);
      return set(out, m.color, 0.8 + 0.3 * hash2(Math.floor(bu), row, s) + 0.1 * valueNoise(u * 6, v * 6, s));
    }
    case 'facade': {
      const [cw, ch] = m.cell ?? [3, 3.2];
      const [ww, wh] = m.window ?? [0.5, 0.5];
      const cx = Math.floor(u / cw);
      const cy = Math.floor(v / ch);
      const fx = frac(u / cw);
      const fy = frac(v / ch);
      // Ground floor: shop windows and doors, wider and lower.
      const ground = cy === 0;
      const inX = ground ? fx > 0.08 && fx < 0.92 : Math.abs(fx - 0.5) < ww / 2;
      const inY = ground ? fy > 0.12 && fy < 0.8 : Math.abs(fy - 0.55) < wh / 2;
      if (inX && inY) {
        const lit = hash2(cx, cy, s + 7) < (m.lit ?? 0.3);
        const sky = flat ? 0.5 : 0.35 + 0.4 * fy + 0.15 * hash2(cx, cy, s + 3);
        out.r = 0.18 * sky + 0.1;
        out.g = 0.24 * sky + 0.12;
        out.b = 0.34 * sky + 0.16;
        out.glow = lit ? 0.75 + 0.25 * hash2(cx, cy, s + 9) : 0;
        return;
      }
      const frame = (inX && Math.abs(fy - 0.55) < wh / 2 + 0.06 && !ground) || (inY && Math.abs(fx - 0.5) < ww / 2 + 0.05 && !ground);
      if (frame) return set(out, c2, 0.95);
      if (flat) return set(out, m.color, 1);
      // The wall between windows: brick-like when color2 is dark, plaster otherwise.
      return set(out, m.color, 0.84 + 0.2 * fbm(u * 1.2, v * 1.2, s) + 0.06 * hash2(Math.floor(u / 0.5), Math.floor(v / 0.25), s));
    }
    case 'asphalt': {
      if (flat) return set(out, m.color, 1);
      const k = 0.8 + 0.22 * fbm(u * 0.25, v * 0.25, s) + 0.14 * hash2(Math.floor(u * 9), Math.floor(v * 9), s);
      return set(out, m.color, k);
    }
    case 'paint':
      return set(out, m.color, flat ? 1 : 0.85 + 0.15 * valueNoise(u * 4, v * 4, s));
    case 'paving': {
      if (flat) return set(out, m.color, 1);
      const seam = frac(u / 0.8) < 0.06 || frac(v / 0.8) < 0.06;
      return set(out, seam ? c2 : m.color, 0.88 + 0.12 * hash2(Math.floor(u / 0.8), Math.floor(v / 0.8), s));
    }
    case 'grass':
      return flat ? set(out, m.color, 1) : mix(out, m.color, c2, fbm(u * 0.5, v * 0.5, s), 0.8 + 0.3 * hash2(Math.floor(u * 8), Math.floor(v * 8), s));
    case 'dirt':
      return set(out, m.color, flat ? 1 : 0.75 + 0.35 * fbm(u * 0.7, v * 0.7, s));
    case 'foliage': {
      if (flat) return set(out, m.color, 1);
      const n = fbm(u * 2.2, v * 2.2, s);
      return mix(out, m.color, c2, n, 0.65 + 0.55 * valueNoise(u * 5, v * 5, s + 2));
    }
    case 'bark':
      return set(out, m.color, flat ? 1 : 0.75 + 0.3 * valueNoise(u * 12, v * 1.5, s));
    case 'metal':
      // Car paint: a little darker towards the bottom, a soft highlight band.
      return set(out, m.color, flat ? 1 : 0.8 + 0.25 * Math.min(1, v) + 0.08 * valueNoise(u * 2, v * 2, s));
    case 'glass':
      return set(out, m.color, flat ? 1 : 0.7 + 0.5 * frac(0.3 * u + 0.6 * v + 0.2 * valueNoise(u, v, s)));
    case 'rubber':
      return set(out, m.color, 1);
    case 'wood':
      return set(out, m.color, flat ? 1 : 0.82 + 0.18 * Math.sin(u * 40 + 6 * valueNoise(u * 2, v * 8, s)) * 0.5 + 0.09);
    case 'planks': {
      if (flat) return set(out, m.color, 1);
      const plank = Math.floor(u / 0.2);
      const seam = frac(u / 0.2) < 0.06;
      const k = seam ? 0.6 : 0.8 + 0.3 * hash2(plank, Math.floor(v / 1.5 + hash2(plank, 0, s)), s) + 0.08 * valueNoise(u * 20, v * 2, s);
      return set(out, m.color, k);
    }
    case 'tiles': {
      if (flat) return set(out, m.color, 1);
      const seam = frac(u / 0.5) < 0.05 || frac(v / 0.5) < 0.05;
      const checker = (Math.floor(u / 0.5) + Math.floor(v / 0.5)) & 1;
      return seam ? set(out, c2, 1) : set(out, checker ? m.color : c2, 0.92 + 0.08 * valueNoise(u * 6, v * 6, s));
    }
    case 'fabric':
      return set(out, m.color, flat ? 1 : 0.85 + 0.15 * valueNoise(u * 8, v * 8, s) + 0.05 * Math.sin(u * 60));
    case 'books': {
      // Rows of book spines on shelf boards every 0.4 m.
      const row = Math.floor(v / 0.4);
      const fy = frac(v / 0.4);
      if (fy < 0.1) return set(out, m.color, 0.9);
      const book = Math.floor(u / 0.06 + hash2(row, 0, s) * 7);
      const gap = hash2(book, row, s + 5) < 0.15 || fy > 0.1 + 0.8 * (0.7 + 0.3 * hash2(book, row, s + 6));
      if (gap) return set(out, DARK, 1.5);
      const h = hash2(book, row, s + 1);
      out.r = 0.2 + 0.6 * h;
      out.g = 0.15 + 0.5 * hash2(book, row, s + 2);
      out.b = 0.15 + 0.5 * hash2(book, row, s + 3);
      out.glow = 0;
      return;
    }
    case 'sign': {
      const [w, h] = m.size ?? [0.7, 0.7];
      const x = u / w - 0.5;
      const y = v / h - 0.5;
      const r = Math.sqrt(x * x + y * y);
      switch (m.variant ?? 0) {
        case 0: // speed limit: red ring, white disc, a dark number block
          if (r > 0.38) return set(out, RED, 1);
          return set(out, Math.abs(x) < 0.16 && Math.abs(y) < 0.12 ? DARK : WHITE, 1);
        case 1: // no entry: red disc, white bar
          return set(out, Math.abs(y) < 0.08 && Math.abs(x) < 0.32 ? WHITE : RED, 1);
        case 2: // information: blue panel, white symbol
          return set(out, Math.abs(x) < 0.12 && y > -0.3 && y < 0.25 ? WHITE : BLUE, 1);
        default: // warning triangle (drawn on a triangle quad): red edge, white inside
          return set(out, v / h < 0.12 || Math.abs(x) > 0.42 - 0.5 * (v / h) ? RED : WHITE, 1);
      }
    }
    case 'lamp':
      return set(out, m.color, 1, 1);
    case 'trafficlight': {
      const [w, h] = m.size ?? [0.35, 0.9];
      const x = u / w - 0.5;
      const y = v / h;
      // Three lamps from the top: red, amber, green.
      for (let k = 0; k < 3; k++) {
        const cy = 0.8 - 0.3 * k;
        const dx = x;
        const dy = (y - cy) * (h / w);
        if (dx * dx + dy * dy < 0.11) {
          const on = (m.variant ?? 0) === k;
          const col: Vec3 = k === 0 ? [1, 0.1, 0.05] : k === 1 ? [1, 0.7, 0.05] : [0.1, 1, 0.35];
          return set(out, col, on ? 1 : 0.22, on ? 1 : 0);
        }
      }
      return set(out, m.color, 1);
    }
    case 'window': {
      // A window pane: sky seen through it, with a frame and a cross bar.
      const [w, h] = m.size ?? [1.2, 1.3];
      const x = u / w;
      const y = v / h;
      if (x < 0.06 || x > 0.94 || y < 0.06 || y > 0.94 || Math.abs(x - 0.5) < 0.03) return set(out, c2, 1);
      return set(out, m.color, flat ? 1 : 0.85 + 0.25 * y, 0.6);
    }
    case 'picture': {
      const [w, h] = m.size ?? [0.8, 0.6];
      const x = u / w;
      const y = v / h;
      if (x < 0.07 || x > 0.93 || y < 0.07 || y > 0.93) return set(out, c2, 1);
      // A landscape: sky above a wavy horizon, land below.
      const horizon = 0.45 + 0.12 * Math.sin(x * 7 + s);
      return y > horizon ? set(out, [0.45, 0.65, 0.9], 1) : set(out, m.color, flat ? 1 : 0.7 + 0.4 * valueNoise(x * 6, y * 6, s));
    }
  }
}

export { WARM };
