// Keras' MobileNetV2 (keras.applications, alpha = width multiplier) as a U-Net encoder, with Keras'
// layer names, tapped where TensorFlow's segmentation tutorial taps it: block_1_expand_relu (stride 2),
// block_3_expand_relu (4), block_6_expand_relu (8), block_13_expand_relu (16), block_16_project (32).
// Each stage holds the layers after the previous tap up to its own tap, so every layer's output stride
// is its stage's. In the torchvision flavour the same graph pads stride-2 convs symmetrically (as
// torchvision's mobilenet_v2 does) and its BatchNorm epsilon is torchvision's; source names are then
// torchvision's module paths (features.14.conv.0), else the Keras names.
import * as tfl from '@tensorflow/tfjs-layers';

import type { GraphBuilder } from '../graph-builder.js';
import type { Flavour } from '../options.js';
import type { EncoderFeatures } from './registry.js';

type SymbolicTensor = tfl.SymbolicTensor;

/** keras.applications' / torchvision's _make_divisible: round to a multiple of 8, never below 90% of v. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** (output filters, stride, expansion) of block_0 (expanded_conv) .. block_16, as in keras.applications. */
export const MOBILENETV2_BLOCKS: ReadonlyArray<readonly [number, number, number]> = [
  [16, 1, 1],
  [24, 2, 6],
  [24, 1, 6],
  [32, 2, 6],
  [32, 1, 6],
  [32, 1, 6],
  [64, 2, 6],
  [64, 1, 6],
  [64, 1, 6],
  [64, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [160, 2, 6],
  [160, 1, 6],
  [160, 1, 6],
  [320, 1, 6],
];

/** Keras layer names whose outputs feed the decoder, shallowest first. */
export const MOBILENETV2_TAPS = ['block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu', 'block_16_project'] as const;

const STAGES = ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck'] as const;

export function mobileNetV2Encoder(g: GraphBuilder, input: SymbolicTensor, o: { alpha: number; flavour: Flavour }): EncoderFeatures {
  const keras = o.flavour === 'keras';
  const bn = keras ? { epsilon: 1e-3, momentum: 0.999 } : { epsilon: 1e-5, momentum: 0.9 };
  const features: SymbolicTensor[] = [];
  let stage = 0;
  /** Applies a layer in the current stage; after a tap, the next layers go to the next stage. */
  const add = (layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[], torchName?: string): SymbolicTensor => {
    const y = g.apply(STAGES[stage]!, layer, x, keras ? layer.name : torchName);
    if ((MOBILENETV2_TAPS as readonly string[]).includes(layer.name)) {
      features.push(y);
      stage++;
    }
    return y;
  };
  const pad = (name: string) =>
    tfl.layers.zeroPadding2d({
      name,
      padding: keras
        ? [
            [0, 1],
            [0, 1],
          ]
        : [
            [1, 1],
            [1, 1],
          ],
    });
  const relu6 = (name: string) => tfl.layers.reLU({ name, maxValue: 6 });
  const norm = (name: string) => tfl.layers.batchNormalization({ name, axis: -1, ...bn });
  const conv1x1 = (name: string, filters: number) =>
    tfl.layers.conv2d({ name, filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: g.heNormal(name) });

  let x = add(pad('Conv1_pad'), input);
  const first = makeDivisible(32 * o.alpha);
  x = add(
    tfl.layers.conv2d({ name: 'Conv1', filters: first, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: g.heNormal('Conv1') }),
    x,
    'features.0.0',
  );
  x = add(norm('bn_Conv1'), x, 'features.0.1');
  x = add(relu6('Conv1_relu'), x, 'features.0.2');
  let channels = first;

  MOBILENETV2_BLOCKS.forEach(([filters, stride, expansion], id) => {
    if (stage >= STAGES.length) return; // past block_16_project: the tutorial's encoder ends there
    const out = makeDivisible(Math.trunc(filters * o.alpha));
    const p = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    const t = `features.${id + 1}.conv`;
    const inp = x;
    // torchvision numbers the sub-modules of a block without expansion one lower.
    const dw = id === 0 ? 0 : 1;
    if (id > 0) {
      x = add(conv1x1(`${p}expand`, expansion * channels), x, `${t}.0.0`);
      x = add(norm(`${p}expand_BN`), x, `${t}.0.1`);
      x = add(relu6(`${p}expand_relu`), x, `${t}.0.2`);
    }
    if (stride === 2) x = add(pad(`${p}pad`), x);
    const dwName = `${p}depthwise`;
    x = add(
      tfl.layers.depthwiseConv2d({
        name: dwName,
        kernelSize: 3,
        strides: stride,
        padding: stride === 2 ? 'valid' : 'same',
        useBias: false,
        depthwiseInitializer: g.heNormal(dwName),
      }),
      x,
      `${t}.${dw}.0`,
    );
    x = add(norm(`${p}depthwise_BN`), x, `${t}.${dw}.1`);
    x = add(relu6(`${p}depthwise_relu`), x, `${t}.${dw}.2`);
    x = add(conv1x1(`${p}project`, out), x, `${t}.${dw + 1}`);
    if (stage >= STAGES.length) return;
    x = add(norm(`${p}project_BN`), x, `${t}.${dw + 2}`);
    if (channels === out && stride === 1) x = add(tfl.layers.add({ name: `${p}add` }), [inp, x]);
    channels = out;
  });
  return features as EncoderFeatures;
}
