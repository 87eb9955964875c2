// Convolution FLOPs of a U-Net, per layer and per training step, from the layers' kernel and output
// shapes (2 FLOPs per multiply-add). Pooling, normalisation, activations and the loss are left out:
// they are memory-bound and small next to the convolutions.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { UNet } from './unet.js';

export interface LayerFlops {
  layer: string;
  block: string;
  kind: 'conv' | 'transpose';
  /** Forward FLOPs for one example. */
  forward: number;
  /** Gradient with respect to the layer's input, one example; 0 when that input is the model's input. */
  backwardData: number;
  /** Gradient with respect to the kernel, one example. */
  backwardWeights: number;
}

function product(shape: readonly (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 0), 1);
}

/** H * W of a layer's (first) input or output, from the symbolic tensors of the built graph. */
function spatial(t: tfl.SymbolicTensor | tfl.SymbolicTensor[]): number {
  const s = (Array.isArray(t) ? t[0] : t).shape;
  return (s[1] ?? 0) * (s[2] ?? 0);
}

/** Kernel shape of a layer (the weight called `kernel`, or both kernels of a separable conv). */
function kernels(layer: tfl.layers.Layer): number[][] {
  return layer.weights.filter((w) => /kernel$/.test(w.originalName)).map((w) => w.shape as number[]);
}

function inputIsModelInput(layer: tfl.layers.Layer): boolean {
  const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
  return inbound.length > 0 && inbound.every((l) => l.getClassName() === 'InputLayer');
}

/** Forward and backward convolution FLOPs of each conv and transposed conv, per example, in model order. */
export function layerFlops(unet: Pick<UNet, 'model' | 'layerMap'>): LayerFlops[] {
  const out: LayerFlops[] = [];
  for (const info of unet.layerMap.layers) {
    if (info.kind !== 'conv' && info.kind !== 'transpose') continue;
    const layer = unet.model.getLayer(info.name);
    // A conv does one multiply-add per output pixel per kernel element; a transposed conv one per *input* pixel.
    const pixels = info.kind === 'transpose' ? spatial(layer.input) : spatial(layer.output);
    const forward = 2 * pixels * kernels(layer).reduce((s, k) => s + product(k), 0);
    out.push({ layer: info.name, block: info.block, kind: info.kind, forward, backwardData: inputIsModelInput(layer) ? 0 : forward, backwardWeights: forward });
  }
  return out;
}

export interface StepFlops {
  forward: number;
  backwardData: number;
  backwardWeights: number;
  total: number;
}

/**
 * Convolution FLOPs of one training step on a batch: the whole forward pass, the data gradient of every
 * layer that has a trainable layer upstream of it (the gradient must flow through it to reach one),
 * and the weight gradient of each trainable layer. `trainable` defaults to every layer.
 */
export function trainingStepFlops(unet: Pick<UNet, 'model' | 'layerMap'>, batch: number, trainable?: Iterable<string>): StepFlops {
  const train = new Set(trainable ?? unet.layerMap.layers.map((l) => l.name));
  const upstreamTrainable = new Map<string, boolean>();
  const hasTrainableUpstream = (layer: tfl.layers.Layer): boolean => {
    const cached = upstreamTrainable.get(layer.name);
    if (cached !== undefined) return cached;
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const v = inbound.some((l) => train.has(l.name) || hasTrainableUpstream(l));
    upstreamTrainable.set(layer.name, v);
    return v;
  };
  let forward = 0;
  let backwardData = 0;
  let backwardWeights = 0;
  for (const f of layerFlops(unet)) {
    forward += f.forward;
    if (f.backwardData > 0 && hasTrainableUpstream(unet.model.getLayer(f.layer))) backwardData += f.backwardData;
    if (train.has(f.layer)) backwardWeights += f.backwardWeights;
  }
  return {
    forward: forward * batch,
    backwardData: backwardData * batch,
    backwardWeights: backwardWeights * batch,
    total: (forward + backwardData + backwardWeights) * batch,
  };
}
