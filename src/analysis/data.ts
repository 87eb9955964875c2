// The images the functional analyses run on: N samples of a folder data set, decoded once and held in
// memory (every block reset and every CKA pass reuses them), and a model's segmentation metrics on them.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { epochOrder, loadInMemory, openFolderDataset } from '../data/index.js';
import { headClasses, type HeadMode } from '../model/head_mode.js';
import { confusionFor, predictedIds } from '../train/head_predict.js';
import type { SegmentationMetrics } from '../train/metrics.js';
import { UserError } from '../util/errors.js';

export interface AnalysisData {
  /** The data set folder. */
  root: string;
  images: tf.Tensor4D;
  masks: tf.Tensor3D;
  stems: string[];
  /** Where the samples came from: the val/ split when the data set has one, else all pairs. */
  split: 'val' | 'all';
  /** How the masks were read and the model's logits become predictions (default multiclass). */
  headMode?: HeadMode;
}

export interface LoadOptions {
  /** The models' input [height, width, channels]. */
  input: [number, number, number];
  /** The model's output channels: the class count the masks are read against (a binary head: 1 channel, 2 classes). */
  classes: number;
  headMode?: HeadMode;
  /** The model's input normalisation (sampleNormalizationOf its options); default [0, 1]. */
  normalize?: { mean: number[]; std: number[] };
  /** Samples to use (default and maximum: all of the split); a seeded subset when fewer. */
  samples?: number;
  seed?: number;
}

/** Loads N samples of `dir` (held-out val/ pictures when the data set has them). Dispose with disposeData. */
export async function loadAnalysisData(dir: string, o: LoadOptions): Promise<AnalysisData> {
  const [height, width, channels] = o.input;
  if (channels !== 1 && channels !== 3) throw new UserError(`the model takes ${channels}-channel input; the analyses read grey (1) or RGB (3) pictures only`);
  const ds = openFolderDataset(dir);
  const headMode = o.headMode ?? 'multiclass';
  const classes = headClasses(headMode, o.classes);
  if (ds.classes && ds.classes.numClasses !== classes) {
    throw new UserError(
      `${dir}: has ${ds.classes.numClasses} classes (classes.json), the model ${classes}${headMode === 'multiclass' ? '' : ` (${headMode} head)`}; use a data set with the model's classes`,
    );
  }
  const val = ds.pairs.filter((p) => p.split === 'val');
  const pool = val.length > 0 ? val : ds.pairs;
  const n = Math.min(o.samples ?? pool.length, pool.length);
  if (n < 1) throw new UserError(`${dir}: no samples to analyse`);
  // A seeded subset, kept in file order so that output does not depend on the draw's order.
  const pick = epochOrder(pool.length, o.seed ?? 0, 0)
    .slice(0, n)
    .sort((a, b) => a - b);
  const maskEncoding = headMode === 'binary' ? 'binary' : headMode === 'multilabel' ? 'bits' : 'ids';
  const batch = await loadInMemory(
    ds,
    pick.map((i) => pool[i]!),
    { height, width, channels, numClasses: classes, maskEncoding, ...(o.normalize ? { normalize: o.normalize } : {}) },
  );
  return { root: dir, images: batch.images, masks: batch.masks, stems: batch.stems, split: val.length > 0 ? 'val' : 'all', headMode };
}

export function disposeData(d: AnalysisData | null | undefined): void {
  if (d) tf.dispose([d.images, d.masks]);
}

/** The model's segmentation metrics on the samples (inference mode; `classes` its output channels; the head mode is the data's). */
export function evaluateOn(model: tfl.LayersModel, classes: number, data: AnalysisData, batchSize = 8): SegmentationMetrics {
  const headMode = data.headMode ?? 'multiclass';
  const cm = confusionFor(headMode, headClasses(headMode, classes));
  const n = data.images.shape[0];
  for (let s = 0; s < n; s += batchSize) {
    const size = Math.min(batchSize, n - s);
    const [pred, truth] = tf.tidy(() => {
      const x = tf.slice(data.images, [s, 0, 0, 0], [size, -1, -1, -1]);
      const logits = model.apply(x, { training: false }) as tf.Tensor4D;
      return [predictedIds(logits, headMode), tf.slice(data.masks, [s, 0, 0], [size, -1, -1])];
    });
    cm.add(truth.dataSync(), pred.dataSync());
    tf.dispose([pred, truth]);
  }
  return cm.metrics();
}
