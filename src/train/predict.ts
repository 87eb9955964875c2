// Using a (fine-tuned) model: segment new pictures. Each picture is read, converted to the model's channels,
// resized to its input (bilinear, as training does) and normalised as the model expects; the head turns the
// logits into a mask (head_predict.ts: multiclass the class with the largest logit, binary 1 where the
// sigmoid is above 0.5, multilabel the bits of the labels above 0.5), mapped back to the picture's own size
// (nearest). Streamed in batches, so any number of pictures fits in memory; masks are written as PNGs of
// class ids (label bits for multilabel), optionally with an overlay of the class colours.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { colorOf } from '../data/classes.js';
import { readPicture } from '../data/decode.js';
import { IMAGE_EXTENSIONS } from '../data/folder-dataset.js';
import { encodePng } from '../data/png.js';
import { toChannels, type Raster } from '../data/raster.js';
import { resizeBilinear, resizeNearest } from '../data/resize.js';
import { normalizeInPlace } from '../data/sample.js';
import { useBestBackend } from '../engine/index.js';
import type { ClassInfo } from '../model/classes.js';
import type { HeadMode } from '../model/head_mode.js';
import { loadModelFolder, sampleNormalizationOf, type InputNormalization } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { writeFileAtomic } from '../util/atomic.js';
import { badInputOption, invalidOption } from '../util/errors.js';
import { predictedIds, shownClass } from './head_predict.js';

/** What predict needs of a model: the layers model, its input size, output channels and input normalisation, and its head mode (default multiclass). */
export interface Predictor {
  model: tfl.LayersModel;
  options: { arch: string; input: [number, number, number]; classes: number; inputNormalization?: InputNormalization };
  headMode?: HeadMode;
}

export interface Prediction {
  /** The picture's file. */
  file: string;
  width: number;
  height: number;
  /** height x width class ids (binary: 0 background, 1 foreground; multilabel: label bits), at the picture's own size. */
  mask: Uint16Array;
  /** The decoded picture (for overlays, without reading it again). */
  picture: Raster;
}

/** Segments the pictures (files), `batch` at a time, in order; yields one prediction per picture. */
export async function* predict(unet: Predictor, files: string[], o: { batch?: number } = {}): AsyncGenerator<Prediction> {
  const batch = o.batch ?? 8;
  if (!(Number.isInteger(batch) && batch >= 1)) throw invalidOption('batch', 'an integer >= 1', batch);
  const [H, W, C] = unet.options.input;
  const norm = sampleNormalizationOf(unet.options);
  const headMode = unet.headMode ?? 'multiclass';
  if (C !== 1 && C !== 3) throw badInputOption('model', `takes ${C}-channel input; predict reads grey (1) or RGB (3) pictures only`);
  for (let at = 0; at < files.length; at += batch) {
    const chunk = files.slice(at, at + batch);
    const pictures = await Promise.all(chunk.map((f) => readPicture(f)));
    const x = new Float32Array(chunk.length * H * W * C);
    pictures.forEach(({ raster }, i) => {
      const resized = resizeBilinear(toChannels(raster, C), W, H);
      normalizeInPlace(resized, C, norm);
      x.set(resized, i * H * W * C);
    });
    const ids = tf.tidy(() => predictedIds(unet.model.predict(tf.tensor4d(x, [chunk.length, H, W, C])) as tf.Tensor4D, headMode));
    const data = (await ids.data()) as Int32Array;
    ids.dispose();
    for (const [i, { raster }] of pictures.entries()) {
      const small = data.subarray(i * H * W, (i + 1) * H * W);
      const big = resizeNearest({ width: W, height: H, channels: 1, data: small }, raster.width, raster.height);
      yield { file: chunk[i]!, width: raster.width, height: raster.height, mask: Uint16Array.from(big), picture: raster };
    }
  }
}

/** The pictures named by files and folders (a folder: its pictures, sorted), checked to exist. */
export function pictureFiles(inputs: string[]): string[] {
  if (inputs.length === 0) throw invalidOption('inputs', 'at least one picture or folder', inputs);
  const out: string[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch {
      throw badInputOption('inputs', `${input}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const found = readdirSync(input)
        .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
        .sort()
        .map((n) => join(input, n));
      if (found.length === 0) throw badInputOption('inputs', `${input}: holds no pictures (${IMAGE_EXTENSIONS.join(', ')})`);
      out.push(...found);
    } else {
      out.push(input);
    }
  }
  const stems = new Map<string, string>();
  for (const f of out) {
    const stem = basename(f, extname(f));
    if (stems.has(stem)) throw badInputOption('inputs', `${f} and ${stems.get(stem)} would both write ${stem}.png; give them in separate runs`);
    stems.set(stem, f);
  }
  return out;
}

/**
 * The picture blended with the class colours (alpha 0.5; background, class 0, left as it is). With
 * `multilabel`, mask values are label bits: a pixel takes the colour of its lowest label (none: left as it is).
 */
export function overlay(picture: Raster, mask: Uint16Array, classes: ClassInfo[], multilabel = false): Raster {
  const rgb = toChannels(picture, 3);
  const out = new Uint8Array(rgb.data.length);
  for (let p = 0; p < mask.length; p++) {
    const id = shownClass(mask[p]!, multilabel);
    // Class 0 is the background of a multiclass or binary head; label 0 of a multilabel head is a label.
    const color = id < 0 || (id === 0 && !multilabel) ? null : colorOf(classes[id] ?? { id, name: '' });
    for (let c = 0; c < 3; c++) out[p * 3 + c] = color ? Math.round((rgb.data[p * 3 + c]! + color[c]!) / 2) : rgb.data[p * 3 + c]!;
  }
  return { width: rgb.width, height: rgb.height, channels: 3, data: out };
}

export interface PredictFolderOptions {
  /** A model folder, or a run folder (its model/). */
  model: string;
  /** Pictures and folders of pictures. */
  inputs: string[];
  /** Where to write OUT/<stem>.png (class ids, binary 0/1, multilabel label bits; 16-bit above 255 classes) and, with overlay, OUT/<stem>.overlay.png. */
  out: string;
  overlay?: boolean;
  batch?: number;
  /** After each picture: how many are done of how many. */
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

export interface PredictFolderResult {
  model: string;
  out: string;
  masks: { file: string; mask: string; overlay: string | null; width: number; height: number }[];
}

/** Segments every picture and writes its class-id mask (and overlay) into `out`; each file is written atomically. */
export async function predictToFolder(o: PredictFolderOptions): Promise<PredictFolderResult> {
  const files = pictureFiles(o.inputs);
  if (!o.out) throw invalidOption('out', 'a folder to write the masks to', o.out);
  await useBestBackend('native', o.log);
  const folder = await loadModelFolder(resolveModelDir(o.model, 'model'));
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const written: PredictFolderResult['masks'] = [];
  try {
    for await (const p of predict(folder, files, { batch: o.batch })) {
      const stem = basename(p.file, extname(p.file));
      const maskFile = join(out, `${stem}.png`);
      const wide = folder.options.classes > 256;
      const mask: Raster = { width: p.width, height: p.height, channels: 1, data: wide ? p.mask : Uint8Array.from(p.mask) };
      writeFileAtomic(maskFile, encodePng(mask));
      let overlayFile: string | null = null;
      if (o.overlay) {
        overlayFile = join(out, `${stem}.overlay.png`);
        writeFileAtomic(overlayFile, encodePng(overlay(p.picture, p.mask, folder.classes, folder.headMode === 'multilabel')));
      }
      written.push({ file: p.file, mask: maskFile, overlay: overlayFile, width: p.width, height: p.height });
      o.onProgress?.(written.length, files.length);
    }
  } finally {
    folder.model.dispose();
  }
  return { model: folder.dir, out, masks: written };
}
