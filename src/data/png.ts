// PNG: read the header without decoding (to check sizes and pixel limits first), decode with pngjs after
// those checks, encode grey / RGB / RGBA rasters. pngjs is pure JavaScript, so a hostile file can at worst
// throw: we bound what it may allocate before it runs.
import { inflateSync } from 'node:zlib';

import pngjs from 'pngjs';

import { UserError } from '../util/errors.js';
import type { Raster } from './raster.js';

const { PNG } = pngjs;

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngHeader {
  format: 'png';
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
  /** Channels of the decoded picture before any conversion: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette: 3 or 4). */
  channels: 1 | 2 | 3 | 4;
}

const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.equals(Buffer.from(bytes.buffer, bytes.byteOffset, 8));
}

/** The IHDR fields, validated; throws UserError naming `file` if the header is not a PNG header. */
export function readPngHeader(bytes: Uint8Array, file: string): PngHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isPng(b)) throw new UserError(`${file}: not a PNG file (bad signature)`);
  if (b.length < 33 || b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw new UserError(`${file}: not a valid PNG (missing or truncated IHDR header)`);
  }
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const bitDepth = b[24]!;
  const colorType = b[25]!;
  const interlace = b[28]!;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new UserError(`${file}: not a valid PNG (size ${width}x${height})`);
  }
  if (!VALID_DEPTHS[colorType]?.includes(bitDepth) || b[26] !== 0 || b[27] !== 0 || interlace > 1) {
    throw new UserError(`${file}: not a valid PNG (colour type ${colorType}, bit depth ${bitDepth})`);
  }
  const channels = colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 6 ? 4 : 3;
  return { format: 'png', width, height, bitDepth, colorType, interlaced: interlace === 1, channels };
}

/** Bytes of filtered scanlines an image of this header inflates to (an upper bound for interlaced ones). */
function inflatedSizeBound(h: PngHeader): number {
  const samples = h.colorType === 0 || h.colorType === 3 ? 1 : h.colorType === 4 ? 2 : h.colorType === 2 ? 3 : 4;
  const rowBytes = Math.ceil((h.width * samples * h.bitDepth) / 8) + 1;
  // Adam7 has up to 7 passes, each row with a filter byte and rounding up: generous but finite.
  return h.interlaced ? rowBytes * h.height + 8 * (h.height + 8) + 64 : rowBytes * h.height;
}

/** The concatenated IDAT payload, walking chunks with bounds checks. */
function idatPayload(b: Buffer, file: string): Buffer {
  const parts: Buffer[] = [];
  let off = 8;
  while (off + 12 <= b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (off + 12 + len > b.length) throw new UserError(`${file}: not a valid PNG (chunk ${JSON.stringify(type)} runs past the end of the file)`);
    if (type === 'IDAT') parts.push(b.subarray(off + 8, off + 8 + len));
    if (type === 'IEND') break;
    off += 12 + len;
  }
  return Buffer.concat(parts);
}

export interface PngDecodeOptions {
  /** Keep 16-bit samples as they are (for masks of class ids); otherwise they are scaled to 8 bits. */
  keep16?: boolean;
}

/** Decodes a PNG whose header was already checked; any failure becomes a UserError naming `file`. */
export function decodePng(bytes: Uint8Array, file: string, header: PngHeader, opts: PngDecodeOptions = {}): Raster {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.interlaced) {
    // pngjs inflates interlaced images without an output limit: check the payload's size ourselves first.
    try {
      inflateSync(idatPayload(b, file), { maxOutputLength: inflatedSizeBound(header) });
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${file}: not a valid PNG (${(e as Error).message})`);
    }
  }
  const keep16 = opts.keep16 === true && header.bitDepth === 16;
  let png: { width: number; height: number; data: Buffer | Uint16Array };
  try {
    png = PNG.sync.read(b, { skipRescale: keep16 }) as unknown as typeof png;
  } catch (e) {
    throw new UserError(`${file}: not a valid PNG (${(e as Error).message})`);
  }
  if (png.width !== header.width || png.height !== header.height) {
    throw new UserError(`${file}: not a valid PNG (decoded size differs from header)`);
  }
  // pngjs always returns RGBA: keep only the channels the file has.
  const n = header.width * header.height;
  const c = header.channels;
  const out = keep16 ? new Uint16Array(n * c) : new Uint8Array(n * c);
  const src = png.data;
  if (src.length < n * 4) throw new UserError(`${file}: not a valid PNG (image data too short)`);
  for (let i = 0; i < n; i++) {
    if (c === 1) out[i] = src[i * 4]!;
    else if (c === 2) {
      out[i * 2] = src[i * 4]!;
      out[i * 2 + 1] = src[i * 4 + 3]!;
    } else {
      out[i * c] = src[i * 4]!;
      out[i * c + 1] = src[i * 4 + 1]!;
      out[i * c + 2] = src[i * 4 + 2]!;
      if (c === 4) out[i * 4 + 3] = src[i * 4 + 3]!;
    }
  }
  return { width: header.width, height: header.height, channels: c, data: out };
}

/** Encodes an 8-bit grey, RGB or RGBA raster (deterministic: same pixels, same bytes). `fast` uses one
 * filter for every row instead of trying all five (about 4x faster, files a little larger). */
export function encodePng(r: Raster, opts: { fast?: boolean } = {}): Buffer {
  if (!(r.data instanceof Uint8Array)) throw new Error('encodePng takes 8-bit rasters');
  if (r.channels === 2) throw new Error('encodePng takes 1, 3 or 4 channels');
  const colorType = r.channels === 1 ? 0 : r.channels === 3 ? 2 : 6;
  return PNG.sync.write(
    { width: r.width, height: r.height, data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength) } as never,
    { colorType, inputColorType: colorType, inputHasAlpha: r.channels === 4, bitDepth: 8, ...(opts.fast ? { filterType: 1 } : {}) } as never,
  );
}
