// Where an epoch's batches come from: a folder data set streamed from disk (training runs) or samples
// held in memory (benchmarks). Both visit the samples in the order of epochOrder(n, seed, epoch), so the
// activation cache can rebuild an epoch's batches from sample indices alone.
import * as tf from '@tensorflow/tfjs-core';

import { streamBatches } from '../data/index.js';
import { isIdentity, type AugmentSpec } from '../data/augment.js';
import { epochOrder } from '../data/random.js';
import { UserError } from '../util/errors.js';
import type { TrainingData } from './training_data.js';

export interface IndexedBatch {
  images: tf.Tensor4D;
  masks: tf.Tensor3D;
  /** Index of each image in the source (0..size-1). */
  indices: number[];
}

export interface BatchSource {
  size: number;
  /** [H, W, C] of an image. */
  shape: [number, number, number];
  /** Null when every epoch gives the same image for a sample; else why not (e.g. random augmentation). */
  varies: string | null;
  /** Sample indices in the order the epoch visits them. */
  order(epoch: number): number[];
  /** The epoch's batches in that order (unreadable samples skipped where the data set allows it). */
  batches(epoch: number, batchSize: number): AsyncIterable<IndexedBatch>;
}

function describeAugment(a: AugmentSpec): string {
  const parts = [
    a.flipH && 'flip',
    a.flipV && 'vflip',
    a.cropMin < 1 && `crop:${a.cropMin}`,
    a.brightness > 0 && `brightness:${a.brightness}`,
    a.contrast > 0 && `contrast:${a.contrast}`,
  ].filter(Boolean);
  return parts.join(',');
}

/** The training split of a folder data set, streamed (shuffled from (seed, epoch), augmented as configured). */
export function folderBatchSource(data: TrainingData, seed: number): BatchSource {
  const indexOf = new Map(data.train.map((p, i) => [p.stem, i]));
  if (indexOf.size !== data.train.length) throw new UserError(`${data.ds.root}: two training samples share a file stem; stems must be unique`);
  return {
    size: data.train.length,
    shape: [data.sample.height, data.sample.width, data.sample.channels],
    varies: isIdentity(data.augment) ? null : `augmentation ${describeAugment(data.augment)} changes the images every epoch`,
    order: (epoch) => epochOrder(data.train.length, seed, epoch),
    async *batches(epoch, batchSize) {
      for await (const b of streamBatches(data.ds, data.train, { ...data.sample, augment: data.augment, batchSize, seed, epoch, shuffle: true })) {
        yield { images: b.images, masks: b.masks, indices: b.stems.map((s) => indexOf.get(s)!) };
      }
    },
  };
}

/** Samples already in memory (images [H*W*C] floats, masks [H*W] class ids), no augmentation. */
export function memoryBatchSource(images: Float32Array[], masks: Int32Array[], shape: [number, number, number], seed: number): BatchSource {
  const [H, W, C] = shape;
  if (images.length !== masks.length) throw new Error(`internal: ${images.length} images and ${masks.length} masks`);
  images.forEach((x, i) => {
    if (x.length !== H * W * C || masks[i]!.length !== H * W) throw new Error(`internal: sample ${i} does not have shape ${H}x${W}x${C}`);
  });
  return {
    size: images.length,
    shape,
    varies: null,
    order: (epoch) => epochOrder(images.length, seed, epoch),
    async *batches(epoch, batchSize) {
      const order = epochOrder(images.length, seed, epoch);
      for (let at = 0; at < order.length; at += batchSize) {
        const indices = order.slice(at, at + batchSize);
        const B = indices.length;
        const x = new Float32Array(B * H * W * C);
        const y = new Int32Array(B * H * W);
        indices.forEach((s, r) => {
          x.set(images[s]!, r * H * W * C);
          y.set(masks[s]!, r * H * W);
        });
        yield { images: tf.tensor4d(x, [B, H, W, C], 'float32'), masks: tf.tensor3d(y, [B, H, W], 'int32'), indices };
      }
    },
  };
}
