// The U-Net family's options (arch, depth, filters, classes, input, dropout, up-sampling, seed), their
// defaults and their validation. Every error names the option and what would be valid.
import { UserError } from '../util/errors.js';

export const ARCHS = ['course', 'classic', 'bn'] as const;
export type Arch = (typeof ARCHS)[number];

/**
 * `transpose`: a transposed conv; `bilinear`: a bilinear resize (TF.js's, corners not aligned) followed by
 * a 3x3 conv; `milesial-bilinear` (bn only): the bilinear variant of milesial/Pytorch-UNet, i.e. an
 * align-corners bilinear resize with no conv after it, a bottleneck of filters * 2^(depth-1) channels and
 * decoder blocks whose second conv halves the channels (except dec1), so that its checkpoints import exactly.
 */
export const UPSAMPLES = ['transpose', 'bilinear', 'milesial-bilinear'] as const;
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
  /** Filters of enc1; level L has filters * 2^(L-1), the bottleneck filters * 2^depth (2^(depth-1) with milesial-bilinear). */
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

/** Checks and completes options; throws a UserError naming the option at fault. */
export function resolveOptions(input: UNetOptionsInput = {}): UNetOptions {
  const arch = input.arch ?? DEFAULTS.arch;
  if (!ARCHS.includes(arch)) throw new UserError(`arch must be one of ${ARCHS.join(', ')}, got ${JSON.stringify(arch)}`);
  const depth = input.depth ?? DEFAULTS.depth;
  if (!Number.isInteger(depth) || depth < MIN_DEPTH || depth > MAX_DEPTH) {
    throw new UserError(`depth must be an integer from ${MIN_DEPTH} to ${MAX_DEPTH}, got ${depth}`);
  }
  const filters = input.filters ?? DEFAULTS.filters;
  if (!Number.isInteger(filters) || filters < 1 || filters > 1024) throw new UserError(`filters must be an integer from 1 to 1024, got ${filters}`);
  if (filters * 2 ** depth > 65536) throw new UserError(`filters ${filters} at depth ${depth} gives a ${filters * 2 ** depth}-channel bottleneck; use fewer filters or a smaller depth`);
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
    throw new UserError(`upsample milesial-bilinear is the bilinear variant of milesial/Pytorch-UNet, whose convs are conv -> BatchNorm -> ReLU: use it with options.arch bn, not options.arch ${arch}`);
  }
  if (arch === 'course' && upsample !== 'transpose') {
    throw new UserError('upsample bilinear is not part of the course U-Net (it up-samples by a 3x3 transposed conv); use options.arch bn or options.arch classic for bilinear up-sampling');
  }
  const seed = input.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UserError(`seed must be an integer from 0 to ${2 ** 32 - 1}, got ${seed}`);
  return { arch, depth, filters, classes, input: [h, w, c], dropout, upsample, seed };
}
