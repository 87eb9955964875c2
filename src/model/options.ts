// The U-Net family's options (arch, depth, filters, classes, input, dropout, up-sampling, seed), their
// defaults and their validation. Every error names the option and what would be valid.
import { UserError } from '../util/errors.js';

/** U-Nets whose encoder is built here from plain conv blocks. */
export const PLAIN_ARCHS = ['course', 'classic', 'bn'] as const;
/** U-Nets on an ImageNet backbone (see encoders/): a fixed depth of 4 poolings, stage widths set by the backbone. */
export const ENCODER_ARCHS = ['mobilenetv2', 'resnet18', 'resnet34'] as const;
export const ARCHS = [...PLAIN_ARCHS, ...ENCODER_ARCHS] as const;
export type Arch = (typeof ARCHS)[number];
export type EncoderArch = (typeof ENCODER_ARCHS)[number];

export function isEncoderArch(arch: string): arch is EncoderArch {
  return (ENCODER_ARCHS as readonly string[]).includes(arch);
}

/**
 * Whose conventions an encoder follows: `keras` (Keras applications: 'same' padding, which pads stride-2
 * convs on the bottom/right only, BatchNorm epsilon 1e-3) or `torchvision` (symmetric padding by explicit
 * ZeroPadding2D before valid convs, BatchNorm epsilon 1e-5). ResNets are torchvision's only.
 */
export const FLAVOURS = ['keras', 'torchvision'] as const;
export type Flavour = (typeof FLAVOURS)[number];

/**
 * How pixel values v in [0, 255] become model inputs: (v / 255 - mean[c]) / std[c]. `name` says which
 * convention it is: `unit` ([0, 1]), `symmetric` ([-1, 1], Keras' MobileNetV2 preprocess_input),
 * `imagenet` (torchvision's ImageNet mean and std).
 */
export interface InputNormalization {
  name: 'unit' | 'symmetric' | 'imagenet';
  mean: number[];
  std: number[];
}

export function namedNormalization(name: InputNormalization['name'], channels: number): InputNormalization {
  if (name === 'imagenet') {
    if (channels !== 3) throw new UserError(`input normalisation imagenet needs 3 input channels, the model has ${channels}`);
    return { name, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  }
  const [m, s] = name === 'symmetric' ? [0.5, 0.5] : [0, 1];
  return { name, mean: Array<number>(channels).fill(m), std: Array<number>(channels).fill(s) };
}

/** What data loaders take (SampleOptions.normalize): undefined for [0, 1], which they do by default. */
export function sampleNormalizationOf(o: { arch: string; inputNormalization?: InputNormalization }): { mean: number[]; std: number[] } | undefined {
  const n = o.inputNormalization;
  return n && n.name !== 'unit' ? { mean: [...n.mean], std: [...n.std] } : undefined;
}

/** The normalisation a model expects: the one recorded, else [0, 1] (every model before encoder U-Nets). */
export function inputNormalizationOf(o: { input: readonly number[]; inputNormalization?: InputNormalization }): InputNormalization {
  return o.inputNormalization ?? namedNormalization('unit', o.input[2] ?? 3);
}

/**
 * `transpose`: a transposed conv; `bilinear`: a bilinear resize (TF.js's, corners not aligned) followed by
 * a 3x3 conv; `milesial-bilinear` (bn only): the bilinear variant of milesial/Pytorch-UNet, i.e. an
 * align-corners bilinear resize with no conv after it, a bottleneck of filters * 2^(depth-1) channels and
 * decoder blocks whose second conv halves the channels (except dec1), so that its checkpoints import exactly;
 * `nearest` (resnet18/34 only): segmentation_models.pytorch's nearest x2 up-sampling, no conv.
 */
export const UPSAMPLES = ['transpose', 'bilinear', 'milesial-bilinear', 'nearest'] as const;
export type Upsample = (typeof UPSAMPLES)[number];

export const MIN_DEPTH = 2;
export const MAX_DEPTH = 5;

/** A fully resolved set of options: what `buildUNet` built, and what unet.json records. */
export interface UNetOptions {
  /**
   * `course`: the Deep Learning Specialization U-Net (3x3 transposed-conv up-sampling, dropout in the
   * deepest encoder block and the bottleneck, a 3x3 conv before the 1x1 logits);
   * `classic`: Ronneberger-style (2x2 up-convolution halving the channels, no dropout, 1x1 logits);
   * `bn`: every conv followed by BatchNormalization then ReLU (the widely used PyTorch U-Net).
   */
  arch: Arch;
  /** Number of pooling steps: blocks enc1..encD, bottleneck, decD..dec1, head. */
  depth: number;
  /**
   * Filters of enc1; level L has filters * 2^(L-1), the bottleneck filters * 2^depth (2^(depth-1) with
   * milesial-bilinear). Encoder archs: the width of the decoder's shallowest block (mobilenetv2 dec1, 64;
   * resnet the full-resolution block in head, 16), doubling going down.
   */
  filters: number;
  /** Number of output classes (channels of the logits). */
  classes: number;
  /** Input size [height, width, channels]; height and width are multiples of 2^depth. */
  input: [number, number, number];
  /** Dropout rate in encD and the bottleneck (0 = no dropout layer). */
  dropout: number;
  /** How the decoder up-samples (see UPSAMPLES): a transposed conv, a bilinear resize + conv, or milesial's bilinear variant. */
  upsample: Upsample;
  /** Seed of the deterministic weight initialisation (the same seed gives bitwise the same weights). */
  seed: number;
  /** Encoder archs: width multiplier of the backbone (Keras MobileNetV2's alpha; ResNet stage widths 64·alpha..512·alpha). */
  alpha?: number;
  /** Encoder archs: Keras or torchvision conventions (padding, BatchNorm epsilon); see FLAVOURS. */
  flavour?: Flavour;
  /** Encoder archs: what the backbone's weights expect as input (absent: [0, 1]). */
  inputNormalization?: InputNormalization;
}

export type UNetOptionsInput = Partial<UNetOptions>;

export const DEFAULTS = { arch: 'course', depth: 4, filters: 32, classes: 23, input: [96, 128, 3] } as const;

/** The default dropout rate of each architecture (the course's 0.3; none for the others). */
export function defaultDropout(arch: Arch): number {
  return arch === 'course' ? 0.3 : 0;
}

/** Parses `96x128x3` (or `96x128`, meaning 3 channels) into [H, W, C]. */
export function parseInputSize(text: string, what = '--input'): [number, number, number] {
  const m = /^\s*(\d+)\s*[xX,]\s*(\d+)\s*(?:[xX,]\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new UserError(`${what} must look like HxWxC, e.g. 96x128x3; got ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2]), m[3] === undefined ? 3 : Number(m[3])];
}

export function formatInputSize(input: readonly number[]): string {
  return input.join('x');
}

/** The multiple of `step` nearest to `n` (at least `step`; ties go up). */
function nearestMultiple(n: number, step: number): number {
  return Math.max(step, Math.round(n / step) * step);
}

/** The defaults of the encoder U-Nets: TensorFlow's segmentation tutorial, and smp's Unet. */
export const ENCODER_DEFAULTS: Record<EncoderArch, { filters: number; input: [number, number, number]; upsample: Upsample; flavour: Flavour }> = {
  mobilenetv2: { filters: 64, input: [128, 128, 3], upsample: 'transpose', flavour: 'keras' },
  resnet18: { filters: 16, input: [128, 128, 3], upsample: 'nearest', flavour: 'torchvision' },
  resnet34: { filters: 16, input: [128, 128, 3], upsample: 'nearest', flavour: 'torchvision' },
};

/** An encoder U-Net always has 5 stages (strides 2..32): depth 4, sizes multiples of 32. */
export const ENCODER_DEPTH = 4;

function resolveEncoderOptions(arch: EncoderArch, input: UNetOptionsInput): UNetOptions {
  const d = ENCODER_DEFAULTS[arch];
  if (input.depth !== undefined && input.depth !== ENCODER_DEPTH)
    throw new UserError(`depth: ${arch} has a fixed depth of ${ENCODER_DEPTH} (encoder strides 2 to 32), got ${input.depth}`);
  const filters = input.filters ?? d.filters;
  if (!Number.isInteger(filters) || filters < 1 || filters > 1024) throw new UserError(`filters must be an integer from 1 to 1024, got ${filters}`);
  const classes = input.classes ?? DEFAULTS.classes;
  if (!Number.isInteger(classes) || classes < 1 || classes > 65536) throw new UserError(`classes must be an integer from 1 to 65536, got ${classes}`);
  const size = input.input ?? [...d.input];
  if (size.length !== 3 || size.some((v) => !Number.isInteger(v) || v < 1))
    throw new UserError(`input must be three positive integers HxWxC, got ${JSON.stringify(size)}`);
  const [h, w, c] = size;
  if (c > 4096) throw new UserError(`input has ${c} channels; at most 4096 are supported`);
  if (h % 32 !== 0 || w % 32 !== 0) {
    throw new UserError(
      `input ${formatInputSize(size)} does not fit ${arch}: height and width must be multiples of 32 (encoder stride 32); nearest valid size: ${formatInputSize([nearestMultiple(h, 32), nearestMultiple(w, 32), c])}`,
    );
  }
  if (h * w > 16384 * 16384) throw new UserError(`input ${formatInputSize(size)} is too large`);
  if (input.dropout !== undefined && input.dropout !== 0)
    throw new UserError(`dropout: ${arch} has no dropout layers (as in its reference), got ${input.dropout}`);
  const upsample = input.upsample ?? d.upsample;
  if (upsample !== d.upsample) throw new UserError(`upsample: ${arch} up-samples by ${d.upsample} (as in its reference), got ${JSON.stringify(upsample)}`);
  const alpha = input.alpha ?? 1;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 4)) throw new UserError(`alpha must be a width multiplier in (0, 4], got ${alpha}`);
  const flavour = input.flavour ?? d.flavour;
  if (!FLAVOURS.includes(flavour)) throw new UserError(`flavour must be one of ${FLAVOURS.join(', ')}, got ${JSON.stringify(flavour)}`);
  if (arch !== 'mobilenetv2' && flavour !== 'torchvision')
    throw new UserError(`flavour: ${arch} is torchvision's ResNet (symmetric padding); flavour keras is for mobilenetv2 only`);
  const seed = input.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UserError(`seed must be an integer from 0 to ${2 ** 32 - 1}, got ${seed}`);
  const norm = input.inputNormalization ?? namedNormalization(flavour === 'keras' ? 'symmetric' : 'imagenet', c);
  if (
    !norm ||
    !['unit', 'symmetric', 'imagenet'].includes(norm.name) ||
    !Array.isArray(norm.mean) ||
    !Array.isArray(norm.std) ||
    norm.mean.length !== c ||
    norm.std.length !== c ||
    norm.std.some((v) => !(v > 0)) ||
    norm.mean.some((v) => !Number.isFinite(v))
  ) {
    throw new UserError(`inputNormalization must be {name, mean, std} with ${c} means and ${c} positive stds, got ${JSON.stringify(norm)}`);
  }
  return { arch, depth: ENCODER_DEPTH, filters, classes, input: [h, w, c], dropout: 0, upsample, seed, alpha, flavour, inputNormalization: norm };
}

/** Checks and completes options; throws a UserError naming the option at fault. */
export function resolveOptions(input: UNetOptionsInput = {}): UNetOptions {
  const arch = input.arch ?? DEFAULTS.arch;
  if (!ARCHS.includes(arch)) throw new UserError(`arch must be one of ${ARCHS.join(', ')}, got ${JSON.stringify(arch)}`);
  if (isEncoderArch(arch)) return resolveEncoderOptions(arch, input);
  for (const k of ['alpha', 'flavour', 'inputNormalization'] as const) {
    if (input[k] !== undefined) throw new UserError(`${k} is an option of the encoder archs (${ENCODER_ARCHS.join(', ')}), not of ${arch}`);
  }
  const depth = input.depth ?? DEFAULTS.depth;
  if (!Number.isInteger(depth) || depth < MIN_DEPTH || depth > MAX_DEPTH) {
    throw new UserError(`depth must be an integer from ${MIN_DEPTH} to ${MAX_DEPTH}, got ${depth}`);
  }
  const filters = input.filters ?? DEFAULTS.filters;
  if (!Number.isInteger(filters) || filters < 1 || filters > 1024) throw new UserError(`filters must be an integer from 1 to 1024, got ${filters}`);
  if (filters * 2 ** depth > 65536)
    throw new UserError(`filters ${filters} at depth ${depth} gives a ${filters * 2 ** depth}-channel bottleneck; use fewer filters or a smaller depth`);
  const classes = input.classes ?? DEFAULTS.classes;
  if (!Number.isInteger(classes) || classes < 1 || classes > 65536) throw new UserError(`classes must be an integer from 1 to 65536, got ${classes}`);
  const size = input.input ?? [...DEFAULTS.input];
  if (size.length !== 3 || size.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new UserError(`input must be three positive integers HxWxC, got ${JSON.stringify(size)}`);
  }
  const [h, w, c] = size;
  if (c > 4096) throw new UserError(`input has ${c} channels; at most 4096 are supported`);
  const step = 2 ** depth;
  if (h % step !== 0 || w % step !== 0) {
    const valid = [nearestMultiple(h, step), nearestMultiple(w, step), c];
    throw new UserError(
      `input ${formatInputSize(size)} does not fit depth ${depth}: height and width must be multiples of 2^${depth} = ${step}; nearest valid size: ${formatInputSize(valid)}`,
    );
  }
  if (h * w > 16384 * 16384) throw new UserError(`input ${formatInputSize(size)} is too large`);
  const dropout = input.dropout ?? defaultDropout(arch);
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new UserError(`dropout must be a rate in [0, 1), got ${dropout}`);
  const upsample = input.upsample ?? 'transpose';
  if (!UPSAMPLES.includes(upsample)) throw new UserError(`upsample must be one of ${UPSAMPLES.join(', ')}, got ${JSON.stringify(upsample)}`);
  if (upsample === 'milesial-bilinear' && arch !== 'bn') {
    throw new UserError(
      `upsample milesial-bilinear is the bilinear variant of milesial/Pytorch-UNet, whose convs are conv -> BatchNorm -> ReLU: use it with options.arch bn, not options.arch ${arch}`,
    );
  }
  if (upsample === 'nearest')
    throw new UserError(`upsample nearest is segmentation_models.pytorch's decoder, for the resnet archs; use transpose or bilinear with arch ${arch}`);
  if (arch === 'course' && upsample !== 'transpose') {
    throw new UserError(
      'upsample bilinear is not part of the course U-Net (it up-samples by a 3x3 transposed conv); use options.arch bn or options.arch classic for bilinear up-sampling',
    );
  }
  const seed = input.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UserError(`seed must be an integer from 0 to ${2 ** 32 - 1}, got ${seed}`);
  return { arch, depth, filters, classes, input: [h, w, c], dropout, upsample, seed };
}
