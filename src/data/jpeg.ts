// JPEG: read the frame header (SOFn) by walking the marker segments with bounds checks, so sizes and pixel
// limits are known before anything is decoded; decode with jpeg-js (pure JavaScript, strict mode so a
// truncated file is an error rather than a half-grey picture); encode for fixtures and contact sheets.
import jpeg from 'jpeg-js';

import { UserError } from '../util/errors.js';
import type { Raster } from './raster.js';

export interface JpegHeader {
  format: 'jpeg';
  width: number;
  height: number;
  /** 1 grey, 3 colour (YCbCr or RGB), 4 CMYK/YCCK. */
  components: number;
  channels: 1 | 3;
  progressive: boolean;
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** The frame header; throws UserError naming `file` when there is none before the image data. */
export function readJpegHeader(bytes: Uint8Array, file: string): JpegHeader {
  if (!isJpeg(bytes)) throw new UserError(`${file}: not a JPEG file (bad signature)`);
  let off = 2;
  while (off + 4 <= bytes.length) {
    if (bytes[off] !== 0xff) throw new UserError(`${file}: not a valid JPEG (expected a marker at byte ${off})`);
    const marker = bytes[off + 1]!;
    if (marker === 0xff) {
      off += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      off += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image or start of scan before any frame header
    const len = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if (len < 2 || off + 2 + len > bytes.length) throw new UserError(`${file}: not a valid JPEG (segment at byte ${off} runs past the end of the file)`);
    if (SOF_MARKERS.has(marker)) {
      if (len < 8) throw new UserError(`${file}: not a valid JPEG (short frame header)`);
      const height = (bytes[off + 5]! << 8) | bytes[off + 6]!;
      const width = (bytes[off + 7]! << 8) | bytes[off + 8]!;
      const components = bytes[off + 9]!;
      if (width === 0 || height === 0) throw new UserError(`${file}: not a valid JPEG (size ${width}x${height})`);
      if (![1, 3, 4].includes(components)) throw new UserError(`${file}: not a valid JPEG (${components} colour components)`);
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) {
        throw new UserError(`${file}: unsupported JPEG (lossless or arithmetic-coded frames cannot be decoded; save it as baseline JPEG or PNG)`);
      }
      return { format: 'jpeg', width, height, components, channels: components === 1 ? 1 : 3, progressive: marker === 0xc2 };
    }
    off += 2 + len;
  }
  throw new UserError(`${file}: not a valid JPEG (no frame header found)`);
}

export interface JpegDecodeOptions {
  maxPixels: number;
}

export function decodeJpeg(bytes: Uint8Array, file: string, header: JpegHeader, opts: JpegDecodeOptions): Raster {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: opts.maxPixels / 1e6,
      // A decoded frame plus jpeg-js's per-component buffers: a few bytes per pixel, with room to spare.
      maxMemoryUsageInMB: Math.max(64, Math.ceil((header.width * header.height * 12) / 2 ** 20)),
    }) as typeof img;
  } catch (e) {
    throw new UserError(`${file}: not a valid JPEG (${(e as Error).message})`);
  }
  if (img.width !== header.width || img.height !== header.height) {
    throw new UserError(`${file}: not a valid JPEG (decoded size differs from header)`);
  }
  const n = img.width * img.height;
  const got = img.data.length / n;
  if (got !== 3 && got !== 4 && got !== 1) throw new UserError(`${file}: not a valid JPEG (unexpected decoded layout)`);
  if (header.channels === 1) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = img.data[i * got]!;
    return { width: img.width, height: img.height, channels: 1, data: out };
  }
  if (got === 3) return { width: img.width, height: img.height, channels: 3, data: img.data };
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = img.data[i * got]!;
    out[i * 3 + 1] = img.data[i * got + 1]!;
    out[i * 3 + 2] = img.data[i * got + 2]!;
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** Encodes an 8-bit raster as a baseline JPEG (quality 1..100). */
export function encodeJpeg(r: Raster, quality = 90): Buffer {
  const n = r.width * r.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const c = r.channels;
    const g = r.data[i * c]!;
    rgba[i * 4] = g;
    rgba[i * 4 + 1] = c >= 3 ? r.data[i * c + 1]! : g;
    rgba[i * 4 + 2] = c >= 3 ? r.data[i * c + 2]! : g;
    rgba[i * 4 + 3] = 255;
  }
  return jpeg.encode({ width: r.width, height: r.height, data: rgba }, quality).data;
}
