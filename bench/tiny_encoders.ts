// Small networks made of the layers of a MobileNetV2 U-Net (TensorFlow's tutorial) and of a ResNet U-Net
// (segmentation_models.pytorch style): the engine's yardsticks for those layers' kernels, in tests (native vs
// cpu) and in `bench`. Not the architectures themselves (src/model builds those); the same layer types, fewer
// and narrower blocks.
import * as tfl from '@tensorflow/tfjs-layers';

export type TinyEncoder = 'mobilenetv2' | 'resnet';
export const TINY_ENCODERS: readonly TinyEncoder[] = ['mobilenetv2', 'resnet'];

export interface TinyEncoderOptions {
  encoder: TinyEncoder;
  /** [H, W, C]; H and W multiples of 16. */
  input: [number, number, number];
  classes: number;
  /** Channel multiplier (1 = the widths below). */
  width?: number;
  seed?: number;
}

type Sym = tfl.SymbolicTensor;
type Init = ReturnType<typeof tfl.initializers.glorotUniform>;

/** A seeded initialiser per layer, so that every build of the same options has the same weights. */
function seeded(seed: number) {
  let n = 0;
  return () => tfl.initializers.glorotUniform({ seed: seed * 1000 + n++ });
}

/** Conv (or depthwise conv) without bias -> BatchNormalization (training mode when training). */
function bn(x: Sym, name: string): Sym {
  return tfl.layers.batchNormalization({ name, epsilon: 1e-3, momentum: 0.99 }).apply(x) as Sym;
}

/**
 * MobileNetV2's inverted residual block: 1x1 expand -> BN -> ReLU6, 3x3 depthwise -> BN -> ReLU6, 1x1
 * project -> BN, plus the input when shapes agree. Stride 2 pads explicitly then runs 'valid', asymmetric
 * (Keras: ZeroPadding2D ((0,1),(0,1)) at even sizes) or symmetric (torchvision) by `symmetric`.
 */
function invertedResidual(x: Sym, init: () => Init, name: string, expand: number, out: number, stride: 1 | 2, symmetric: boolean): Sym {
  const inC = x.shape[3]!;
  let h = tfl.layers.conv2d({ name: `${name}_expand`, filters: inC * expand, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(x) as Sym;
  h = bn(h, `${name}_expand_BN`);
  h = tfl.layers.reLU({ name: `${name}_expand_relu`, maxValue: 6 }).apply(h) as Sym;
  if (stride === 2) {
    const padding: [[number, number], [number, number]] = symmetric
      ? [
          [1, 1],
          [1, 1],
        ]
      : [
          [0, 1],
          [0, 1],
        ];
    h = tfl.layers.zeroPadding2d({ name: `${name}_pad`, padding }).apply(h) as Sym;
  }
  h = tfl.layers
    .depthwiseConv2d({
      name: `${name}_depthwise`,
      kernelSize: 3,
      strides: stride,
      padding: stride === 2 ? 'valid' : 'same',
      useBias: false,
      depthwiseInitializer: init(),
    })
    .apply(h) as Sym;
  h = bn(h, `${name}_depthwise_BN`);
  // Keras' layer (ReLU(6.)) and its Activation('relu6') compute the same: both kinds run here.
  h = (
    symmetric
      ? tfl.layers.activation({ name: `${name}_depthwise_relu`, activation: 'relu6' })
      : tfl.layers.reLU({ name: `${name}_depthwise_relu`, maxValue: 6 })
  ).apply(h) as Sym;
  h = tfl.layers.conv2d({ name: `${name}_project`, filters: out, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(h) as Sym;
  h = bn(h, `${name}_project_BN`);
  if (stride === 1 && inC === out) h = tfl.layers.add({ name: `${name}_add` }).apply([x, h]) as Sym;
  return h;
}

/** ResNet's BasicBlock: conv3x3 -> BN -> ReLU -> conv3x3 -> BN, + identity (or 1x1 stride-2 conv -> BN), ReLU. */
function basicBlock(x: Sym, init: () => Init, name: string, out: number, stride: 1 | 2): Sym {
  const conv = (h: Sym, n: string, k: number, s: number) => {
    if (s === 2 && k === 3) h = tfl.layers.zeroPadding2d({ name: `${n}_pad`, padding: 1 }).apply(h) as Sym;
    const padding = s === 2 ? 'valid' : 'same';
    return tfl.layers.conv2d({ name: n, filters: out, kernelSize: k, strides: s, padding, useBias: false, kernelInitializer: init() }).apply(h) as Sym;
  };
  let h = bn(conv(x, `${name}_conv1`, 3, stride), `${name}_bn1`);
  h = tfl.layers.activation({ name: `${name}_relu1`, activation: 'relu' }).apply(h) as Sym;
  h = bn(conv(h, `${name}_conv2`, 3, 1), `${name}_bn2`);
  let skip = x;
  if (stride === 2 || x.shape[3] !== out) skip = bn(conv(x, `${name}_down`, 1, stride), `${name}_down_bn`);
  h = tfl.layers.add({ name: `${name}_add` }).apply([h, skip]) as Sym;
  return tfl.layers.activation({ name: `${name}_relu2`, activation: 'relu' }).apply(h) as Sym;
}

/** pix2pix's up block: Conv2DTranspose 3x3 stride 2 without bias -> BN -> ReLU, concatenated with the skip. */
function pix2pixUp(x: Sym, skip: Sym, init: () => Init, name: string, filters: number): Sym {
  let h = tfl.layers
    .conv2dTranspose({ name: `${name}_deconv`, filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init() })
    .apply(x) as Sym;
  h = bn(h, `${name}_bn`);
  h = tfl.layers.activation({ name: `${name}_relu`, activation: 'relu' }).apply(h) as Sym;
  return tfl.layers.concatenate({ name: `${name}_concat` }).apply([h, skip]) as Sym;
}

/** smp's decoder block: nearest x2 -> concatenate -> (conv3x3 without bias -> BN -> ReLU) x 2. */
function smpUp(x: Sym, skip: Sym | null, init: () => Init, name: string, filters: number): Sym {
  let h = tfl.layers.upSampling2d({ name: `${name}_up`, size: [2, 2], interpolation: 'nearest' }).apply(x) as Sym;
  if (skip) h = tfl.layers.concatenate({ name: `${name}_concat` }).apply([h, skip]) as Sym;
  for (const i of [1, 2]) {
    h = tfl.layers.conv2d({ name: `${name}_conv${i}`, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init() }).apply(h) as Sym;
    h = bn(h, `${name}_bn${i}`);
    h = tfl.layers.activation({ name: `${name}_relu${i}`, activation: 'relu' }).apply(h) as Sym;
  }
  return h;
}

/** A tiny U-Net on a MobileNetV2-like or ResNet-like encoder (output stride 16 at the bottleneck). */
export function buildTinyEncoderUNet(o: TinyEncoderOptions): tfl.LayersModel {
  const [H, W] = o.input;
  if (H % 16 !== 0 || W % 16 !== 0) throw new Error(`tiny encoder U-Net: input ${H}x${W} is not a multiple of 16`);
  const k = o.width ?? 1;
  const c = (n: number) => Math.max(1, Math.round(n * k));
  const init = seeded(o.seed ?? 1);
  {
    const input = tfl.input({ shape: o.input, name: 'input' });
    let out: Sym;
    if (o.encoder === 'mobilenetv2') {
      // Stem: Keras pads ((0,1),(0,1)) then a valid 3x3 stride-2 conv.
      let h = tfl.layers
        .zeroPadding2d({
          name: 'Conv1_pad',
          padding: [
            [0, 1],
            [0, 1],
          ],
        })
        .apply(input) as Sym;
      h = tfl.layers
        .conv2d({ name: 'Conv1', filters: c(16), kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: init() })
        .apply(h) as Sym;
      h = bn(h, 'bn_Conv1');
      const s2 = tfl.layers.reLU({ name: 'Conv1_relu', maxValue: 6 }).apply(h) as Sym; // /2
      h = invertedResidual(s2, init, 'block_1', 4, c(16), 2, false); // /4
      const s4 = invertedResidual(h, init, 'block_2', 4, c(16), 1, false);
      h = invertedResidual(s4, init, 'block_3', 4, c(24), 2, true); // /8 (symmetric, torchvision style)
      const s8 = invertedResidual(h, init, 'block_4', 4, c(24), 1, true);
      h = invertedResidual(s8, init, 'block_5', 4, c(32), 2, false); // /16
      h = invertedResidual(h, init, 'block_6', 4, c(32), 1, false);
      h = pix2pixUp(h, s8, init, 'up_1', c(32));
      h = pix2pixUp(h, s4, init, 'up_2', c(24));
      h = pix2pixUp(h, s2, init, 'up_3', c(16));
      out = tfl.layers
        .conv2dTranspose({ name: 'head', filters: o.classes, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init() })
        .apply(h) as Sym;
    } else {
      // Stem: torchvision's conv1 (7x7 stride 2, padding 3) -> BN -> ReLU, max-pool 3x3 stride 2 padding 1.
      let h = tfl.layers.zeroPadding2d({ name: 'conv1_pad', padding: 3 }).apply(input) as Sym;
      h = tfl.layers
        .conv2d({ name: 'conv1', filters: c(16), kernelSize: 7, strides: 2, padding: 'valid', useBias: false, kernelInitializer: init() })
        .apply(h) as Sym;
      h = bn(h, 'bn1');
      const s2 = tfl.layers.activation({ name: 'relu', activation: 'relu' }).apply(h) as Sym; // /2
      h = tfl.layers.zeroPadding2d({ name: 'maxpool_pad', padding: 1 }).apply(s2) as Sym;
      h = tfl.layers.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'valid' }).apply(h) as Sym; // /4
      const s4 = basicBlock(h, init, 'layer1_0', c(16), 1);
      h = basicBlock(s4, init, 'layer2_0', c(32), 2); // /8
      const s8 = basicBlock(h, init, 'layer2_1', c(32), 1);
      h = basicBlock(s8, init, 'layer3_0', c(64), 2); // /16
      h = smpUp(h, s8, init, 'dec3', c(32));
      h = smpUp(h, s4, init, 'dec2', c(16));
      h = smpUp(h, s2, init, 'dec1', c(16));
      h = smpUp(h, null, init, 'dec0', c(8));
      out = tfl.layers.conv2d({ name: 'head', filters: o.classes, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(h) as Sym;
    }
    return tfl.model({ inputs: input, outputs: out, name: `tiny_${o.encoder}_unet` });
  }
}
