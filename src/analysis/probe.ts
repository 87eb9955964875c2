// The Auto-RGN probe (Lee et al., "Surgical Fine-Tuning Improves Adaptation to Distribution Shifts",
// ICLR 2023): before any fine-tuning, the relative gradient norm ||grad_W L|| / ||W|| of each layer at the
// pretrained weights, averaged over target batches, predicts where the target data pulls the model; layers
// (and blocks) with a large RGN are the ones worth fine-tuning first.
// The gradients are of the target loss (softmax cross-entropy over pixels; binary cross-entropy for sigmoid heads) with the model in inference
// mode (dropout off, BatchNormalization on its moving statistics), so the probe changes nothing, not even
// BN statistics. Layers frozen in the saved model are probed all the same.
import * as tf from '@tensorflow/tfjs-core';

import type { Region } from '../model/layer-map.js';
import { makeLoss } from '../train/losses/index.js';
import type { AnalysisData } from './data.js';
import { layerWeights, type AnalysisModel } from './pairing.js';

export interface ProbeOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface LayerRgn {
  layer: string;
  block: string;
  region: Region;
  /** Trainable parameters of the layer. */
  parameters: number;
  /** ||W|| over the layer's trainable weights (kernel and bias, or gamma and beta). */
  weight_norm: number;
  /** Mean over batches of ||grad W||. */
  grad_norm: number;
  /** Mean over batches of ||grad W|| / ||W|| over the layer's trainable weights. */
  rgn: number | null;
  /** The same for the kernel (or gamma) alone. */
  rgn_kernel: number | null;
  /** 1 = the largest rgn of the model. */
  rank: number;
}

export interface BlockRgn {
  block: string;
  region: Region;
  parameters: number;
  /** Mean over batches of ||grad W_block|| / ||W_block||. */
  rgn: number | null;
  rank: number;
}

export interface ProbeReport {
  samples: number;
  batches: number;
  /** Mean target loss at the pretrained weights. */
  loss: number;
  layers: LayerRgn[];
  blocks: BlockRgn[];
}

const MAIN = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel', 'gamma']);
const STATS = /moving_(mean|variance)$/;

function ranks(values: (number | null)[]): number[] {
  const order = values.map((v, i) => [v ?? -Infinity, i] as const).sort((a, b) => b[0] - a[0]);
  const r = new Array<number>(values.length);
  order.forEach(([, i], k) => (r[i] = k + 1));
  return r;
}

/** RGN per layer and block of `m` on the target samples (their masks must use m's classes). */
export function probe(m: AnalysisModel, data: AnalysisData, opts: ProbeOptions = {}): ProbeReport {
  const batch = opts.batchSize ?? 8;
  const n = data.images.shape[0];
  // The probed weights: every weight but BN moving statistics, per layer, in model order.
  const entries: { layer: string; block: string; region: Region; name: string; variable: tf.Variable }[] = [];
  for (const info of m.layerMap.layers) {
    for (const [name, w] of layerWeights(m.model.getLayer(info.name))) {
      if (STATS.test(name)) continue;
      entries.push({ layer: info.name, block: info.block, region: info.region, name, variable: w.read() as tf.Variable });
    }
  }
  const vars = entries.map((e) => e.variable);
  const wasTrainable = vars.map((v) => v.trainable);
  const w2 = entries.map((e) => tf.tidy(() => tf.sum(tf.square(e.variable)).dataSync()[0]!));
  const layers = [...new Set(entries.map((e) => e.layer))];
  const blocks = m.layerMap.blocks.filter((b) => entries.some((e) => e.block === b.name));
  const sumLayer = new Map(layers.map((l) => [l, { rgn: 0, kernel: 0, grad: 0 }]));
  const sumBlock = new Map(blocks.map((b) => [b.name, 0]));
  // Softmax cross-entropy for a multiclass head, binary cross-entropy for sigmoid heads.
  const loss = makeLoss('ce', undefined, data.headMode ?? 'multiclass');
  let lossSum = 0;
  let batches = 0;
  const total = Math.ceil(n / batch);
  try {
    for (const v of vars) v.trainable = true;
    for (let s = 0; s < n; s += batch) {
      const size = Math.min(batch, n - s);
      const g2 = tf.tidy(() => {
        const x = tf.slice(data.images, [s, 0, 0, 0], [size, -1, -1, -1]);
        const y = tf.slice(data.masks, [s, 0, 0], [size, -1, -1]);
        const { value, grads } = tf.variableGrads(() => loss(m.model.apply(x, { training: false }) as tf.Tensor4D, y as tf.Tensor3D), vars);
        const norms = tf.stack(entries.map((e) => tf.sum(tf.square(grads[e.variable.name]!))));
        return [value, norms];
      });
      lossSum += g2[0]!.dataSync()[0]! * size;
      const gv = g2[1]!.dataSync();
      tf.dispose(g2);
      const perLayer = new Map<string, { g: number; w: number; gk: number; wk: number }>();
      const perBlock = new Map<string, { g: number; w: number }>();
      entries.forEach((e, i) => {
        const l = perLayer.get(e.layer) ?? { g: 0, w: 0, gk: 0, wk: 0 };
        l.g += gv[i]!;
        l.w += w2[i]!;
        if (MAIN.has(e.name)) {
          l.gk += gv[i]!;
          l.wk += w2[i]!;
        }
        perLayer.set(e.layer, l);
        const b = perBlock.get(e.block) ?? { g: 0, w: 0 };
        b.g += gv[i]!;
        b.w += w2[i]!;
        perBlock.set(e.block, b);
      });
      for (const [layer, l] of perLayer) {
        const acc = sumLayer.get(layer)!;
        acc.grad += Math.sqrt(l.g);
        acc.rgn += l.w > 0 ? Math.sqrt(l.g / l.w) : NaN;
        acc.kernel += l.wk > 0 ? Math.sqrt(l.gk / l.wk) : NaN;
      }
      for (const [block, b] of perBlock) sumBlock.set(block, sumBlock.get(block)! + (b.w > 0 ? Math.sqrt(b.g / b.w) : NaN));
      batches++;
      opts.onProgress?.(batches, total);
    }
  } finally {
    vars.forEach((v, i) => (v.trainable = wasTrainable[i]!));
  }
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const layerRows = layers.map((layer) => {
    const info = m.layerMap.layer(layer)!;
    const acc = sumLayer.get(layer)!;
    const mine = entries.map((e, i) => [e, i] as const).filter(([e]) => e.layer === layer);
    return {
      layer,
      block: info.block,
      region: info.region,
      parameters: mine.reduce((s, [e]) => s + e.variable.size, 0),
      weight_norm: Math.sqrt(mine.reduce((s, [, i]) => s + w2[i]!, 0)),
      grad_norm: acc.grad / batches,
      rgn: finite(acc.rgn / batches),
      rgn_kernel: finite(acc.kernel / batches),
      rank: 0,
    };
  });
  ranks(layerRows.map((r) => r.rgn)).forEach((r, i) => (layerRows[i]!.rank = r));
  const blockRows = blocks.map((b) => ({
    block: b.name,
    region: b.region,
    parameters: entries.filter((e) => e.block === b.name).reduce((s, e) => s + e.variable.size, 0),
    rgn: finite(sumBlock.get(b.name)! / batches),
    rank: 0,
  }));
  ranks(blockRows.map((r) => r.rgn)).forEach((r, i) => (blockRows[i]!.rank = r));
  return { samples: n, batches, loss: lossSum / n, layers: layerRows, blocks: blockRows };
}
