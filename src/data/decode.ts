// Reading picture files safely: the file must be a regular file of bounded size, its format is found from
// its first bytes (not its name), its header is checked against the pixel limit before any pixel is
// decoded, and every failure is a UserError that names the file.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

import { UserError } from '../util/errors.js';
import { decodeJpeg, isJpeg, readJpegHeader, type JpegHeader } from './jpeg.js';
import { decodePng, isPng, readPngHeader, type PngHeader } from './png.js';
import type { Raster } from './raster.js';

/** The default limit on pixels per picture (width x height): 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export type ImageHeader = PngHeader | JpegHeader;

export interface DecodeOptions {
  /** Largest width x height accepted (default 100 MP). */
  maxPixels?: number;
  /** For masks: keep 16-bit PNG samples (class ids above 255). */
  keep16?: boolean;
}

/** Compressed files larger than this for their pixel count are not pictures we want to parse. */
function maxFileBytes(maxPixels: number): number {
  return Math.max(64 * 2 ** 20, maxPixels * 8 + 2 ** 20);
}

export function headerOf(bytes: Uint8Array, file: string): ImageHeader {
  if (isPng(bytes)) return readPngHeader(bytes, file);
  if (isJpeg(bytes)) return readJpegHeader(bytes, file);
  if (bytes.length === 0) throw new UserError(`${file}: empty file, expected a PNG or JPEG picture`);
  throw new UserError(`${file}: not a PNG or JPEG picture (unrecognised first bytes)`);
}

/** "1,200 pixels" or "400.0 megapixels". */
export function formatPixels(n: number): string {
  return n >= 100_000 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n.toLocaleString('en-US')} pixels`;
}

export function checkPixelLimit(h: ImageHeader, file: string, maxPixels = DEFAULT_MAX_PIXELS): void {
  const n = h.width * h.height;
  if (n > maxPixels) {
    throw new UserError(
      `${file}: ${h.width}x${h.height} (${formatPixels(n)}) is over the limit of ${formatPixels(maxPixels)} (raise it with options.maxPixels)`,
    );
  }
}

/** Decodes bytes already in memory (header check, pixel limit, decode). */
export function decodeImageBytes(bytes: Uint8Array, file: string, opts: DecodeOptions = {}): Raster {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = headerOf(bytes, file);
  checkPixelLimit(header, file, maxPixels);
  return header.format === 'png' ? decodePng(bytes, file, header, { keep16: opts.keep16 }) : decodeJpeg(bytes, file, header, { maxPixels });
}

function checkStat(st: { isFile(): boolean; size: number }, file: string, maxPixels: number): void {
  if (!st.isFile()) throw new UserError(`${file}: not a regular file`);
  if (st.size > maxFileBytes(maxPixels)) throw new UserError(`${file}: ${st.size} bytes is too large for a picture under the pixel limit`);
}

/** Reads and decodes a picture file (async read; the decode itself is synchronous). */
export async function readImageFile(file: string, opts: DecodeOptions = {}): Promise<Raster> {
  return (await readPicture(file, opts)).raster;
}

/** Reads and decodes a picture file, returning its header too (format, original channels). */
export async function readPicture(file: string, opts: DecodeOptions = {}): Promise<{ raster: Raster; header: ImageHeader }> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Buffer;
  try {
    checkStat(await stat(file), file, maxPixels);
    bytes = await readFile(file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const header = headerOf(bytes, file);
  checkPixelLimit(header, file, maxPixels);
  const raster = header.format === 'png' ? decodePng(bytes, file, header, { keep16: opts.keep16 }) : decodeJpeg(bytes, file, header, { maxPixels });
  return { raster, header };
}

/** Reads only as much of the file as the header needs (PNG: 33 bytes; JPEG: up to the frame header). */
export function readImageHeaderSync(file: string, maxPixels = DEFAULT_MAX_PIXELS): ImageHeader {
  let fd: number | null = null;
  try {
    const st = statSync(file);
    checkStat(st, file, maxPixels);
    fd = openSync(file, 'r');
    // JPEG frame headers can sit after large EXIF blocks: read growing prefixes until one is found.
    for (let size = 4096; ; size *= 8) {
      const want = Math.min(size, st.size);
      const buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, got);
        if (n === 0) break;
        got += n;
      }
      const bytes = buf.subarray(0, got);
      try {
        return headerOf(bytes, file);
      } catch (e) {
        if (got >= st.size || !isJpeg(bytes)) throw e;
      }
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
