// The training step timed in fp32 and, where asked and possible, in bf16 mixed precision, alternating rounds in
// one process so that both see the same phases of a shared machine.
import { convImplementations, cpuCapabilities, resolvePrecision, type CpuCapabilities, type Precision, type PrecisionSetting } from '../engine/index.js';
import { benchTrainingStep, median, type StepBenchOptions, type StepBenchResult } from './train_step.js';

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

/**
 * Times the step of StepBenchOptions in fp32, and in bf16 too when `requested` resolves to bf16 (bf16 on a CPU
 * without it: a UserError naming the option). `rounds` alternations of fp32 then bf16, each timing o.steps
 * steps after o.warmup; the profile (o.profile) is of the requested precision's last round.
 */
export function benchStepPrecisions(o: StepBenchOptions, requested: PrecisionSetting, rounds = 2): PrecisionStepResult {
  const precision = resolvePrecision(requested);
  const cpu = cpuCapabilities();
  if (precision === 'fp32') return { requested, precision, cpu, fp32: benchTrainingStep({ ...o, precision: 'fp32' }) };
  const runs: Record<Precision, StepBenchResult[]> = { fp32: [], bf16: [] };
  for (let r = 0; r < rounds; r++) {
    const last = r === rounds - 1;
    runs.fp32.push(benchTrainingStep({ ...o, profile: false, precision: 'fp32' }));
    runs.bf16.push(benchTrainingStep({ ...o, profile: o.profile && last, precision: 'bf16' }));
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
    };
  };
  const fp32 = pooled(runs.fp32);
  const bf16 = pooled(runs.bf16);
  const impls: Record<string, number> = {};
  for (const i of convImplementations()) if (i.bf16) impls[i.impl] = (impls[i.impl] ?? 0) + 1;
  return { requested, precision, cpu, fp32, bf16, bf16_vs_fp32: Math.round((bf16.step_ms / fp32.step_ms) * 1000) / 1000, bf16_impls: impls };
}
