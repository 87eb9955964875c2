// The U-Net builder: the course, classic and bn architectures at depth 2..5 (bn also in the bilinear
// variant of milesial/Pytorch-UNet), with the layer names and the layer map of ../shared/DESIGN.md. The output is logits (no softmax), NHWC [N, H, W, classes].
import * as tfl from '@tensorflow/tfjs-layers';

import { buildEncoderUNet } from './encoder-unet.js';
import { hashString } from './graph-builder.js';
import { LayerMap } from './layer-map.js';
import { ResizeBilinear2x } from './layers/resize-bilinear-2x.js';
import { isEncoderArch, resolveOptions, type UNetOptions, type UNetOptionsInput } from './options.js';

type SymbolicTensor = tfl.SymbolicTensor;

/** A U-Net: the TF.js model, the options it was built with, and its layer map. */
export interface UNet {
  model: tfl.LayersModel;
  options: UNetOptions;
  layerMap: LayerMap;
}

/** Builds one U-Net; the same options (seed included) give bitwise the same weights. */
export function buildUNet(input: UNetOptionsInput = {}): UNet {
  const o = resolveOptions(input);
  if (isEncoderArch(o.arch)) return { ...buildEncoderUNet({ ...o, arch: o.arch }), options: o };
  const blockOf = new Map<string, string>();
  const layerSeed = (name: string) => hashString(`${o.seed}:${name}`);
  // ReLU convs use he_normal as in the course; linear ones (up-sampling, logits) Keras' default glorot_uniform.
  const heNormal = (name: string) => tfl.initializers.heNormal({ seed: layerSeed(name) });
  const glorot = (name: string) => tfl.initializers.glorotUniform({ seed: layerSeed(name) });

  const apply = (block: string, layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor => {
    blockOf.set(layer.name, block);
    return layer.apply(x) as SymbolicTensor;
  };

  /** A 3x3 conv with ReLU; in the bn arch conv (no bias) -> BatchNormalization -> ReLU. */
  const convUnit = (block: string, n: number, filters: number, x: SymbolicTensor): SymbolicTensor => {
    const name = `${block}_conv${n}`;
    if (o.arch !== 'bn') {
      return apply(block, tfl.layers.conv2d({ name, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: heNormal(name) }), x);
    }
    x = apply(block, tfl.layers.conv2d({ name, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: heNormal(name) }), x);
    // PyTorch's BatchNorm2d defaults (momentum 0.1 there is 0.9 here, eps 1e-5), as in the PyTorch U-Net this arch follows.
    x = apply(block, tfl.layers.batchNormalization({ name: `${block}_bn${n}`, axis: -1, momentum: 0.9, epsilon: 1e-5 }), x);
    return apply(block, tfl.layers.activation({ name: `${block}_relu${n}`, activation: 'relu' }), x);
  };

  const inputLayer = tfl.input({ name: 'input', shape: o.input });
  let x: SymbolicTensor = inputLayer;
  const skips: SymbolicTensor[] = [];
  const filtersAt = (level: number) => o.filters * 2 ** (level - 1);

  for (let level = 1; level <= o.depth; level++) {
    const block = `enc${level}`;
    x = convUnit(block, 1, filtersAt(level), x);
    x = convUnit(block, 2, filtersAt(level), x);
    // Dropout in the deepest encoder block; the course takes the skip after it.
    if (level === o.depth && o.dropout > 0) x = apply(block, tfl.layers.dropout({ name: `${block}_dropout`, rate: o.dropout }), x);
    skips[level] = x;
    x = apply(block, tfl.layers.maxPooling2d({ name: `${block}_pool`, poolSize: 2, strides: 2 }), x);
  }

  // milesial's bilinear variant halves the channels from the bottleneck on (its `factor = 2`), since no
  // conv after the resize can halve them; the decoder's first conv keeps the level's width, the second
  // halves it for the next level up.
  const milesial = o.upsample === 'milesial-bilinear';
  const bottleneckFilters = milesial ? filtersAt(o.depth) : filtersAt(o.depth + 1);
  x = convUnit('bottleneck', 1, bottleneckFilters, x);
  x = convUnit('bottleneck', 2, bottleneckFilters, x);
  if (o.dropout > 0) x = apply('bottleneck', tfl.layers.dropout({ name: 'bottleneck_dropout', rate: o.dropout }), x);

  for (let level = o.depth; level >= 1; level--) {
    const block = `dec${level}`;
    const f = filtersAt(level);
    let up: SymbolicTensor;
    if (o.upsample === 'transpose') {
      // The course up-samples with a 3x3 transposed conv; Ronneberger's "up-convolution" (classic, bn) is 2x2.
      const k = o.arch === 'course' ? 3 : 2;
      const name = `${block}_up`;
      up = apply(block, tfl.layers.conv2dTranspose({ name, filters: f, kernelSize: k, strides: 2, padding: 'same', kernelInitializer: glorot(name) }), x);
    } else if (milesial) {
      // nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True), and nothing after it.
      up = apply(block, new ResizeBilinear2x({ name: `${block}_up`, alignCorners: true }), x);
    } else {
      up = apply(block, tfl.layers.upSampling2d({ name: `${block}_up`, size: [2, 2], interpolation: 'bilinear' }), x);
      const name = `${block}_upconv`;
      up = apply(block, tfl.layers.conv2d({ name, filters: f, kernelSize: 3, padding: 'same', kernelInitializer: glorot(name) }), up);
    }
    x = apply(block, tfl.layers.concatenate({ name: `${block}_concat`, axis: -1 }), [up, skips[level]]);
    x = convUnit(block, 1, f, x);
    x = convUnit(block, 2, milesial && level > 1 ? filtersAt(level - 1) : f, x);
  }

  if (o.arch === 'course') {
    x = apply(
      'head',
      tfl.layers.conv2d({
        name: 'head_conv',
        filters: o.filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: heNormal('head_conv'),
      }),
      x,
    );
  }
  x = apply(
    'head',
    tfl.layers.conv2d({ name: 'head_logits', filters: o.classes, kernelSize: 1, padding: 'same', kernelInitializer: glorot('head_logits') }),
    x,
  );

  const model = tfl.model({ name: `unet_${o.arch}`, inputs: inputLayer, outputs: x });
  return { model, options: o, layerMap: LayerMap.fromAssignments(model, o.depth, blockOf, 'buildUNet') };
}
