// The decoder of TensorFlow's image segmentation tutorial: pix2pix.upsample blocks (Conv2DTranspose 3x3
// stride 2 without bias, N(0, 0.02) init -> BatchNormalization -> ReLU), each concatenated with the skip
// of its stage ([up, skip]), 8f, 4f, 2f, f filters for dec4..dec1 (512..64 with f = 64); the head is a
// Conv2DTranspose 3x3 stride 2 (with bias) to the classes at full resolution.
import * as tfl from '@tensorflow/tfjs-layers';

import type { EncoderFeatures } from '../encoders/registry.js';
import type { GraphBuilder } from '../graph-builder.js';

export function pix2pixDecoder(g: GraphBuilder, features: EncoderFeatures, o: { filters: number; classes: number }): tfl.SymbolicTensor {
  let x = features[4];
  for (let level = 4; level >= 1; level--) {
    const block = `dec${level}`;
    const up = `${block}_up`;
    x = g.apply(
      block,
      tfl.layers.conv2dTranspose({
        name: up,
        filters: o.filters * 2 ** (level - 1),
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: g.layerSeed(up) }),
      }),
      x,
    );
    x = g.apply(block, tfl.layers.batchNormalization({ name: `${block}_bn`, axis: -1 }), x);
    x = g.apply(block, tfl.layers.reLU({ name: `${block}_relu` }), x);
    x = g.apply(block, tfl.layers.concatenate({ name: `${block}_concat`, axis: -1 }), [x, features[level - 1]]);
  }
  return g.apply(
    'head',
    tfl.layers.conv2dTranspose({
      name: 'head_logits',
      filters: o.classes,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: g.glorot('head_logits'),
    }),
    x,
  );
}
