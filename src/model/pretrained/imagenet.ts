// `pretrained: 'imagenet'` for a new model: the encoder gets ImageNet-derived weights shipped offline
// (mobilenetv2: nsfwjs' Keras MobileNetV2, see nsfwjs.ts); the decoder and head keep their seeded
// initialisation. The layer map marks the loaded layers pretrained; the provenance says where the
// weights came from and what was done to them on the way.
import * as tf from '@tensorflow/tfjs-core';

import { UserError } from '../../util/errors.js';
import type { Provenance } from '../folder.js';
import { buildUNet, type UNet } from '../unet.js';
import type { UNetOptionsInput } from '../options.js';
import { NSFWJS_PACKAGE, readNsfwjsMobileNetV2, weightsByName } from './nsfwjs.js';

export const PRETRAINED = ['imagenet'] as const;
export type Pretrained = (typeof PRETRAINED)[number];

export interface PretrainedResult {
  unet: UNet;
  provenance: Partial<Provenance>;
  /** Weights set from the source, `layer/weight`. */
  mapped: string[];
  /** Source tensors not used, with why. */
  skipped: { name: string; reason: string }[];
}

/** Builds the model and loads the encoder's pretrained weights; nothing is kept if they do not fit. */
export function buildPretrainedUNet(options: UNetOptionsInput, pretrained: Pretrained): PretrainedResult {
  if (!(PRETRAINED as readonly string[]).includes(pretrained))
    throw new UserError(`option 'pretrained': expected ${PRETRAINED.join('|')}, got ${JSON.stringify(pretrained)}`);
  if (options.arch !== 'mobilenetv2') {
    throw new UserError(
      `option 'pretrained': imagenet weights ship offline for mobilenetv2 only; for ${options.arch ?? 'this arch'} import a torchvision state dict (model import resnet34-b627a593.pth --arch resnet34)`,
    );
  }
  if ((options.alpha ?? 1) !== 1 || (options.flavour ?? 'keras') !== 'keras' || (options.input?.[2] ?? 3) !== 3) {
    throw new UserError(`option 'pretrained': the shipped MobileNetV2 is Keras' alpha 1.0 on RGB input (flavour keras, 3 channels)`);
  }
  const artifacts = readNsfwjsMobileNetV2();
  const source = weightsByName(artifacts);
  const unet = buildUNet(options);
  try {
    const mapped: string[] = [];
    const loaded: string[] = [];
    for (const info of unet.layerMap.layers) {
      if (info.region !== 'encoder' && info.region !== 'bottleneck') continue;
      const layer = unet.model.getLayer(info.name);
      if (layer.weights.length === 0) continue;
      const values = layer.weights.map((w) => {
        const s = source.get(w.originalName);
        if (!s) throw new UserError(`${NSFWJS_PACKAGE}: has no ${w.originalName} for our ${info.name}`);
        if (s.shape.join('x') !== w.shape.join('x'))
          throw new UserError(`${NSFWJS_PACKAGE}: ${w.originalName} is [${s.shape.join(', ')}], our ${info.name} needs [${w.shape.join(', ')}]`);
        mapped.push(w.originalName);
        return tf.tensor(s.data, s.shape, 'float32');
      });
      layer.setWeights(values);
      tf.dispose(values);
      loaded.push(info.name);
    }
    const used = new Set(mapped);
    const skipped = [...source.keys()]
      .filter((n) => !used.has(n))
      .map((name) => ({
        name,
        reason: /^(dense|Conv_1)/.test(name)
          ? "nsfwjs' top (Conv_1 and its classifier), not part of the tutorial's encoder"
          : 'after block_16_project, where the tutorial taps the encoder',
      }));
    const provenance: Partial<Provenance> = {
      pretrained: {
        weights: 'imagenet',
        encoder: 'keras.applications MobileNetV2, alpha 1.0 (224x224 in the source), Keras layer names',
        source: `npm package ${NSFWJS_PACKAGE}, dist/models/mobilenet_v2 (a Keras 2.2.4 layers model), shipped offline as a dependency`,
        files: artifacts.files,
        read: 'UMD JavaScript wrappers parsed with acorn as data (literal nodes only; never required, imported or evaluated)',
        quantization: `every tensor was stored 8-bit (uint8, per-tensor min and scale); dequantised to float32 as min + scale * q (${artifacts.quantization.tensors} tensors, largest step ${artifacts.quantization.maxScale.toPrecision(3)})`,
        fineTuning:
          "nsfwjs' authors started from Keras' ImageNet weights, kept every layer up to block_10 frozen and fine-tuned block_11 onwards (with their classifier) on their own 5-class image data; so block_11..block_16 here are not the original ImageNet weights",
        inputNormalization: "[-1, 1], as Keras' MobileNetV2 preprocess_input (nsfwjs itself feeds [0, 1])",
        layers: loaded.length,
        mapped: mapped.length,
        skipped: skipped.length,
      },
    };
    return { unet: { ...unet, layerMap: unet.layerMap.withPretrained(unet.model, loaded) }, provenance, mapped, skipped };
  } catch (e) {
    unet.model.dispose();
    throw e;
  }
}
