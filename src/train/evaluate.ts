// Evaluation: a model's predictions over a list of samples, in batches, into a confusion matrix
// (per-class IoU, mIoU, Dice, pixel accuracy; metrics.ts) and, given a loss, the mean loss per pixel batch.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { streamBatches, type FolderDataset, type SamplePair } from '../data/index.js';
import type { SampleOptions } from '../data/sample.js';
import type { LossFn } from './losses/index.js';
import { ConfusionMatrix, type SegmentationMetrics } from './metrics.js';

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
  opts: { sample: SampleOptions; batchSize: number; loss?: LossFn; onBatch?: (done: number) => void },
): Promise<EvaluationResult> {
  const cm = new ConfusionMatrix(classes);
  let lossSum = 0;
  let samples = 0;
  for await (const { images, masks } of streamBatches(ds, pairs, { ...opts.sample, augment: undefined, batchSize: opts.batchSize, shuffle: false })) {
    try {
      const [predicted, loss] = tf.tidy(() => {
        const logits = model.apply(images, { training: false }) as tf.Tensor4D;
        return [tf.argMax(logits, 3), opts.loss ? opts.loss(logits, masks) : null] as const;
      });
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
