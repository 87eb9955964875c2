// torchvision's ResNet-18/34 (BasicBlock) as a U-Net encoder, as segmentation_models.pytorch uses it:
// the stem's ReLU output (stride 2), layer1 (4), layer2 (8), layer3 (16), layer4 (32). The max-pool
// belongs to layer1's stage. torchvision pads its stride-2 convs and the max-pool symmetrically, so they
// are built as ZeroPadding2D + a valid conv (zero padding before the max-pool is exact: its input is a
// ReLU output, never below 0). Layer names are torchvision's with `_` for `.`; source names are
// torchvision's.
import * as tfl from '@tensorflow/tfjs-layers';

import type { GraphBuilder } from '../graph-builder.js';
import type { EncoderFeatures } from './registry.js';

type SymbolicTensor = tfl.SymbolicTensor;

export const RESNET_LAYERS = { resnet18: [2, 2, 2, 2], resnet34: [3, 4, 6, 3] } as const;

const STAGES = ['enc2', 'enc3', 'enc4', 'bottleneck'] as const;

export function resNetEncoder(g: GraphBuilder, input: SymbolicTensor, o: { arch: keyof typeof RESNET_LAYERS; alpha: number }): EncoderFeatures {
  const base = Math.max(1, Math.round(64 * o.alpha));
  const bn = (block: string, name: string, x: SymbolicTensor) =>
    g.apply(block, tfl.layers.batchNormalization({ name: name.replace(/\./g, '_'), axis: -1, epsilon: 1e-5, momentum: 0.9 }), x, name);
  const conv = (block: string, name: string, x: SymbolicTensor, filters: number, kernelSize: number, stride: number) => {
    const layerName = name.replace(/\./g, '_');
    const pad = (kernelSize - 1) / 2;
    // stride 1 and an odd kernel: 'same' is torchvision's symmetric padding; stride 2 needs it explicitly.
    if (stride === 2 && pad > 0)
      x = g.apply(
        block,
        tfl.layers.zeroPadding2d({
          name: `${layerName}_pad`,
          padding: [
            [pad, pad],
            [pad, pad],
          ],
        }),
        x,
      );
    const padding = stride === 2 ? 'valid' : 'same';
    return g.apply(
      block,
      tfl.layers.conv2d({ name: layerName, filters, kernelSize, strides: stride, padding, useBias: false, kernelInitializer: g.heNormal(layerName) }),
      x,
      name,
    );
  };
  const relu = (block: string, name: string, x: SymbolicTensor, source: string) => g.apply(block, tfl.layers.reLU({ name }), x, source);

  let x = conv('enc1', 'conv1', input, base, 7, 2);
  x = bn('enc1', 'bn1', x);
  x = relu('enc1', 'relu', x, 'relu');
  const features: SymbolicTensor[] = [x];
  x = g.apply(
    'enc2',
    tfl.layers.zeroPadding2d({
      name: 'maxpool_pad',
      padding: [
        [1, 1],
        [1, 1],
      ],
    }),
    x,
  );
  x = g.apply('enc2', tfl.layers.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'valid' }), x, 'maxpool');
  let channels = base;
  RESNET_LAYERS[o.arch].forEach((blocks, s) => {
    const block = STAGES[s]!;
    const planes = base * 2 ** s;
    for (let b = 0; b < blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const p = `layer${s + 1}.${b}`;
      const q = p.replace(/\./g, '_');
      const identityIn = x;
      let y = conv(block, `${p}.conv1`, x, planes, 3, stride);
      y = bn(block, `${p}.bn1`, y);
      y = relu(block, `${q}_relu1`, y, `${p}.relu`);
      y = conv(block, `${p}.conv2`, y, planes, 3, 1);
      y = bn(block, `${p}.bn2`, y);
      let identity = identityIn;
      if (stride !== 1 || channels !== planes) {
        identity = conv(block, `${p}.downsample.0`, identityIn, planes, 1, stride);
        identity = bn(block, `${p}.downsample.1`, identity);
      }
      x = g.apply(block, tfl.layers.add({ name: `${q}_add` }), [y, identity]);
      x = relu(block, `${q}_relu2`, x, `${p}.relu`);
      channels = planes;
    }
    features.push(x);
  });
  return features as EncoderFeatures;
}
