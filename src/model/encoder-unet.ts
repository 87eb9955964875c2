// Builds an encoder U-Net: the registry's backbone, its reference decoder, and the layer map with each
// layer's source name (pretrained marks are added by whoever loads the backbone's weights).
import * as tfl from '@tensorflow/tfjs-layers';

import { pix2pixDecoder } from './decoders/pix2pix.js';
import { smpDecoder } from './decoders/smp.js';
import { ENCODERS } from './encoders/registry.js';
import { GraphBuilder } from './graph-builder.js';
import { LayerMap } from './layer-map.js';
import type { EncoderArch, UNetOptions } from './options.js';

export function buildEncoderUNet(o: UNetOptions & { arch: EncoderArch }): { model: tfl.LayersModel; layerMap: LayerMap } {
  const entry = ENCODERS[o.arch];
  const g = new GraphBuilder(o.seed);
  const input = tfl.input({ name: 'input', shape: o.input });
  const features = entry.build(g, input, o);
  const out = entry.decoder === 'pix2pix' ? pix2pixDecoder(g, features, o) : smpDecoder(g, features, o);
  const model = tfl.model({ name: `unet_${o.arch}`, inputs: input, outputs: out });
  return { model, layerMap: LayerMap.fromAssignments(model, o.depth, g.blockOf, 'buildUNet', g.origins) };
}
