// Makes tfjs-layers' BatchNormalization in training mode run as one op with a one-kernel gradient on `native`
// (ops/batch_norm_training.ts), as fused_conv_layer.ts does for Conv2D: the layer class is patched, so every
// BatchNormalization layer, built here or loaded, takes the path, and model.json files stay standard Keras.
// Inference mode, other backends, a channel axis that is not the last, or a layer without both gamma and beta
// run tfjs-layers' own code unchanged. The moving averages are updated exactly as tfjs-layers does (one kernel).
//
// A ReLU layer that is the batch norm's only consumer in its model (ResNet, the smp and pix2pix decoders, the bn
// U-Net) is fused in: the batch norm writes max(0, y) and its gradient masks dy, one memory-bound sweep less each
// way, and the batch norm's own output is never stored; the ReLU layer, seeing a tensor that is already rectified,
// passes it on (relu(relu(z)) = relu(z), and the gradients agree too: the batch norm's masks by the same y > 0).
// A capped ReLU (MobileNetV2's ReLU(6)) is fused the same way: y = min(6, max(0, z)), the gradient masked by
// 0 < y < 6, which differs from tfjs' (0 < z <= 6) only where the batch norm gave exactly 6.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { NATIVE, nativeKernelNames } from './backend.js';
import { BATCH_NORM_RELU_TRAIN, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, MOVING_AVERAGES } from './kernels/math/batchnorm_training.js';
import { batchNormTraining } from './ops/batch_norm_training.js';

/** The fields of tfjs-layers' BatchNormalization that decide the path (public on the instance, untyped). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

type Call = (this: tfl.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** tfjs-layers' internals used to find a layer's consumers (public on the instances, untyped). */
interface GraphFields {
  outboundNodes?: { outboundLayer?: tfl.layers.Layer }[];
}

/**
 * The cap of a ReLU-like layer: Infinity for a plain ReLU (ReLU without a cap, Activation('relu')), the cap of a capped
 * one (ReLU with maxValue, e.g. MobileNetV2's ReLU(6); Activation('relu6')), null for any other layer.
 */
function reluCapOf(layer: tfl.layers.Layer | undefined): number | null {
  if (!layer) return null;
  const f = layer as unknown as { maxValue?: number | null; activation?: { getClassName(): string } };
  if (layer.getClassName() === 'ReLU') return f.maxValue == null ? Infinity : f.maxValue > 0 && Number.isFinite(f.maxValue) ? f.maxValue : null;
  const activation = layer.getClassName() === 'Activation' ? f.activation?.getClassName().toLowerCase() : undefined;
  return activation === 'relu' ? Infinity : activation === 'relu6' ? 6 : null;
}

/** The cap of the ReLU that takes the layer's output and is its only consumer (reluCapOf); null when there is none. */
function reluCapOfOnlyConsumer(layer: tfl.layers.Layer): number | null {
  const nodes = (layer as unknown as GraphFields).outboundNodes ?? [];
  return nodes.length === 1 ? reluCapOf(nodes[0].outboundLayer) : null;
}

/** Outputs of batch norms with a fused ReLU, and its cap: that ReLU layer passes one on. */
const rectified = new WeakMap<tf.Tensor, number>();

/**
 * tfjs-layers' doMovingAverage (variable -= (variable - value) * (1 - momentum)) for both statistics, as one kernel
 * without a gradient (kernels/math/batchnorm_training.ts): the three ops per statistic would each be recorded on the
 * training step's tape.
 */
function updateMovingStatistics(f: BatchNormFields, mean: tf.Tensor, variance: tf.Tensor): void {
  tf.tidy(() => {
    const inputs = { movingMean: f.movingMean.read(), movingVariance: f.movingVariance.read(), mean, variance };
    const [m, v] = tf.engine().runKernel(MOVING_AVERAGES, inputs, { momentum: f.momentum }) as tf.Tensor[];
    f.movingMean.write(m);
    f.movingVariance.write(v);
  });
}

function patchBatchNormalization(): void {
  const probe = tfl.layers.batchNormalization({});
  const proto = Object.getPrototypeOf(probe) as { call: Call; __unetFused?: boolean };
  if (proto.__unetFused) return;
  const original = proto.call;
  const available = nativeKernelNames.has(BATCH_NORM_TRAIN) && nativeKernelNames.has(BATCH_NORM_TRAIN_GRAD) && nativeKernelNames.has(MOVING_AVERAGES);
  const reluAvailable = available && nativeKernelNames.has(BATCH_NORM_RELU_TRAIN);
  proto.call = function (this: tfl.layers.Layer, inputs, kwargs) {
    const f = this as unknown as BatchNormFields;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const qualifies =
      available &&
      kwargs?.training === true &&
      tf.getBackend() === NATIVE &&
      (!Array.isArray(inputs) || inputs.length === 1) &&
      x.dtype === 'float32' &&
      x.rank >= 2 &&
      (f.axis === -1 || f.axis === x.rank - 1) &&
      f.gamma !== null &&
      f.beta !== null;
    if (!qualifies) return original.call(this, inputs, kwargs);
    const reluCap = reluAvailable ? reluCapOfOnlyConsumer(this) : null;
    const y = tf.tidy(() => {
      const [out, mean, variance] = batchNormTraining(x, f.gamma!.read() as tf.Tensor1D, f.beta!.read() as tf.Tensor1D, f.epsilon, reluCap);
      updateMovingStatistics(f, mean, variance);
      return out;
    });
    if (reluCap !== null) rectified.set(y, reluCap);
    return y;
  };
  proto.__unetFused = true;
}

/** ReLU and Activation('relu' | 'relu6') layers pass a fused batch norm's rectified output on (a clone: the same data). */
function patchRelu(layer: tfl.layers.Layer): void {
  const proto = Object.getPrototypeOf(layer) as { call: Call; __unetRectified?: boolean };
  if (proto.__unetRectified) return;
  const original = proto.call;
  proto.call = function (this: tfl.layers.Layer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if ((!Array.isArray(inputs) || inputs.length === 1) && rectified.has(x) && rectified.get(x) === reluCapOf(this)) return tf.clone(x);
    return original.call(this, inputs, kwargs);
  };
  proto.__unetRectified = true;
}

patchBatchNormalization();
patchRelu(tfl.layers.reLU({}));
patchRelu(tfl.layers.activation({ activation: 'relu' }));
