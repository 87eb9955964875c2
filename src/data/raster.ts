// A decoded picture: 8-bit samples, row-major, channels interleaved (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA).
// Masks that need more than 8 bits (16-bit PNGs of class ids) use a Uint16Array.

export interface Raster {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint16Array;
}

/** Grey, RGB or any PNG layout to exactly `channels` (1 or 3): grey is copied into R, G and B; colour
 * becomes grey by ITU-R BT.601 luma; alpha is dropped (images with transparency are taken as drawn on black,
 * which is what dropping premultiplied-free alpha on a black page means for the stored colour values). */
export function toChannels(src: Raster, channels: 1 | 3): Raster {
  if (src.channels === channels) return src;
  const n = src.width * src.height;
  const out = new Uint8Array(n * channels);
  const s = src.data;
  const c = src.channels;
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      if (c <= 2) {
        const g = s[i * c]!;
        out[i * 3] = g;
        out[i * 3 + 1] = g;
        out[i * 3 + 2] = g;
      } else {
        out[i * 3] = s[i * c]!;
        out[i * 3 + 1] = s[i * c + 1]!;
        out[i * 3 + 2] = s[i * c + 2]!;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = c <= 2 ? s[i * c]! : Math.round(0.299 * s[i * c]! + 0.587 * s[i * c + 1]! + 0.114 * s[i * c + 2]!);
    }
  }
  return { width: src.width, height: src.height, channels, data: out };
}
