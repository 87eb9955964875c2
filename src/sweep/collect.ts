// Gathering a sweep: per policy, validation mIoU over seeds (mean and spread), the plan's costs (trainable
// parameters, FLOPs per step, flops_share vs `full`), measured step and wall time and peak memory, and which
// policies are on the Pareto fronts (mIoU vs step time, mIoU vs trainable parameters). Writes DIR/sweep.json.
import type { HeadMode } from '../model/head_mode.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ciText, mean, sampleStd as std, tInterval, type MeanInterval } from '../util/stats.js';
import { paretoFront } from './pareto.js';
import { readPlan, type PolicyCost, type SweepPlan } from './plan.js';
import { readTrialResult, type TrialResult } from './run.js';
import { join } from 'node:path';

export const SWEEP_FORMAT = 'unet-transfer/sweep';

export interface PolicySummary extends PolicyCost {
  seeds_done: number;
  seeds_planned: number;
  val_miou_mean: number | null;
  /** Sample standard deviation over seeds (0 with one seed). */
  val_miou_std: number | null;
  /** The mean's 95% Student-t interval over seeds (bounds equal the mean, half null, with one seed). */
  val_miou_ci95: MeanInterval | null;
  val_miou_min: number | null;
  val_miou_max: number | null;
  best_val_miou_mean: number | null;
  /** Binary heads: the mean foreground IoU over seeds. */
  val_iou_fg_mean?: number | null;
  step_seconds: number | null;
  /** Measured step time over that of `full` (when `full` was swept). */
  time_share: number | null;
  wall_seconds: number | null;
  peak_rss_mib: number | null;
  pareto_time: boolean;
  pareto_params: boolean;
}

export interface SweepSummary {
  format: typeof SWEEP_FORMAT;
  version: 1;
  dir: string;
  settings: Pick<SweepPlan, 'model' | 'data' | 'epochs' | 'batch' | 'lr' | 'val' | 'seeds' | 'policies'>;
  total_parameters: number;
  /** The trials' head mode: binary sweeps compare mIoU over background and foreground, and show the foreground IoU. */
  head_mode: HeadMode;
  trials: { planned: number; done: number; missing: number[] };
  policies: PolicySummary[];
  results: TrialResult[];
  collectedAt: string;
}

export function collectSweep(dir: string): SweepSummary {
  const plan = readPlan(dir);
  const results: TrialResult[] = [];
  const missing: number[] = [];
  for (const t of plan.trials) {
    const r = readTrialResult(dir, t);
    if (r) results.push(r);
    else missing.push(t.index);
  }
  const policies: PolicySummary[] = plan.costs.map((c) => {
    const rs = results.filter((r) => r.policy === c.policy);
    const miou = rs.map((r) => r.val_miou).filter((v): v is number => v !== null);
    const steps = rs.map((r) => r.step_seconds).filter((v): v is number => v !== null);
    return {
      ...c,
      seeds_done: rs.length,
      seeds_planned: plan.seeds.length,
      val_miou_mean: mean(miou),
      val_miou_std: std(miou),
      val_miou_ci95: tInterval(miou, 0.95),
      val_miou_min: miou.length ? Math.min(...miou) : null,
      val_miou_max: miou.length ? Math.max(...miou) : null,
      best_val_miou_mean: mean(rs.map((r) => r.best_val_miou).filter((v): v is number => v !== null)),
      ...(rs.some((r) => r.head_mode === 'binary')
        ? { val_iou_fg_mean: mean(rs.map((r) => r.val_iou_fg ?? null).filter((v): v is number => v !== null)) }
        : {}),
      step_seconds: mean(steps),
      time_share: null,
      wall_seconds: mean(rs.map((r) => r.wall_seconds)),
      peak_rss_mib: rs.length ? Math.max(...rs.map((r) => r.peak_rss_mib)) : null,
      pareto_time: false,
      pareto_params: false,
    };
  });
  const full = policies.find((p) => p.policy === 'full');
  for (const p of policies) p.time_share = full?.step_seconds && p.step_seconds !== null ? p.step_seconds / full.step_seconds : null;
  const q = (p: PolicySummary) => p.val_miou_mean ?? NaN;
  for (const i of paretoFront(policies.map((p) => ({ cost: p.step_seconds ?? NaN, quality: q(p) })))) policies[i]!.pareto_time = true;
  for (const i of paretoFront(policies.map((p) => ({ cost: p.trainable_parameters, quality: q(p) })))) policies[i]!.pareto_params = true;
  return {
    format: SWEEP_FORMAT,
    version: 1,
    dir,
    settings: {
      model: plan.model,
      data: plan.data,
      epochs: plan.epochs,
      batch: plan.batch,
      lr: plan.lr,
      val: plan.val,
      seeds: plan.seeds,
      policies: plan.policies,
    },
    total_parameters: plan.total_parameters,
    head_mode: results.find((r) => r.head_mode)?.head_mode ?? 'multiclass',
    trials: { planned: plan.trials.length, done: results.length, missing },
    policies,
    results,
    collectedAt: new Date().toISOString(),
  };
}

export function writeSweepSummary(dir: string, s: SweepSummary): string {
  const file = join(dir, 'sweep.json');
  writeFileAtomic(file, `${JSON.stringify(s, null, 1)}\n`);
  return file;
}

const fmt = (v: number | null, d = 4) => (v === null ? '-' : v.toFixed(d));

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** The sweep as a text table, best mean mIoU first; `*` marks the Pareto fronts (t: time, p: parameters). */
export function sweepTable(s: SweepSummary): string[] {
  // A binary head's mIoU is over background and foreground; its foreground IoU gets a column of its own.
  const binary = s.head_mode === 'binary';
  const head = [
    'policy',
    binary ? 'mIoU bg+fg' : s.head_mode === 'multilabel' ? 'mIoU labels' : 'mIoU',
    '±',
    '95% CI',
    ...(binary ? ['fg IoU'] : []),
    'seeds',
    'params',
    'share',
    'FLOP/step',
    'flops',
    'step s',
    'wall s',
    'RSS MiB',
    'pareto',
  ];
  const rows = [...s.policies]
    .sort((a, b) => (b.val_miou_mean ?? -1) - (a.val_miou_mean ?? -1))
    .map((p) => [
      p.policy,
      fmt(p.val_miou_mean),
      fmt(p.val_miou_std),
      ciText(p.val_miou_ci95),
      ...(binary ? [fmt(p.val_iou_fg_mean ?? null)] : []),
      `${p.seeds_done}/${p.seeds_planned}`,
      human(p.trainable_parameters),
      `${(p.params_share * 100).toFixed(1)}%`,
      human(p.flops_per_step),
      `${(p.flops_share * 100).toFixed(1)}%`,
      fmt(p.step_seconds, 3),
      fmt(p.wall_seconds, 1),
      p.peak_rss_mib === null ? '-' : p.peak_rss_mib.toFixed(0),
      `${p.pareto_time ? 't' : ''}${p.pareto_params ? 'p' : ''}` || '-',
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  out.push(
    `${s.trials.done}/${s.trials.planned} trials done${s.trials.missing.length ? `; missing: ${s.trials.missing.join(', ')}` : ''}; ${s.settings.epochs} epoch(s), batch ${s.settings.batch}, lr ${s.settings.lr}; ± = sample std over seeds, 95% CI = Student-t interval of the mean; pareto: t = mIoU vs step time, p = mIoU vs trainable parameters`,
  );
  return out;
}
