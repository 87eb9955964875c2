// Times the training step and the forward pass of a U-Net on the current backend: the engine's yardstick.
import * as tf from '@tensorflow/tfjs-core';

import { getPrecision, profiler, setPrecision, type KernelRecord, type Precision } from '../engine/index.js';
import { buildUNet, trainingStepFlops } from '../model/index.js';
import { forwardTo, stepLoss } from '../train/fused_logits.js';
import { makeLoss } from '../train/losses/index.js';
import { FusedAdam } from '../train/optimizers/fused_adam.js';

export interface StepBenchOptions {
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
  profile?: KernelRecord[];
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
  const before = getPrecision();
  setPrecision(o.precision ?? 'fp32');
  try {
    return timeTrainingStep(o);
  } finally {
    setPrecision(before);
  }
}

function timeTrainingStep(o: StepBenchOptions): StepBenchResult {
  const unet = buildUNet({ arch: 'course', filters: o.filters, classes: o.classes, input: [o.height, o.width, 3], seed: 1 });
  const model = unet.model;
  const optimizer = new FusedAdam(1e-3);
  const x = tf.randomNormal([o.batch, o.height, o.width, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = tf.randomUniform([o.batch, o.height, o.width], 0, o.classes, 'int32', 8) as tf.Tensor3D;

  // The step as training makes it (train/epoch.ts): the logits layer fused with the cross-entropy.
  const plan = stepLoss(model, makeLoss('ce'));
  const forwardPass = forwardTo(model, plan);
  const forward = () => forwardPass(x);
  const step = () => {
    const loss = optimizer.minimize(() => plan.loss(forward(), y), true);
    loss!.dataSync();
    loss!.dispose();
  };
  const inference = () => {
    const out = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    out.dataSync();
    out.dispose();
  };

  for (let i = 0; i < o.warmup; i++) step();
  const stepTimes = Array.from({ length: o.steps }, () => timeMs(step));
  inference();
  const forwardTimes = Array.from({ length: o.steps }, () => timeMs(inference));
  const profile = o.profile ? profiler.capture(step).kernels : undefined;

  const flops = trainingStepFlops(unet, o.batch).total;
  const stepMs = median(stepTimes);
  const result: StepBenchResult = {
    parameters: model.countParams(),
    step_ms: round(stepMs),
    forward_ms: round(median(forwardTimes)),
    gflop_per_step: round(flops / 1e9, 2),
    gflops: round(flops / 1e9 / (stepMs / 1000)),
    precision: getPrecision(),
    step_times_ms: stepTimes.map((t) => round(t)),
    profile,
  };
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return result;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
