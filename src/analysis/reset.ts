// Causal measures (../shared/DESIGN.md): which blocks' changes matter on the target.
//   reset sensitivity of block X = mIoU(fine-tuned) - mIoU(fine-tuned with X put back to its pretrained
//     weights): how much of the fine-tune's result X's change carries;
//   transplant gain of block X = mIoU(pretrained with only X's fine-tuned weights) - mIoU(pretrained):
//     how much X's change achieves on its own.
// BatchNormalization's moving statistics are weights of their layer, so they travel with their block.
// Every variant is made on the fine-tuned model in place (a block's variables are reassigned) and the
// model is restored afterwards, even on error. When the head was replaced (another class count), the
// pretrained model cannot predict the target classes: "pretrained" then means the pretrained weights with
// the fine-tuned new head (the replaced layers always keep their fine-tuned weights), and the head block
// cannot be reset (its row says so).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { evaluateOn, type AnalysisData } from './data.js';
import { layerWeights, pairModels, requireSameInput, type AnalysisModel } from './pairing.js';

export interface ResetOptions {
  /** The fine-tuned model's class count (mIoU is over these classes). */
  classes: number;
  blocks?: string[];
  batchSize?: number;
  names?: { before: string; after: string };
  onProgress?: (done: number, total: number) => void;
}

export interface BlockReset {
  block: string;
  /** mIoU of the fine-tuned model with this block reset to pretrained (null when it cannot be reset). */
  reset_miou: number | null;
  reset_sensitivity: number | null;
  /** mIoU of the pretrained model with only this block fine-tuned. */
  transplant_miou: number | null;
  transplant_gain: number | null;
}

export interface ResetReport {
  samples: number;
  /** mIoU of the fine-tuned model. */
  after_miou: number;
  /** mIoU of the pretrained model (with the fine-tuned new head when the head was replaced). */
  before_miou: number;
  /** True when before_miou uses the fine-tuned new head. */
  before_uses_new_head: boolean;
  blocks: BlockReset[];
}

/**
 * Reset sensitivity and transplant gain per block on `data`. `after` is modified during the call and
 * restored before it returns.
 */
export function resetSensitivity(before: AnalysisModel, after: AnalysisModel, data: AnalysisData, opts: ResetOptions): ResetReport {
  const pair = pairModels(before, after, opts.names);
  requireSameInput(before, after, opts.names);
  const replaced = new Set(pair.replaced);
  const blocks = opts.blocks ?? after.layerMap.blocks.map((b) => b.name);
  const batch = opts.batchSize ?? 8;
  // Per block: [after variable, pretrained value] for every weight of its layers that can be swapped.
  const swaps = new Map<string, [tfl.LayerVariable, tf.Tensor][]>();
  const resettable = new Map<string, boolean>();
  for (const block of after.layerMap.blocks) {
    const list: [tfl.LayerVariable, tf.Tensor][] = [];
    let hasWeights = false;
    let blocked = false;
    for (const name of block.layers) {
      const aw = layerWeights(after.model.getLayer(name));
      if (aw.size === 0) continue;
      hasWeights = true;
      if (replaced.has(name)) {
        blocked = true;
        continue;
      }
      const bw = layerWeights(before.model.getLayer(name));
      for (const [k, v] of aw) list.push([v, bw.get(k)!.read()]);
    }
    swaps.set(block.name, list);
    resettable.set(block.name, hasWeights && !blocked);
  }
  // The fine-tuned values, to put back.
  const saved = new Map<tfl.LayerVariable, tf.Tensor>();
  for (const list of swaps.values()) for (const [v] of list) saved.set(v, tf.clone(v.read()));
  const setPretrained = (pretrained: Set<string>) => {
    for (const [block, list] of swaps) {
      for (const [v, old] of list) v.write(pretrained.has(block) ? old : saved.get(v)!);
    }
  };
  const miou = () => evaluateOn(after.model, opts.classes, data, batch).miou;
  const total = 2 + 2 * blocks.length;
  let done = 0;
  const step = () => opts.onProgress?.(++done, total);
  try {
    setPretrained(new Set());
    const afterMiou = miou();
    step();
    const allBlocks = new Set(swaps.keys());
    setPretrained(allBlocks);
    const beforeMiou = miou();
    step();
    const rows: BlockReset[] = [];
    for (const block of blocks) {
      if (!swaps.has(block)) throw new Error(`resetSensitivity: no block ${block}`);
      let reset: number | null = null;
      if (resettable.get(block)) {
        setPretrained(new Set([block]));
        reset = miou();
      }
      step();
      let transplant: number | null = null;
      if (resettable.get(block)) {
        const others = new Set(allBlocks);
        others.delete(block);
        setPretrained(others);
        transplant = miou();
      }
      step();
      rows.push({
        block,
        reset_miou: reset,
        reset_sensitivity: reset === null ? null : afterMiou - reset,
        transplant_miou: transplant,
        transplant_gain: transplant === null ? null : transplant - beforeMiou,
      });
    }
    return { samples: data.images.shape[0], after_miou: afterMiou, before_miou: beforeMiou, before_uses_new_head: replaced.size > 0, blocks: rows };
  } finally {
    setPretrained(new Set());
    tf.dispose([...saved.values()]);
  }
}
