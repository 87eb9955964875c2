// The compute cost of a fine-tuning policy per training step: convolution FLOPs of the forward pass of
// everything not served from the activation cache, the data gradient of every layer with a trainable layer
// upstream (down to the lowest trainable layer, no further), and the weight gradient of each trainable layer.
import { layerFlops, trainingStepFlops, type StepFlops } from '../model/flops.js';
import type { UNet } from '../model/unet.js';

export interface PolicyFlops extends StepFlops {
  /** Forward FLOPs of the cached prefix, left out of `forward` and `total`. */
  cachedForward: number;
  /** This policy's total over training everything with no cache. */
  share: number;
}

export function policyStepFlops(unet: Pick<UNet, 'model' | 'layerMap'>, batch: number, trainable: Iterable<string>, cachedLayers: Iterable<string> = []): PolicyFlops {
  const all = trainingStepFlops(unet, batch);
  const f = trainingStepFlops(unet, batch, trainable);
  const cached = new Set(cachedLayers);
  const cachedForward = layerFlops(unet).filter((l) => cached.has(l.layer)).reduce((s, l) => s + l.forward, 0) * batch;
  const forward = f.forward - cachedForward;
  const total = forward + f.backwardData + f.backwardWeights;
  return { forward, backwardData: f.backwardData, backwardWeights: f.backwardWeights, total, cachedForward, share: all.total > 0 ? total / all.total : 0 };
}
