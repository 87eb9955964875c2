/**
 * Batches for training and evaluation: the API the training loop consumes.
 *
 * ```ts
 * const ds = openFolderDataset(dir, { skipBad: true });
 * const { train, val } = splitDataset(ds, { valFraction: 0.2, seed });
 * const opts = { height: 96, width: 128, channels: 3, batchSize: 8, seed, augment: parseAugment('flip,crop:0.8') };
 * for (let epoch = 0; epoch < epochs; epoch++) {
 *   for await (const { images, masks, stems } of streamBatches(ds, train, { ...opts, epoch })) {
 *     // images: tf.Tensor4D [B,H,W,C] float32 in [0,1] (or mean/std-normalised); masks: tf.Tensor3D [B,H,W] int32
 *     // class ids; stems: the file stems. The caller owns both tensors and must dispose them.
 *     images.dispose(); masks.dispose();
 *   }
 * }
 * const all = await loadInMemory(ds, val, opts); // one Tensor4D + Tensor3D for a small set (dispose them)
 * ```
 *
 * Order: with `shuffle` (default true) each epoch visits the pairs in a permutation that depends only on
 * (seed, epoch), so a run resumed at epoch e sees the same order it would have seen. Augmentation draws
 * depend on (seed, epoch, stem). Streaming keeps only `prefetch` samples (default 2 batches) in flight, so
 * memory does not grow with the data set. Bad samples: with `skipBad` they are skipped and appended to
 * `ds.skipped`; otherwise the first one is a UserError naming the file. The last batch may be smaller
 * unless `dropRemainder`.
 */
import * as tf from '@tensorflow/tfjs-core';

import { UserError } from '../util/errors.js';
import type { FolderDataset, SamplePair } from './folder-dataset.js';
import { epochOrder } from './random.js';
import { loadSample, type Sample, type SampleOptions } from './sample.js';

export interface Batch {
  images: tf.Tensor4D;
  masks: tf.Tensor3D;
  stems: string[];
}

export interface StreamOptions extends SampleOptions {
  batchSize: number;
  seed?: number;
  epoch?: number;
  /** Default true; false keeps the given order (evaluation). */
  shuffle?: boolean;
  dropRemainder?: boolean;
  /** Samples read ahead (default 2 x batchSize). */
  prefetch?: number;
}

type Loaded = { ok: true; sample: Sample } | { ok: false; error: unknown; pair: SamplePair };

/** Streams decoded samples (no tensors) in the epoch's order, reading a bounded number ahead. */
export async function* streamSamples(
  ds: FolderDataset,
  pairs: SamplePair[],
  opts: Omit<StreamOptions, 'batchSize'> & { batchSize?: number },
): AsyncGenerator<Sample> {
  const seed = opts.seed ?? 0;
  const epoch = opts.epoch ?? 0;
  const order = opts.shuffle === false ? pairs.map((_, i) => i) : epochOrder(pairs.length, seed, epoch);
  const ahead = Math.max(1, opts.prefetch ?? 2 * (opts.batchSize ?? 4));
  // Each pending load resolves (never rejects) so that a failure further ahead is not an unhandled rejection.
  const start = (pair: SamplePair): Promise<Loaded> =>
    loadSample(ds, pair, opts, [seed, epoch]).then(
      (sample) => ({ ok: true as const, sample }),
      (error: unknown) => ({ ok: false as const, error, pair }),
    );
  const pending: Promise<Loaded>[] = [];
  let next = 0;
  while (pending.length < ahead && next < order.length) pending.push(start(pairs[order[next++]!]!));
  while (pending.length > 0) {
    const got = await pending.shift()!;
    if (next < order.length) pending.push(start(pairs[order[next++]!]!));
    if (got.ok) {
      yield got.sample;
      continue;
    }
    if (!(got.error instanceof UserError) || !ds.skipBad) throw got.error;
    const msg = got.error.message;
    const file = [got.pair.image, got.pair.mask].find((f) => msg.startsWith(`${f}: `));
    const bad = file ? { file, reason: msg.slice(file.length + 2) } : { file: got.pair.image, reason: msg };
    if (!ds.skipped.some((s) => s.file === bad.file)) ds.skipped.push(bad);
  }
}

function toBatch(samples: Sample[], opts: SampleOptions): Batch {
  const { height: H, width: W, channels: C } = opts;
  const B = samples.length;
  const x = new Float32Array(B * H * W * C);
  const y = new Int32Array(B * H * W);
  samples.forEach((s, i) => {
    x.set(s.image, i * H * W * C);
    y.set(s.mask, i * H * W);
  });
  return { images: tf.tensor4d(x, [B, H, W, C], 'float32'), masks: tf.tensor3d(y, [B, H, W], 'int32'), stems: samples.map((s) => s.stem) };
}

/** Streams batches of tensors; see the module comment for the contract. */
export async function* streamBatches(ds: FolderDataset, pairs: SamplePair[], opts: StreamOptions): AsyncGenerator<Batch> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${opts.batchSize}`);
  let buf: Sample[] = [];
  for await (const s of streamSamples(ds, pairs, opts)) {
    buf.push(s);
    if (buf.length === opts.batchSize) {
      yield toBatch(buf, opts);
      buf = [];
    }
  }
  if (buf.length > 0 && !opts.dropRemainder) yield toBatch(buf, opts);
}

/** Number of batches an epoch yields (before any sample is skipped as bad). */
export function batchesPerEpoch(n: number, batchSize: number, dropRemainder = false): number {
  return dropRemainder ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Loads a whole (small) set, in the given order, without augmentation unless asked. */
export async function loadInMemory(ds: FolderDataset, pairs: SamplePair[], opts: SampleOptions & { maxBytes?: number }): Promise<Batch> {
  const bytes = pairs.length * opts.height * opts.width * (opts.channels * 4 + 4);
  const limit = opts.maxBytes ?? 2 * 2 ** 30;
  if (bytes > limit) {
    throw new UserError(
      `${ds.root}: ${pairs.length} samples at ${opts.width}x${opts.height} need ${(bytes / 2 ** 20).toFixed(0)} MiB in memory, over ${(limit / 2 ** 20).toFixed(0)} MiB; stream it in batches instead`,
    );
  }
  const samples: Sample[] = [];
  for await (const s of streamSamples(ds, pairs, { ...opts, shuffle: false })) samples.push(s);
  if (samples.length === 0) throw new UserError(`${ds.root}: no usable samples to load`);
  return toBatch(samples, opts);
}
