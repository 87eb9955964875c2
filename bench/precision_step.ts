// The training step timed in fp32 and, where asked and possible, in bf16 mixed precision, alternating rounds in
// one process so that both see the same phases of a shared machine.
import type * as tfl from '@tensorflow/tfjs-layers';

import {
  convImplementations,
  cpuCapabilities,
  PRECISION_SETTINGS,
  resolvePrecision,
  type CpuCapabilities,
  type Precision,
  type PrecisionSetting,
} from '../src/engine/index.js';
import { loadModelFolder, trainingStepFlops } from '../src/model/index.js';
import { checkChoice } from '../src/util/check_options.js';
import { timeInPrecisions, withBenchUNet, type ModelStepBenchOptions, type StepBenchOptions, type StepBenchResult } from './train_step.js';

export interface PrecisionStepResult {
  requested: PrecisionSetting;
  /** What `requested` means on this CPU (auto: bf16 where supported). */
  precision: Precision;
  cpu: CpuCapabilities;
  /** The step in fp32, always (the baseline). */
  fp32: StepBenchResult;
  /** The step in bf16, when the precision is bf16. */
  bf16?: StepBenchResult;
  /** bf16 step / fp32 step (median over all rounds' steps), when the precision is bf16. */
  bf16_vs_fp32?: number;
  /** oneDNN implementations the bf16 convolutions ran (implementation name -> primitives). */
  bf16_impls?: Record<string, number>;
}

/** The precision field of the bench options: fp32 (default), bf16 (an OptionError on a CPU without it) or auto. */
export interface PrecisionBenchOptions {
  precision?: PrecisionSetting;
}

/** Checks options.precision and says what it means here (before any model is built or loaded). */
export function requestedPrecision(o: PrecisionBenchOptions): { requested: PrecisionSetting; precision: Precision } {
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  const requested = o.precision ?? 'fp32';
  return { requested, precision: resolvePrecision(requested) };
}

/**
 * Times model's step in fp32, and in bf16 too when `precision` is bf16: one warmed-up model, `rounds` alternations
 * of fp32 then bf16 steps (timeInPrecisions). The profile (when `o.profile`) is of `precision`.
 */
function timePrecisions(
  model: tfl.LayersModel,
  o: Omit<ModelStepBenchOptions, 'precision'>,
  flops: number,
  requested: PrecisionSetting,
  precision: Precision,
  rounds: number,
): PrecisionStepResult {
  if (precision === 'fp32') return precisionResult(requested, precision, timeInPrecisions(model, o, flops, ['fp32']).fp32!);
  const times = timeInPrecisions(model, o, flops, ['fp32', 'bf16'], rounds);
  return precisionResult(requested, precision, times.fp32!, times.bf16!);
}

/** The PrecisionStepResult of an fp32 and (when the precision is bf16) a bf16 timing. */
export function precisionResult(requested: PrecisionSetting, precision: Precision, fp32: StepBenchResult, bf16?: StepBenchResult): PrecisionStepResult {
  const cpu = cpuCapabilities();
  if (!bf16) return { requested, precision, cpu, fp32 };
  const impls: Record<string, number> = {};
  for (const i of convImplementations()) if (i.bf16) impls[i.impl] = (impls[i.impl] ?? 0) + 1;
  return { requested, precision, cpu, fp32, bf16, bf16_vs_fp32: Math.round((bf16.step_ms / fp32.step_ms) * 1000) / 1000, bf16_impls: impls };
}

/** The U-Net step of StepBenchOptions (course or an encoder arch) in the precisions of options.precision. */
export function benchStepPrecisions(o: Omit<StepBenchOptions, 'precision'> & PrecisionBenchOptions, rounds = 2): PrecisionStepResult {
  const { requested, precision } = requestedPrecision(o);
  return withBenchUNet(o, (model, flops) => timePrecisions(model, o, flops, requested, precision, rounds));
}

/** A step of the model in folder `dir` in the precisions of options.precision (the model is loaded once). */
export async function benchModelFolderPrecisions(
  dir: string,
  o: Omit<ModelStepBenchOptions, 'precision'> & PrecisionBenchOptions,
  rounds = 2,
): Promise<PrecisionStepResult> {
  const { requested, precision } = requestedPrecision(o);
  const folder = await loadModelFolder(dir);
  try {
    const flops = trainingStepFlops(folder, o.batch).total;
    return timePrecisions(folder.model, o, flops, requested, precision, rounds);
  } finally {
    folder.model.dispose();
  }
}
