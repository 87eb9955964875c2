// Block outputs of a U-Net: one multi-output tf.model over the same layers (shared weights), whose
// outputs are the last layer of each block in model order (what the block hands on: an encoder block's
// pooled map, the bottleneck's, a decoder block's last convolution, the head's logits). The layer map says
// which layer that is; names are never parsed.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { UserError } from '../util/errors.js';
import type { AnalysisModel } from './pairing.js';

export interface BlockOutputs {
  /** Block names, in U order, one per output. */
  blocks: string[];
  /** The layer whose output stands for each block. */
  layers: string[];
  /** Features per sample of each output (H*W*C). */
  features: number[];
  /** Runs the model in inference mode (dropout off, BN moving statistics); returns [B, features] per block. */
  run(images: tf.Tensor4D): tf.Tensor2D[];
}

/** The layer that ends each block (its last layer in model order). */
export function blockOutputLayer(m: AnalysisModel, block: string): string {
  const b = m.layerMap.block(block);
  if (!b) throw new UserError(`the model has no block "${block}" (blocks: ${m.layerMap.blocks.map((x) => x.name).join(', ')})`);
  return b.layers[b.layers.length - 1]!;
}

/**
 * A multi-output view of the model at the given blocks (default: all, U order). The view shares the
 * model's layers and weights: do not dispose it (that would release the model's weights); it goes away
 * with the model.
 */
export function blockOutputs(m: AnalysisModel, blocks?: string[]): BlockOutputs {
  const names = blocks ?? m.layerMap.blocks.map((b) => b.name);
  const layers = names.map((b) => blockOutputLayer(m, b));
  const outputs = layers.map((l) => m.model.getLayer(l).output as tfl.SymbolicTensor);
  const view = tfl.model({ inputs: m.model.inputs, outputs });
  const features = outputs.map((o) => o.shape.slice(1).reduce((a: number, d) => a * (d ?? 1), 1));
  return {
    blocks: names,
    layers,
    features,
    run(images) {
      return tf.tidy(() => {
        const out = view.apply(images, { training: false });
        const list = Array.isArray(out) ? out : [out];
        return list.map((t) => tf.reshape(t as tf.Tensor, [images.shape[0], -1]) as tf.Tensor2D);
      });
    },
  };
}
