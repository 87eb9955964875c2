// The compute cost of a fine-tuning policy per training step: convolution FLOPs of the forward pass of
// everything not served from the activation cache, the data gradient of every layer with a trainable layer
// upstream (down to the lowest trainable layer, no further), and the weight gradient of each trainable layer.
// Sweeps and the advisor price policies with it (policyCost), assuming the cache is used: their data have no
// random augmentation.
import { layerFlops, trainingStepFlops, type StepFlops } from '../model/flops.js';
import type { UNet } from '../model/unet.js';
import { splitFrozenPrefix } from './prefix_split.js';

export interface PolicyFlops extends StepFlops {
  /** Forward FLOPs of the cached prefix, left out of `forward` and `total`. */
  cachedForward: number;
  /** This policy's total over training everything with no cache. */
  share: number;
}

export function policyStepFlops(
  unet: Pick<UNet, 'model' | 'layerMap'>,
  batch: number,
  trainable: Iterable<string>,
  cachedLayers: Iterable<string> = [],
): PolicyFlops {
  const all = trainingStepFlops(unet, batch);
  const f = trainingStepFlops(unet, batch, trainable);
  const cached = new Set(cachedLayers);
  const cachedForward =
    layerFlops(unet)
      .filter((l) => cached.has(l.layer))
      .reduce((s, l) => s + l.forward, 0) * batch;
  const forward = f.forward - cachedForward;
  const total = forward + f.backwardData + f.backwardWeights;
  return { forward, backwardData: f.backwardData, backwardWeights: f.backwardWeights, total, cachedForward, share: all.total > 0 ? total / all.total : 0 };
}

/**
 * The layers the activation cache would compute once per image when exactly `trainable` (layer names) train,
 * with the BN and Dropout layers of frozen blocks in inference mode as applyFreeze sets them (no --train-bn):
 * the frozen prefix, or none when the first layers train.
 */
export function cachedPrefixLayers(unet: Pick<UNet, 'model' | 'layerMap'>, trainable: Iterable<string>): string[] {
  const chosen = new Set(trainable);
  const blocks = new Set(unet.layerMap.layers.filter((l) => chosen.has(l.name)).map((l) => l.block));
  const inferenceLayers = new Set(
    unet.layerMap.layers.filter((l) => (l.kind === 'bn' && !chosen.has(l.name)) || (l.kind === 'dropout' && !blocks.has(l.block))).map((l) => l.name),
  );
  const differentiated = new Set(unet.layerMap.layers.filter((l) => chosen.has(l.name) && l.trainableParameters > 0).map((l) => l.name));
  return splitFrozenPrefix({ model: unet.model, layerMap: unet.layerMap, differentiated, inferenceLayers }).split?.prefixLayers ?? [];
}

/** A policy's FLOPs per step as training runs it: with its frozen prefix cached when `cache` (the default). */
export function policyCost(unet: Pick<UNet, 'model' | 'layerMap'>, batch: number, trainable: string[], cache = true): PolicyFlops {
  return policyStepFlops(unet, batch, trainable, cache ? cachedPrefixLayers(unet, trainable) : []);
}
