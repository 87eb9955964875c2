// Times the training step and the forward pass of a U-Net on the current backend: the engine's yardstick.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { convPhaseTimes, getPrecision, profiler, setPrecision, type ConvPhaseTimes, type KernelRecord, type Precision } from '../src/engine/index.js';
import { buildUNet, isEncoderArch, loadModelFolder, trainingStepFlops, type Arch, type UNet } from '../src/model/index.js';
import { forwardTo, stepLoss } from '../src/train/fused_logits.js';
import { makeLoss } from '../src/train/losses/index.js';
import { FusedAdam } from '../src/train/optimizers/fused_adam.js';
import { UserError } from '../src/util/errors.js';

export interface StepBenchOptions {
  /** The U-Net to time (default course); encoder archs use their reference widths (filters is ignored). */
  arch?: Arch;
  filters: number;
  classes: number;
  batch: number;
  height: number;
  width: number;
  steps: number;
  warmup: number;
  profile: boolean;
  /** The convolutions' precision (default fp32); the engine's setting is put back afterwards. */
  precision?: Precision;
}

export interface StepBenchResult {
  parameters: number;
  step_ms: number;
  forward_ms: number;
  gflop_per_step: number;
  gflops: number;
  precision: Precision;
  /** Every timed step, in order. */
  step_times_ms: number[];
  /** Minor page faults per timed step (first touches of fresh memory: ~12 µs each on some VMs). */
  page_faults_per_step: number;
  /** The native conv kernels' time per timed step, by phase (convPhaseTimes). */
  conv_phases_ms: ConvPhaseTimes;
  /** Per kernel, the mean of `profile_steps` profiled steps (after the timed ones). */
  profile?: KernelRecord[];
  profile_steps?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeMs(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export function benchTrainingStep(o: StepBenchOptions): StepBenchResult {
  return withBenchUNet(o, (model, flops) => benchModelStep(model, o, flops));
}

type BenchUNetOptions = Pick<StepBenchOptions, 'arch' | 'filters' | 'classes' | 'height' | 'width'>;

/** The U-Net that bench times for `o`, seeded, so that every bench times the same weights. */
export function buildBenchUNet(o: BenchUNetOptions): UNet {
  const arch = o.arch ?? 'course';
  return buildUNet({ arch, ...(isEncoderArch(arch) ? {} : { filters: o.filters }), classes: o.classes, input: [o.height, o.width, 3], seed: 1 });
}

/** Runs `time` on the bench U-Net of `o` with its FLOPs per step, then disposes the model. */
export function withBenchUNet<T>(o: BenchUNetOptions & Pick<StepBenchOptions, 'batch'>, time: (model: tfl.LayersModel, flops: number) => T): T {
  const unet = buildBenchUNet(o);
  try {
    return time(unet.model, trainingStepFlops(unet, o.batch).total);
  } finally {
    unet.model.dispose();
  }
}

/** Times a training step of the model in folder `dir` (any architecture: its input size and classes are the model's). */
export async function benchModelFolder(dir: string, o: ModelStepBenchOptions): Promise<StepBenchResult> {
  const folder = await loadModelFolder(dir);
  try {
    return benchModelStep(folder.model, o, trainingStepFlops(folder, o.batch).total);
  } finally {
    folder.model.dispose();
  }
}

/** What timing any model's step needs: its input size comes from the model. */
export type ModelStepBenchOptions = Pick<StepBenchOptions, 'batch' | 'steps' | 'warmup' | 'profile' | 'precision'>;

/**
 * Times a training step (cross-entropy against random labels, Adam) and the forward pass of `model`, a
 * single-input segmentation model whose output is [N, H, W, classes]. `flops` (per step) gives the GFLOP/s
 * figures; without it they are 0. The caller keeps and disposes the model.
 */
export function benchModelStep(model: tfl.LayersModel, o: ModelStepBenchOptions, flops = 0): StepBenchResult {
  const precision = o.precision ?? 'fp32';
  return timeInPrecisions(model, o, flops, [precision])[precision]!;
}

/**
 * Times model's step in each of `precisions` with one StepTimer: warmed up in each, then `rounds` rounds of
 * `o.steps` steps, the precisions in turn (so that all see the same phases of a shared machine; the medians pool the
 * rounds), then the forward passes and, when `o.profile`, a profile of the last precision. The engine's precision
 * is put back afterwards; the caller keeps and disposes the model.
 */
export function timeInPrecisions(
  model: tfl.LayersModel,
  o: Omit<ModelStepBenchOptions, 'precision'>,
  flops: number,
  precisions: Precision[],
  rounds = 1,
): Partial<Record<Precision, StepBenchResult>> {
  const timer = new StepTimer(model, o.batch);
  const before = getPrecision();
  try {
    for (const p of precisions) {
      setPrecision(p);
      timer.warmUp(o.warmup);
    }
    const samples = new Map<Precision, StepSample[]>(precisions.map((p) => [p, []]));
    for (let r = 0; r < rounds; r++) {
      for (const p of precisions) {
        setPrecision(p);
        samples.get(p)!.push(timer.timeSteps(o.steps));
      }
    }
    const results: Partial<Record<Precision, StepBenchResult>> = {};
    for (const p of precisions) {
      setPrecision(p);
      const forwardTimes = timer.timeForwards(o.steps);
      const profile = o.profile && p === precisions[precisions.length - 1] ? { kernels: timer.profile(o.steps), steps: o.steps } : undefined;
      results[p] = summarizeSteps(model, flops, samples.get(p)!, forwardTimes, profile);
    }
    return results;
  } finally {
    setPrecision(before);
    timer.dispose();
  }
}

/** Timed steps and what they cost besides time. */
export interface StepSample {
  times: number[];
  /** Minor page faults over all of them. */
  faults: number;
  /** The native conv kernels' time over all of them, by phase. */
  phases: ConvPhaseTimes;
}

/**
 * A single-input segmentation model's training step (cross-entropy against random labels, Adam) and forward pass,
 * set up once and timed in as many batches of steps as asked (bench alternates them with the PyTorch peer's). The
 * model's output is [N, H, W, classes]; the caller keeps and disposes the model, and disposes the timer.
 */
export class StepTimer {
  private readonly optimizer = new FusedAdam(1e-3);
  private readonly x: tf.Tensor4D;
  private readonly y: tf.Tensor3D;
  readonly step: () => void;
  private readonly inference: () => void;

  constructor(
    readonly model: tfl.LayersModel,
    batch: number,
  ) {
    const inShape = model.inputs[0]?.shape;
    const outShape = model.outputs[0]?.shape;
    if (model.inputs.length !== 1 || model.outputs.length !== 1 || inShape?.length !== 4 || outShape?.length !== 4) {
      throw new UserError(`model ${model.name}: expected one [N, H, W, C] input and one [N, H, W, classes] output`);
    }
    const [, height, width, channels] = inShape as number[];
    const classes = outShape[3] as number;
    if (![height, width, channels, classes].every((d) => Number.isInteger(d) && d > 0))
      throw new UserError(`model ${model.name}: input or output size is not fixed (${JSON.stringify(inShape)})`);
    this.x = tf.randomNormal([batch, height, width, channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    this.y = tf.randomUniform([batch, outShape[1] as number, outShape[2] as number], 0, classes, 'int32', 8) as tf.Tensor3D;
    // The step as training makes it (train/epoch.ts): the logits layer fused with the cross-entropy.
    const plan = stepLoss(model, makeLoss('ce'));
    const forwardPass = forwardTo(model, plan);
    this.step = () => {
      const loss = this.optimizer.minimize(() => plan.loss(forwardPass(this.x), this.y), true);
      loss!.dataSync();
      loss!.dispose();
    };
    this.inference = () => {
      const out = tf.tidy(() => model.apply(this.x, { training: false }) as tf.Tensor);
      out.dataSync();
      out.dispose();
    };
  }

  warmUp(steps: number): void {
    for (let i = 0; i < steps; i++) this.step();
  }

  timeSteps(n: number): StepSample {
    convPhaseTimes(true);
    const faultsBefore = process.resourceUsage().minorPageFault;
    const times = Array.from({ length: n }, () => timeMs(this.step));
    const faults = process.resourceUsage().minorPageFault - faultsBefore;
    return { times, faults, phases: convPhaseTimes(true) };
  }

  timeForwards(n: number): number[] {
    this.inference();
    return Array.from({ length: n }, () => timeMs(this.inference));
  }

  /** Per kernel, the mean of n profiled steps (one step's kernel times vary by tens of ms here). */
  profile(n: number): KernelRecord[] {
    return meanProfile(profiler.capture(() => Array.from({ length: n }, () => this.step())).kernels, n);
  }

  dispose(): void {
    tf.dispose([this.x, this.y]);
    this.optimizer.dispose();
  }
}

/** The StepBenchResult of timed samples (medians over all their steps) in the current precision. */
export function summarizeSteps(
  model: tfl.LayersModel,
  flops: number,
  samples: StepSample[],
  forwardTimes: number[],
  profile?: { kernels: KernelRecord[]; steps: number },
): StepBenchResult {
  const stepTimes = samples.flatMap((s) => s.times);
  const steps = stepTimes.length;
  const perStep = (k: keyof ConvPhaseTimes) => round(samples.reduce((sum, s) => sum + s.phases[k], 0) / steps);
  const stepMs = median(stepTimes);
  return {
    parameters: model.countParams(),
    step_ms: round(stepMs),
    forward_ms: round(median(forwardTimes)),
    gflop_per_step: round(flops / 1e9, 2),
    gflops: round(flops / 1e9 / (stepMs / 1000)),
    precision: getPrecision(),
    step_times_ms: stepTimes.map((t) => round(t)),
    page_faults_per_step: Math.round(samples.reduce((sum, s) => sum + s.faults, 0) / steps),
    conv_phases_ms: { compute: perStep('compute'), activations: perStep('activations'), weights: perStep('weights'), gradients: perStep('gradients') },
    ...(profile ? { profile: profile.kernels, profile_steps: profile.steps } : {}),
  };
}

function meanProfile(kernels: KernelRecord[], steps: number): KernelRecord[] {
  return kernels.map((k) => ({ ...k, calls: Math.round(k.calls / steps), ms: k.ms / steps }));
}

/** This process's peak resident memory so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** v rounded to `digits` decimals. */
export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
