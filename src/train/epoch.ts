// One training epoch, with or without the frozen-prefix activation cache, and the decision whether a phase
// uses the cache. With the cache, the phase's first epoch streams the data as usual, runs the frozen prefix
// on each batch, keeps every image's boundary tensors and mask, and trains the rest from them; later epochs
// read the data from the cache alone, in the same order (epochOrder(n, seed, epoch)) and the same batches,
// so the steps see bitwise the same tensors as without the cache.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { LayerMap } from '../model/layer-map.js';
import { ActivationCache, bytesPerImage, freeDiskBytes, removeStaleSpills, type CacheLayout } from './activation_cache.js';
import type { BatchSource } from './batch_source.js';
import type { FreezeState } from './freeze.js';
import type { LossFn } from './losses/index.js';
import type { LrGroup } from './lr_groups.js';
import { forwardTo, stepLoss } from './fused_logits.js';
import { splitFrozenPrefix, type PrefixSplit } from './prefix_split.js';
import { seedDropouts, trainStep } from './step.js';

/** Default memory for cached activations before they spill to disk. */
export const DEFAULT_CACHE_MB = 2048;

export interface CacheOptions {
  enabled: boolean;
  /** Memory for cached activations (MiB); the rest spills to files in spillDir. */
  limitMb: number;
  /** Where spilled activations go (a folder of the run; removed again at the end). */
  spillDir: string;
}

export interface PrefixCache {
  split: PrefixSplit;
  store: ActivationCache;
  /** True once an epoch has run to its end and every readable image is in the store. */
  filled: boolean;
}

/** What the run log and run.json say about the cache of a phase. */
export interface CacheDecision {
  used: boolean;
  reason: string;
  /** Layers computed once per image (when used). */
  prefix_layers?: string[];
  boundary?: { layer: string; shape: number[] }[];
  bytes_per_image?: number;
  memory_mb?: number;
  disk_mb?: number;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Decides whether a phase caches its frozen prefix, and sets the cache up when it does. */
export function planActivationCache(o: {
  model: tfl.LayersModel;
  layerMap: LayerMap;
  freeze: FreezeState;
  groups: LrGroup[];
  source: BatchSource;
  options: CacheOptions;
}): { cache: PrefixCache | null; decision: CacheDecision } {
  const off = (reason: string) => ({ cache: null, decision: { used: false, reason } });
  if (!o.options.enabled) return off('switched off (options.cache)');
  if (o.source.varies) return off(o.source.varies);
  const differentiated = new Set(o.groups.flatMap((g) => g.variables.map((v) => v.layer)));
  const d = splitFrozenPrefix({ model: o.model, layerMap: o.layerMap, differentiated, inferenceLayers: new Set(o.freeze.inferenceLayers) });
  if (!d.split) return off(d.reason);
  const [H, W] = o.source.shape;
  const layout: CacheLayout = { boundary: d.split.boundary, maskSize: H * W, maskShape: [H, W] };
  const per = bytesPerImage(layout);
  const total = per * o.source.size;
  const limit = Math.max(0, o.options.limitMb) * 2 ** 20;
  const memory = Math.min(total, Math.floor(limit / per) * per);
  const disk = total - memory;
  removeStaleSpills(o.options.spillDir);
  if (disk > 0) {
    const free = freeDiskBytes(o.options.spillDir);
    if (disk > 0.9 * free)
      return off(
        `${o.source.size} images need ${mb(total)} MiB of cached activations, ${mb(disk)} MiB of them beyond options.cacheMb ${o.options.limitMb}, and ${o.options.spillDir} has ${mb(free)} MiB free`,
      );
  }
  return {
    cache: { split: d.split, store: new ActivationCache(layout, limit, o.options.spillDir), filled: false },
    decision: {
      used: true,
      reason: d.reason,
      prefix_layers: d.split.prefixLayers,
      boundary: d.split.boundary.map((b) => ({ layer: b.layer, shape: b.shape })),
      bytes_per_image: per,
      memory_mb: mb(memory),
      disk_mb: mb(disk),
    },
  };
}

export function describeCache(d: CacheDecision): string {
  if (!d.used) return `activation cache: off (${d.reason})`;
  const where = d.disk_mb ? `${d.memory_mb} MiB in memory, ${d.disk_mb} MiB on disk` : `${d.memory_mb} MiB in memory`;
  const per = d.bytes_per_image! >= 2 ** 20 ? `${mb(d.bytes_per_image!)} MiB` : `${Math.round(d.bytes_per_image! / 1024)} KiB`;
  return `activation cache: on, ${d.reason}; ${d.boundary!.length} boundary tensors, ${per} per image, ${where}`;
}

export interface EpochInput {
  model: tfl.LayersModel;
  loss: LossFn;
  groups: LrGroup[];
  dropouts: { layer: tfl.layers.Layer; index: number }[];
  seed: number;
  epoch: number;
  batchSize: number;
  source: BatchSource;
  cache: PrefixCache | null;
  /** The base rate of step b (0-based) of this epoch. */
  lrAt: (b: number) => number;
  /** After each step: steps done in this epoch, the batch loss, the rate, the images in the batch. */
  onStep?: (done: number, loss: number, lr: number, images: number) => void;
}

export interface EpochResult {
  steps: number;
  lossSum: number;
  seen: number;
  /** The rate of the last step. */
  lr: number;
  /** off: no cache; fill: the prefix ran and its outputs were cached; read: trained from the cache. */
  cache: 'off' | 'fill' | 'read';
}

export async function trainEpoch(e: EpochInput): Promise<EpochResult> {
  const r: EpochResult = { steps: 0, lossSum: 0, seen: 0, lr: 0, cache: !e.cache ? 'off' : e.cache.filled ? 'read' : 'fill' };
  // With a fusable logits layer the forward pass stops at its input and the loss runs it (fused_logits.ts).
  const plan = stepLoss(e.model, e.loss);
  const step = (inputs: tf.Tensor4D | tf.Tensor[], masks: tf.Tensor3D, forward: (x: tf.Tensor4D | tf.Tensor[]) => tf.Tensor4D): void => {
    seedDropouts(e.dropouts, e.seed, e.epoch, r.steps);
    r.lr = e.lrAt(r.steps);
    const loss = trainStep({ model: e.model, loss: plan.loss, groups: e.groups, lr: r.lr, forward }, inputs, masks);
    const n = masks.shape[0];
    r.lossSum += loss * n;
    r.seen += n;
    r.steps++;
    e.onStep?.(r.steps, loss, r.lr, n);
  };
  const cache = e.cache;
  const forward = forwardTo(e.model, plan);
  const whole = (x: tf.Tensor4D | tf.Tensor[]) => forward(x as tf.Tensor4D);
  if (!cache) {
    for await (const { images, masks } of e.source.batches(e.epoch, e.batchSize)) {
      try {
        step(images, masks, whole);
      } finally {
        tf.dispose([images, masks]);
      }
    }
    return r;
  }
  const rest = (x: tf.Tensor4D | tf.Tensor[]) => cache.split.runRest(x as tf.Tensor[], plan.target ?? undefined);
  if (!cache.filled) {
    for await (const { images, masks, indices } of e.source.batches(e.epoch, e.batchSize)) {
      let boundary: tf.Tensor[] = [];
      try {
        boundary = cache.split.runPrefix(images);
        const values = boundary.map((t) => t.dataSync() as Float32Array);
        const m = masks.dataSync() as Int32Array;
        indices.forEach((index, row) => cache.store.put(index, row, values, m));
        step(boundary, masks, rest);
      } finally {
        tf.dispose([images, masks, ...boundary]);
      }
    }
    cache.filled = true;
    return r;
  }
  // The epoch's order, less the images that could not be read when the cache was filled (skipped then too).
  const order = e.source.order(e.epoch).filter((i) => cache.store.has(i));
  for (let at = 0; at < order.length; at += e.batchSize) {
    const { boundary, masks } = cache.store.batch(order.slice(at, at + e.batchSize));
    try {
      step(boundary, masks, rest);
    } finally {
      tf.dispose([...boundary, masks]);
    }
  }
  return r;
}
