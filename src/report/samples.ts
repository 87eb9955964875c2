// A grid of sample predictions for the report: the image, its true mask, the pretrained model's prediction
// and the fine-tuned model's, each a small PNG (as a data URI) coloured by the models' class palettes.
import * as tf from '@tensorflow/tfjs-core';

import { loadAnalysisData, disposeData } from '../analysis/index.js';
import { encodePng } from '../data/index.js';
import { loadModelFolder, sampleNormalizationOf, type ClassInfo, type ModelFolder } from '../model/index.js';
import { predictedIds, shownClass } from '../train/head_predict.js';

export interface SampleRow {
  stem: string;
  image: string;
  truth: string;
  pretrained: string;
  finetuned: string;
}

export interface SampleGrid {
  rows: SampleRow[];
  /** Classes of the fine-tuned model (the target's), for the legend. */
  classes: ClassInfo[];
  note: string | null;
}

const uri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

function imagePng(x: Float32Array, h: number, w: number, c: number): string {
  // Min-max per image: whatever normalisation the loader applied, the picture shows its full range.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const data = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) data[p * 3 + k] = Math.round(((x[p * c + (c === 1 ? 0 : k)]! - lo) / span) * 255);
  }
  return uri(encodePng({ width: w, height: h, channels: 3, data }));
}

function maskPng(ids: ArrayLike<number>, h: number, w: number, classes: ClassInfo[], multilabel = false): string {
  const data = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    // Multilabel pixels hold label bits: shown in the colour of their lowest label (black for none).
    const id = shownClass(ids[p]!, multilabel);
    const c = id < 0 ? [0, 0, 0] : (classes[id]?.color ?? [255, 0, 255]);
    data.set(c, p * 3);
  }
  return uri(encodePng({ width: w, height: h, channels: 3, data }));
}

function predict(m: ModelFolder, images: tf.Tensor4D): Int32Array[] {
  const ids = tf.tidy(() => predictedIds(m.model.apply(images, { training: false }) as tf.Tensor4D, m.headMode));
  const flat = ids.dataSync() as Int32Array;
  const [n, h, w] = ids.shape as [number, number, number];
  ids.dispose();
  return Array.from({ length: n }, (_, i) => flat.slice(i * h * w, (i + 1) * h * w));
}

/** Up to `count` validation samples of `dataDir` through both models. */
export async function sampleGrid(pretrainedDir: string, finetunedDir: string, dataDir: string, count = 4): Promise<SampleGrid> {
  const before = await loadModelFolder(pretrainedDir);
  let after: ModelFolder | null = null;
  let data: Awaited<ReturnType<typeof loadAnalysisData>> | null = null;
  try {
    after = await loadModelFolder(finetunedDir);
    const [h, w, c] = after.options.input;
    data = await loadAnalysisData(dataDir, {
      input: after.options.input,
      classes: after.options.classes,
      headMode: after.headMode,
      normalize: sampleNormalizationOf(after.options),
      samples: count,
      seed: 0,
    });
    const images = data.images;
    const truth = data.masks.dataSync() as Int32Array;
    const pre = before.options.input.join('x') === after.options.input.join('x') ? predict(before, images) : null;
    const post = predict(after, images);
    const x = images.dataSync() as Float32Array;
    const rows = data.stems.map((stem, i) => ({
      stem,
      image: imagePng(x.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c),
      truth: maskPng(truth.subarray(i * h * w, (i + 1) * h * w), h, w, after!.classes, after!.headMode === 'multilabel'),
      pretrained: pre ? maskPng(pre[i]!, h, w, before.classes, before.headMode === 'multilabel') : '',
      finetuned: maskPng(post[i]!, h, w, after!.classes, after!.headMode === 'multilabel'),
    }));
    const note =
      before.options.classes !== after.options.classes
        ? `the pretrained model predicts ${before.options.classes} classes (its own palette), the fine-tuned one ${after.options.classes}`
        : null;
    return { rows, classes: after.classes, note };
  } finally {
    disposeData(data);
    before.model.dispose();
    after?.model.dispose();
  }
}
