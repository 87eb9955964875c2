// segmentation_models.pytorch's Unet decoder: blocks of nearest x2 up-sampling -> concatenate [up, skip]
// -> (conv3x3 without bias -> BatchNorm -> ReLU) x 2, 16f, 8f, 4f, 2f channels for dec4..dec1 (256..32
// with f = 16); its fifth block (f channels, full resolution, no skip) and the 3x3 segmentation head
// make our `head`. Source names are smp's module paths (decoder.blocks.0.conv1.0, segmentation_head.0).
import * as tfl from '@tensorflow/tfjs-layers';

import type { EncoderFeatures } from '../encoders/registry.js';
import type { GraphBuilder } from '../graph-builder.js';

export function smpDecoder(g: GraphBuilder, features: EncoderFeatures, o: { filters: number; classes: number }): tfl.SymbolicTensor {
  let x = features[4];
  for (let level = 4; level >= 0; level--) {
    const block = level > 0 ? `dec${level}` : 'head';
    const source = `decoder.blocks.${4 - level}`;
    const filters = o.filters * 2 ** level;
    x = g.apply(block, tfl.layers.upSampling2d({ name: `${block}_up`, size: [2, 2], interpolation: 'nearest' }), x);
    if (level > 0) x = g.apply(block, tfl.layers.concatenate({ name: `${block}_concat`, axis: -1 }), [x, features[level - 1]]);
    for (const n of [1, 2]) {
      const conv = `${block}_conv${n}`;
      // smp initialises decoder convs with kaiming_uniform (fan_in, ReLU), BatchNorm with PyTorch's defaults.
      x = g.apply(
        block,
        tfl.layers.conv2d({
          name: conv,
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: tfl.initializers.heUniform({ seed: g.layerSeed(conv) }),
        }),
        x,
        `${source}.conv${n}.0`,
      );
      x = g.apply(block, tfl.layers.batchNormalization({ name: `${block}_bn${n}`, axis: -1, epsilon: 1e-5, momentum: 0.9 }), x, `${source}.conv${n}.1`);
      x = g.apply(block, tfl.layers.reLU({ name: `${block}_relu${n}` }), x, `${source}.conv${n}.2`);
    }
  }
  return g.apply(
    'head',
    tfl.layers.conv2d({ name: 'head_logits', filters: o.classes, kernelSize: 3, padding: 'same', kernelInitializer: g.glorot('head_logits') }),
    x,
    'segmentation_head.0',
  );
}
