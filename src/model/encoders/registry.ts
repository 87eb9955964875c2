// The encoder registry, in the spirit of segmentation_models.pytorch: each encoder arch names its
// backbone builder, the decoder its reference U-Net puts on it, and the weights it can start from.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { GraphBuilder } from '../graph-builder.js';
import type { EncoderArch, UNetOptions } from '../options.js';
import { mobileNetV2Encoder } from './mobilenetv2.js';
import { resNetEncoder } from './resnet.js';

/** The encoder's outputs at strides 2, 4, 8, 16 (the skips of dec1..dec4) and 32 (the bottleneck). */
export type EncoderFeatures = [tfl.SymbolicTensor, tfl.SymbolicTensor, tfl.SymbolicTensor, tfl.SymbolicTensor, tfl.SymbolicTensor];

export interface EncoderEntry {
  /** The reference U-Net this arch follows (for summaries and the README). */
  reference: string;
  /** pix2pix: TensorFlow's tutorial decoder; smp: segmentation_models.pytorch's Unet decoder. */
  decoder: 'pix2pix' | 'smp';
  build(g: GraphBuilder, input: tfl.SymbolicTensor, o: UNetOptions): EncoderFeatures;
}

export const ENCODERS: Record<EncoderArch, EncoderEntry> = {
  mobilenetv2: {
    reference: "TensorFlow's image segmentation tutorial (Keras MobileNetV2 encoder, pix2pix up-sampling)",
    decoder: 'pix2pix',
    build: (g, x, o) => mobileNetV2Encoder(g, x, { alpha: o.alpha ?? 1, flavour: o.flavour ?? 'keras' }),
  },
  resnet18: {
    reference: "segmentation_models.pytorch Unet('resnet18') on torchvision's ResNet-18",
    decoder: 'smp',
    build: (g, x, o) => resNetEncoder(g, x, { arch: 'resnet18', alpha: o.alpha ?? 1 }),
  },
  resnet34: {
    reference: "segmentation_models.pytorch Unet('resnet34') on torchvision's ResNet-34",
    decoder: 'smp',
    build: (g, x, o) => resNetEncoder(g, x, { arch: 'resnet34', alpha: o.alpha ?? 1 }),
  },
};

/** The layers whose outputs are the encoder's five features: the last layer of enc1..enc4 and of the bottleneck. */
export function encoderFeatureLayers(layerMap: { layersIn(block: string): { name: string }[] }): string[] {
  return ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck'].map((b) => {
    const layers = layerMap.layersIn(b);
    if (layers.length === 0) throw new Error(`the model has no ${b} block`);
    return layers[layers.length - 1]!.name;
  });
}
