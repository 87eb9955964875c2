// Makes tfjs-layers' BatchNormalization in training mode run as one op with a one-kernel gradient on `native`
// (ops/batch_norm_training.ts), as fused_conv_layer.ts does for Conv2D: the layer class is patched, so every
// BatchNormalization layer, built here or loaded, takes the path, and model.json files stay standard Keras.
// Inference mode, other backends, a channel axis that is not the last, or a layer without both gamma and beta
// run tfjs-layers' own code unchanged. The moving averages are updated exactly as tfjs-layers does.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { NATIVE, nativeKernelNames } from './backend.js';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './kernels/math/batchnorm_training.js';
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

/** tfjs-layers' doMovingAverage: variable -= (variable - value) * (1 - momentum). */
function movingAverage(variable: tfl.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
  });
}

function patchBatchNormalization(): void {
  const probe = tfl.layers.batchNormalization({});
  const proto = Object.getPrototypeOf(probe) as { call: Call; __unetFused?: boolean };
  if (proto.__unetFused) return;
  const original = proto.call;
  const available = nativeKernelNames.has(BATCH_NORM_TRAIN) && nativeKernelNames.has(BATCH_NORM_TRAIN_GRAD);
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
    return tf.tidy(() => {
      const [y, mean, variance] = batchNormTraining(x, f.gamma!.read() as tf.Tensor1D, f.beta!.read() as tf.Tensor1D, f.epsilon);
      movingAverage(f.movingMean, mean, f.momentum);
      movingAverage(f.movingVariance, variance, f.momentum);
      return y;
    });
  };
  proto.__unetFused = true;
}

patchBatchNormalization();
