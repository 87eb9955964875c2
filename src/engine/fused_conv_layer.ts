// Makes tfjs-layers' Conv2D with bias and ReLU (or no activation) run as one op with lazy gradients
// (ops/conv_bias_relu.ts), in training too, and a Conv2D without bias or activation (ResNet's and MobileNetV2's,
// followed by BatchNorm) run as the plain Conv2D kernel, whose gradients are lazy too.
//
// tfjs-layers builds every Conv2D on tf.fused.conv2d, which tfjs-core un-fuses into Conv2D + Add + Relu as soon as
// gradients are recorded; without bias or activation it keeps FusedConv2D, whose gradient computes the input's and
// the filter's gradients together whenever one is needed: the stem's gradient with respect to the image (9 ms of
// a resnet34 step at 128x128) and the filter gradients of frozen layers above a trainable one. Patching the layer
// class (not each model) keeps model.json files standard Keras: a saved model still says `Conv2D`, and any Conv2D
// layer, built here or loaded, takes the fast path. Layers that do not qualify (another activation, ReLU without
// bias, dilation, channels-first) run tfjs-layers' own code unchanged.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { convBiasRelu } from './ops/conv_bias_relu.js';

/** The fields of tfjs-layers' Conv2D that decide the path (they are public on the instance, untyped). */
interface Conv2DFields {
  bias: tfl.LayerVariable | null;
  kernel: tfl.LayerVariable;
  activation: { getClassName(): string } | null;
  dataFormat: string;
  dilationRate: number[];
  strides: number[];
  padding: string;
}

type Call = (this: tfl.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

function patchConv2D(): void {
  const probe = tfl.layers.conv2d({ filters: 1, kernelSize: 1 });
  const proto = Object.getPrototypeOf(probe) as { call: Call; __unetFused?: boolean };
  if (proto.__unetFused) return;
  const original = proto.call;
  proto.call = function (this: tfl.layers.Layer, inputs, kwargs) {
    const f = this as unknown as Conv2DFields;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const activation = f.activation?.getClassName().toLowerCase() ?? 'linear';
    const qualifies =
      (activation === 'relu' || activation === 'linear') &&
      f.dataFormat === 'channelsLast' &&
      f.dilationRate.every((d) => d === 1) &&
      (f.padding === 'same' || f.padding === 'valid') &&
      x.rank === 4 &&
      x.dtype === 'float32';
    if (!qualifies) return original.call(this, inputs, kwargs);
    if (f.bias === null) {
      if (activation !== 'linear') return original.call(this, inputs, kwargs);
      return tf.tidy(() => tf.conv2d(x as tf.Tensor4D, f.kernel.read() as tf.Tensor4D, [f.strides[0], f.strides[1]], f.padding as 'same' | 'valid'));
    }
    return tf.tidy(() =>
      convBiasRelu(x as tf.Tensor4D, f.kernel.read() as tf.Tensor4D, f.bias!.read() as tf.Tensor1D, {
        strides: [f.strides[0], f.strides[1]],
        pad: f.padding as 'same' | 'valid',
        activation: activation as 'relu' | 'linear',
      }),
    );
  };
  proto.__unetFused = true;
}

patchConv2D();
