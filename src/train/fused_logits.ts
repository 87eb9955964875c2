// The training step's shortcut for the usual last layer of a segmentation network, a 1x1 convolution
// without activation (the logits layer): when the loss can take that layer's input instead of its output
// (cross-entropy can, through engine/ops/linear_softmax_cross_entropy.ts), the forward pass stops before
// the layer and the loss computes it fused with its own gradient. Same loss and gradients as running the
// layer and the loss apart, up to float rounding; every training step of a run takes the same path. When the
// features are a ReLU's output, the loss also does that ReLU's backward pass (and the bias sum of the conv
// that has it).
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { LossFn } from './losses/index.js';
import { runModelTo } from './prefix_split.js';

interface ConvConfig {
  kernelSize?: number | number[];
  strides?: number | number[];
  dilationRate?: number | number[];
  activation?: string;
  useBias?: boolean;
  dataFormat?: string;
}

interface WeightHolder {
  kernel?: tfl.LayerVariable;
  bias?: tfl.LayerVariable | null;
}

export interface LogitsLayer {
  layer: tfl.layers.Layer;
  /** The layer's input: what the forward pass stops at. */
  features: tfl.SymbolicTensor;
  /** The features are a ReLU's output (a Conv2D or Activation layer with activation relu). */
  reluFeatures: boolean;
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
}

const ones = (v: number | number[] | undefined) => v === undefined || (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);

/** The model's output layer when it is a 1x1, stride-1, linear, channels-last Conv2D called once; else null. */
export function logitsLayer(model: tfl.LayersModel): LogitsLayer | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const out = model.outputs[0]!;
  const layer = out.sourceLayer;
  if (layer.getClassName() !== 'Conv2D' || layer.inboundNodes.length !== 1 || out.inputs.length !== 1) return null;
  const c = layer.getConfig() as ConvConfig;
  if (!ones(c.kernelSize) || !ones(c.strides) || !ones(c.dilationRate) || (c.activation ?? 'linear') !== 'linear') return null;
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return null;
  const w = layer as unknown as WeightHolder;
  if (!w.kernel) return null;
  const features = out.inputs[0]!;
  const source = features.sourceLayer;
  const reluFeatures = ['Conv2D', 'Activation'].includes(source.getClassName()) && (source.getConfig() as ConvConfig).activation === 'relu';
  return { layer, features, reluFeatures, kernel: w.kernel, bias: c.useBias === false ? null : (w.bias ?? null) };
}

/**
 * How a step computes its loss: the forward pass ends at `target` (the model's output, or the logits
 * layer's input when fused) and `loss` takes what it ends with.
 */
export interface StepLoss {
  /** Where the forward pass stops; null: the model's output. */
  target: tfl.SymbolicTensor | null;
  loss: LossFn;
  /** For the run log: what the loss computes besides itself. */
  description: string;
}

export function stepLoss(model: tfl.LayersModel, loss: LossFn): StepLoss {
  const head = loss.fromLinear ? logitsLayer(model) : null;
  if (!head || !loss.fromLinear) {
    const why = loss.fromLinear ? 'the model does not end in a 1x1 convolution without activation' : 'only ce has a fused form';
    return { target: null, loss, description: `loss: not fused with the logits layer (${why})` };
  }
  const fromLinear = loss.fromLinear;
  // A ReLU before the logits layer gets its backward pass from the loss too (engine/ops/relu_grad_hint.ts).
  const fused: LossFn = (features, labels) =>
    fromLinear(features, head.kernel.read() as tf.Tensor4D, head.bias ? (head.bias.read() as tf.Tensor1D) : null, labels, head.reluFeatures);
  const relu = head.reluFeatures ? ` and the ReLU backward of ${head.features.sourceLayer.name}` : '';
  return { target: head.features, loss: fused, description: `loss: fused with ${head.layer.name}${relu} (one kernel, logits never stored)` };
}

/** The forward pass of the whole model in training mode, up to where `plan` stops. */
export function forwardTo(model: tfl.LayersModel, plan: StepLoss): (images: tf.Tensor4D) => tf.Tensor4D {
  const target = plan.target;
  return target ? (x) => runModelTo(model, x, target) : (x) => model.apply(x, { training: true }) as tf.Tensor4D;
}
