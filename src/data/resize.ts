// Resizing to the model's input: bilinear for pictures (half-pixel centres, as tf.image.resizeBilinear with
// halfPixelCenters), nearest for masks (class ids must never be blended). Both take an optional source box
// so a random crop and the resize are one pass.

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PixelGrid<T extends ArrayLike<number>> {
  width: number;
  height: number;
  channels: number;
  data: T;
}

/** Bilinear resample of `src` (any channel count) from `box` (default: all of it) to outW x outH floats. */
export function resizeBilinear(src: PixelGrid<ArrayLike<number>>, outW: number, outH: number, box?: Box): Float32Array {
  const b = box ?? { x: 0, y: 0, width: src.width, height: src.height };
  const c = src.channels;
  const out = new Float32Array(outW * outH * c);
  const sx = b.width / outW;
  const sy = b.height / outH;
  const s = src.data;
  // Precompute the horizontal taps once per column.
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.min(Math.max(b.x + (x + 0.5) * sx - 0.5, 0), src.width - 1);
    const x0 = Math.floor(fx);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, src.width - 1);
    fxs[x] = fx - x0;
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max(b.y + (y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    const r0 = y0 * src.width;
    const r1 = y1 * src.width;
    for (let x = 0; x < outW; x++) {
      const wx = fxs[x]!;
      const a = (r0 + x0s[x]!) * c;
      const bb = (r0 + x1s[x]!) * c;
      const cc = (r1 + x0s[x]!) * c;
      const d = (r1 + x1s[x]!) * c;
      const o = (y * outW + x) * c;
      for (let k = 0; k < c; k++) {
        const top = s[a + k]! + (s[bb + k]! - s[a + k]!) * wx;
        const bottom = s[cc + k]! + (s[d + k]! - s[cc + k]!) * wx;
        out[o + k] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

/** Nearest-neighbour resample of a one-channel grid (class ids) from `box` to outW x outH. */
export function resizeNearest(src: PixelGrid<ArrayLike<number>>, outW: number, outH: number, box?: Box): Int32Array {
  const b = box ?? { x: 0, y: 0, width: src.width, height: src.height };
  const out = new Int32Array(outW * outH);
  const sx = b.width / outW;
  const sy = b.height / outH;
  const cols = new Int32Array(outW);
  for (let x = 0; x < outW; x++) cols[x] = Math.min(Math.max(Math.floor(b.x + (x + 0.5) * sx), 0), src.width - 1);
  for (let y = 0; y < outH; y++) {
    const sy0 = Math.min(Math.max(Math.floor(b.y + (y + 0.5) * sy), 0), src.height - 1);
    const row = sy0 * src.width;
    for (let x = 0; x < outW; x++) out[y * outW + x] = src.data[(row + cols[x]!) * src.channels]!;
  }
  return out;
}

/** Bilinear resize to 8-bit values (for pictures that are written back out). */
export function resizeToBytes(src: PixelGrid<ArrayLike<number>>, outW: number, outH: number): Uint8Array {
  const f = resizeBilinear(src, outW, outH);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(f[i]!)));
  return out;
}
