// The folder data set (DESIGN.md, Files): `images/` and `masks/` paired by file stem, optional
// `classes.json`, and optionally `train/` and `val/` sub-folders each holding `images/` and `masks/`.
//
// Opening a folder lists and pairs the files and reads every file's header (a few bytes each), so that a
// missing or extra mask, a file that is not a picture, a picture over the pixel limit and a mask whose
// size differs from its image are found before training starts. Problems found while decoding later
// (corrupt pixel data, class ids or colours not in classes.json) surface when the sample is loaded.
// Without `skipBad` the first problem is a UserError naming the file; with it, bad samples are dropped and
// recorded in `dataset.skipped` (which keeps growing as streaming finds more).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

import { UserError } from '../util/errors.js';
import { readClassesFile, type ClassSet } from './classes.js';
import { checkPixelLimit, DEFAULT_MAX_PIXELS, readImageHeaderSync, type ImageHeader } from './decode.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export type SplitName = 'train' | 'val';

export interface SamplePair {
  stem: string;
  image: string;
  mask: string;
  /** The sub-folder it came from, when the data set has train/ and val/. */
  split?: SplitName;
  /** From the header scan (absent when headers were not checked). */
  width?: number;
  height?: number;
  imageFormat?: 'png' | 'jpeg';
  imageChannels?: number;
}

export interface BadFile {
  file: string;
  reason: string;
}

export interface FolderDatasetOptions {
  /** Drop bad samples (recorded in `skipped`) instead of failing on the first. */
  skipBad?: boolean;
  /** Largest width x height per picture (default 100 MP). */
  maxPixels?: number;
  /** Read every file's header while opening (default true). */
  checkHeaders?: boolean;
  /** Return a data set with no usable pairs instead of failing (for inspection). */
  allowEmpty?: boolean;
}

export interface FolderDataset {
  root: string;
  layout: 'flat' | 'splits';
  /** classes.json, or null when the data set has none (masks are then grey class-id PNGs). */
  classes: ClassSet | null;
  /** Every usable pair, sorted by split then stem. */
  pairs: SamplePair[];
  /** Samples dropped with skipBad: found at open time, and appended to while streaming. */
  skipped: BadFile[];
  /** Files that are not pictures (README.txt, ...), listed and otherwise left alone. */
  ignored: string[];
  skipBad: boolean;
  maxPixels: number;
}

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

function listFolder(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !isHidden(n))
      .sort();
  } catch (e) {
    throw new UserError(`${dir}: cannot list folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const stemOf = (name: string): string => name.slice(0, name.length - extname(name).length);

/** Pairs one images/ + masks/ folder; problems go to `bad`, pictures of other kinds to `ignored`. */
function pairFolder(dir: string, split: SplitName | undefined, bad: BadFile[], ignored: string[]): SamplePair[] {
  const imagesDir = join(dir, 'images');
  const masksDir = join(dir, 'masks');
  if (!isDir(imagesDir)) throw new UserError(`${dir}: expected a folder images/ (pictures) next to masks/ (class-id PNGs)`);
  if (!isDir(masksDir)) throw new UserError(`${dir}: expected a folder masks/ next to images/, with one PNG mask per image`);
  const images = new Map<string, string>();
  for (const name of listFolder(imagesDir)) {
    const file = join(imagesDir, name);
    if (!IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) {
      ignored.push(file);
      continue;
    }
    const stem = stemOf(name);
    const other = images.get(stem);
    if (other) {
      bad.push({ file, reason: `two images share the stem "${stem}" (${other} and ${file}); a stem must be unique` });
      continue;
    }
    images.set(stem, file);
  }
  const masks = new Map<string, string>();
  for (const name of listFolder(masksDir)) {
    const file = join(masksDir, name);
    const ext = extname(name).toLowerCase();
    if (ext === '.jpg' || ext === '.jpeg') {
      bad.push({ file, reason: 'masks must be PNG (JPEG compression changes class ids at edges)' });
      masks.set(stemOf(name), '');
      continue;
    }
    if (ext !== '.png') {
      ignored.push(file);
      continue;
    }
    masks.set(stemOf(name), file);
  }
  const pairs: SamplePair[] = [];
  for (const [stem, image] of images) {
    const mask = masks.get(stem);
    if (mask === undefined) bad.push({ file: image, reason: `has no mask (expected ${join(masksDir, `${stem}.png`)})` });
    else if (mask !== '') pairs.push({ stem, image, mask, split });
  }
  for (const [stem, mask] of masks) {
    if (!images.has(stem) && mask !== '') bad.push({ file: mask, reason: `is a mask without an image (expected ${join(imagesDir, stem)}.png or .jpg)` });
  }
  if (images.size === 0 && masks.size === 0)
    throw new UserError(`${imagesDir}: no images (expected PNG or JPEG files, each with a PNG mask of the same stem in ${masksDir})`);
  return pairs;
}

/** Reads both headers of a pair; a problem is returned rather than thrown. */
function checkPairHeaders(p: SamplePair, maxPixels: number): BadFile | null {
  let ih: ImageHeader;
  let mh: ImageHeader;
  try {
    ih = readImageHeaderSync(p.image, maxPixels);
    checkPixelLimit(ih, p.image, maxPixels);
  } catch (e) {
    if (e instanceof UserError) return { file: p.image, reason: e.message.replace(`${p.image}: `, '') };
    throw e;
  }
  try {
    mh = readImageHeaderSync(p.mask, maxPixels);
    checkPixelLimit(mh, p.mask, maxPixels);
  } catch (e) {
    if (e instanceof UserError) return { file: p.mask, reason: e.message.replace(`${p.mask}: `, '') };
    throw e;
  }
  if (mh.format !== 'png') return { file: p.mask, reason: 'masks must be PNG (this is a JPEG)' };
  if (mh.width !== ih.width || mh.height !== ih.height) {
    return { file: p.mask, reason: `is ${mh.width}x${mh.height} but its image ${p.image} is ${ih.width}x${ih.height}; a mask must have its image's size` };
  }
  p.width = ih.width;
  p.height = ih.height;
  p.imageFormat = ih.format;
  p.imageChannels = ih.channels;
  return null;
}

export function describeBad(b: BadFile): string {
  return `${b.file}: ${b.reason}`;
}

/** Raises the first problem as a UserError (naming the file), or records it when skipping. */
export function reportBad(ds: Pick<FolderDataset, 'skipBad' | 'skipped' | 'root'>, bad: BadFile[]): void {
  if (bad.length === 0) return;
  if (!ds.skipBad) {
    const more =
      bad.length > 1
        ? ` (and ${bad.length - 1} more problem${bad.length > 2 ? 's' : ''}; \`unet-transfer data inspect ${ds.root}\` lists them, options.skipBad skips them)`
        : ' (options.skipBad skips bad samples)';
    throw new UserError(`${describeBad(bad[0]!)}${more}`);
  }
  for (const b of bad) if (!ds.skipped.some((s) => s.file === b.file)) ds.skipped.push(b);
}

export function openFolderDataset(dir: string, opts: FolderDatasetOptions = {}): FolderDataset {
  if (!existsSync(dir)) throw new UserError(`${dir}: no such folder (expected a data set folder with images/ and masks/)`);
  if (!isDir(dir)) throw new UserError(`${dir}: not a folder (expected a data set folder with images/ and masks/)`);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bad: BadFile[] = [];
  const ignored: string[] = [];
  let pairs: SamplePair[];
  let layout: FolderDataset['layout'];
  if (isDir(join(dir, 'images')) || isDir(join(dir, 'masks'))) {
    layout = 'flat';
    pairs = pairFolder(dir, undefined, bad, ignored);
  } else if (isDir(join(dir, 'train'))) {
    layout = 'splits';
    pairs = pairFolder(join(dir, 'train'), 'train', bad, ignored);
    if (isDir(join(dir, 'val'))) pairs.push(...pairFolder(join(dir, 'val'), 'val', bad, ignored));
  } else {
    const entries = listFolder(dir);
    throw new UserError(
      `${dir}: ${entries.length === 0 ? 'empty folder' : 'not a data set folder'}; expected images/ and masks/ (paired by file stem), or train/ and val/ each holding them`,
    );
  }
  const classesFile = [join(dir, 'classes.json'), join(dir, 'train', 'classes.json')].find((f) => existsSync(f));
  const classes = classesFile ? readClassesFile(classesFile) : null;
  const ds: FolderDataset = { root: dir, layout, classes, pairs: [], skipped: [], ignored, skipBad: opts.skipBad === true, maxPixels };
  if (opts.checkHeaders !== false) {
    for (const p of pairs) {
      const problem = checkPairHeaders(p, maxPixels);
      if (problem) bad.push(problem);
    }
  }
  bad.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  reportBad(ds, bad);
  const badFiles = new Set(bad.map((b) => b.file));
  ds.pairs = pairs.filter((p) => !badFiles.has(p.image) && !badFiles.has(p.mask));
  if (ds.pairs.length === 0 && !opts.allowEmpty)
    throw new UserError(`${dir}: no usable image/mask pairs${bad.length ? ` (${bad.length} skipped as bad)` : ''}`);
  return ds;
}

/** A path relative to the data set root, for compact listings. */
export function relativeToRoot(ds: FolderDataset, file: string): string {
  return relative(ds.root, file) || file;
}
