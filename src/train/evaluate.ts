// Evaluation: a model's predictions over a list of samples, in batches, into a confusion matrix
// (per-class IoU, mIoU, Dice, pixel accuracy; metrics.ts) and, given a loss, the mean loss per pixel batch.
// The head mode says how logits become predictions (head_predict.ts); `classes` is the head's class count
// (binary: 2, background and foreground; multilabel: the labels).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { streamBatches, type FolderDataset, type SamplePair } from '../data/index.js';
import type { SampleOptions } from '../data/sample.js';
import type { HeadMode } from '../model/head_mode.js';
import { confusionFor, predictedIds } from './head_predict.js';
import type { LossFn } from './losses/index.js';
import type { SegmentationMetrics } from './metrics.js';

export interface EvaluationResult extends SegmentationMetrics {
  /** The mean batch loss weighted by batch size (absent without a loss). */
  loss?: number;
  samples: number;
}

export async function evaluateModel(
  model: tfl.LayersModel,
  classes: number,
  ds: FolderDataset,
  pairs: SamplePair[],
  opts: { sample: SampleOptions; batchSize: number; loss?: LossFn; onBatch?: (done: number) => void; headMode?: HeadMode },
): Promise<EvaluationResult> {
  const headMode = opts.headMode ?? 'multiclass';
  const cm = confusionFor(headMode, classes);
  let lossSum = 0;
  let samples = 0;
  for await (const { images, masks } of streamBatches(ds, pairs, { ...opts.sample, augment: undefined, batchSize: opts.batchSize, shuffle: false })) {
    try {
      const logits = tf.tidy(() => model.apply(images, { training: false }) as tf.Tensor4D);
      const predicted = predictedIds(logits, headMode);
      const loss = opts.loss ? tf.tidy(() => opts.loss!(logits, masks)) : null;
      logits.dispose();
      cm.add(masks.dataSync(), predicted.dataSync());
      if (loss) lossSum += loss.dataSync()[0]! * images.shape[0];
      tf.dispose([predicted, loss as tf.Tensor]);
      samples += images.shape[0];
      opts.onBatch?.(samples);
    } finally {
      tf.dispose([images, masks]);
    }
  }
  return { ...cm.metrics(), ...(opts.loss && samples > 0 ? { loss: lossSum / samples } : {}), samples };
}
