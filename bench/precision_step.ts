// The training step timed in fp32 and, where asked and possible, in bf16 mixed precision, alternating rounds in
// one process so that both see the same phases of a shared machine.
import {
  convImplementations,
  cpuCapabilities,
  PRECISION_SETTINGS,
  resolvePrecision,
  type ConvPhaseTimes,
  type CpuCapabilities,
  type Precision,
  type PrecisionSetting,
} from '../src/engine/index.js';
import { loadModelFolder, trainingStepFlops } from '../src/model/index.js';
import { checkChoice } from '../src/util/check_options.js';
import { benchModelStep, benchTrainingStep, median, type ModelStepBenchOptions, type StepBenchOptions, type StepBenchResult } from './train_step.js';

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
 * Times `step` in fp32, and in bf16 too when options.precision resolves to bf16: `rounds` alternations of fp32
 * then bf16. The profile (when `profile`) is of the requested precision's last round.
 */
function timePrecisions(
  requested: PrecisionSetting,
  precision: Precision,
  profile: boolean,
  step: (precision: Precision, profile: boolean) => StepBenchResult,
  rounds = 2,
): PrecisionStepResult {
  if (precision === 'fp32') return precisionResult(requested, precision, step('fp32', profile));
  const runs: Record<Precision, StepBenchResult[]> = { fp32: [], bf16: [] };
  for (let r = 0; r < rounds; r++) {
    runs.fp32.push(step('fp32', false));
    runs.bf16.push(step('bf16', profile && r === rounds - 1));
  }
  const pooled = (list: StepBenchResult[]): StepBenchResult => {
    const times = list.flatMap((x) => x.step_times_ms);
    const lastRun = list[list.length - 1]!;
    const stepMs = Math.round(median(times) * 10) / 10;
    return {
      ...lastRun,
      step_ms: stepMs,
      forward_ms: Math.round(median(list.map((x) => x.forward_ms)) * 10) / 10,
      gflops: Math.round((lastRun.gflop_per_step / (stepMs / 1000)) * 10) / 10,
      step_times_ms: times,
      conv_phases_ms: meanPhases(list.map((x) => x.conv_phases_ms)),
      page_faults_per_step: Math.round(list.reduce((s, x) => s + x.page_faults_per_step, 0) / list.length),
    };
  };
  return precisionResult(requested, precision, pooled(runs.fp32), pooled(runs.bf16));
}

/** The PrecisionStepResult of an fp32 and (when the precision is bf16) a bf16 timing. */
export function precisionResult(requested: PrecisionSetting, precision: Precision, fp32: StepBenchResult, bf16?: StepBenchResult): PrecisionStepResult {
  const cpu = cpuCapabilities();
  if (!bf16) return { requested, precision, cpu, fp32 };
  const impls: Record<string, number> = {};
  for (const i of convImplementations()) if (i.bf16) impls[i.impl] = (impls[i.impl] ?? 0) + 1;
  return { requested, precision, cpu, fp32, bf16, bf16_vs_fp32: Math.round((bf16.step_ms / fp32.step_ms) * 1000) / 1000, bf16_impls: impls };
}

function meanPhases(list: ConvPhaseTimes[]): ConvPhaseTimes {
  const mean = (k: keyof ConvPhaseTimes) => Math.round((list.reduce((s, p) => s + p[k], 0) / list.length) * 10) / 10;
  return { compute: mean('compute'), activations: mean('activations'), weights: mean('weights'), gradients: mean('gradients') };
}

/** The U-Net step of StepBenchOptions (course or an encoder arch) in the precisions of options.precision. */
export function benchStepPrecisions(o: Omit<StepBenchOptions, 'precision'> & PrecisionBenchOptions, rounds = 2): PrecisionStepResult {
  const { requested, precision } = requestedPrecision(o);
  return timePrecisions(requested, precision, o.profile, (p, profile) => benchTrainingStep({ ...o, profile, precision: p }), rounds);
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
    return timePrecisions(requested, precision, o.profile, (p, profile) => benchModelStep(folder.model, { ...o, profile, precision: p }, flops), rounds);
  } finally {
    folder.model.dispose();
  }
}
