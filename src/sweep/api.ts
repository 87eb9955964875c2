// The sweep API: plan one fine-tune per policy and seed with the same budget, run what is missing, collect
// the table; and the advisor, which recommends what to fine-tune within a budget before (or instead of)
// the sweep, and with `verify` checks its pick against one. The CLI (`sweep`, `advise`) only maps flags.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { PRECISION_SETTINGS, resolvePrecision, useBestBackend, type PrecisionSetting } from '../engine/index.js';
import { loadModelFolder } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { NAMED_POLICIES } from '../train/freeze_spec.js';
import { checkChoice, checkInt, checkNumber } from '../util/check_options.js';
import { badInputOption, invalidOption, UserError } from '../util/errors.js';
import { collectSweep, writeSweepSummary, type SweepSummary } from './collect.js';
import { runMissing, type DriveResult } from './driver.js';
import { makePlan, parsePolicies, writePlan, type SweepPlan } from './plan.js';
import { missingTrials, runTrial } from './run.js';

export interface SweepOptions {
  /** The pretrained model folder (or a run folder: its model/). */
  model: string;
  /** The target data set folder. */
  data: string;
  /** The sweep folder. */
  out: string;
  /** Freeze policies to compare (default: every named policy). */
  policies?: string[];
  /** Seeds per policy, 0..N-1 (default 3). */
  seeds?: number;
  /** Epochs of every trial (default 5). */
  epochs?: number;
  /** Batch size (default 8). */
  batch?: number;
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Validation fraction when the data set has no val/ folder (default 0.2). */
  val?: number;
  /** Training samples per trial, evenly spaced over the training split (default all). */
  trainSamples?: number;
  /** The trials' convolution precision (see TrainingOptions.precision; default 'fp32'; not fp32: part of the plan's settings). */
  precision?: PrecisionSetting;
  /** Replace a plan with other settings (and its trials). */
  force?: boolean;
  /** Trials run at once, each in its own process (default 1; 0 runs them one by one in this process). */
  parallel?: number;
  log?: (line: string) => void;
}

export interface SweepRun extends DriveResult {
  dir: string;
  summary: SweepSummary;
}

/** Writes DIR/plan.json (or keeps the identical plan there): one trial per policy and seed, with each policy's cost. */
export async function planSweep(o: SweepOptions, extraPolicies: string[] = []): Promise<{ plan: SweepPlan; reused: boolean; dir: string }> {
  if (!o.out) throw invalidOption('out', 'the sweep folder', o.out);
  if (!o.model) throw invalidOption('model', 'the pretrained model folder', o.model);
  if (!o.data) throw invalidOption('data', 'the target data set folder', o.data);
  if (!existsSync(o.data)) throw badInputOption('data', `${o.data}: no such folder`);
  checkInt(o, 'seeds', 1, 1000);
  checkInt(o, 'epochs', 1, 100000);
  checkInt(o, 'batch', 1, 4096);
  checkNumber(o, 'lr', 0, 10, true);
  checkNumber(o, 'val', 0, 0.95);
  checkInt(o, 'trainSamples', 1, 2 ** 31 - 1);
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  if (o.precision) resolvePrecision(o.precision); // bf16 on a CPU without it: an error before the plan is written
  const policies = parsePolicies((o.policies ?? [...NAMED_POLICIES]).join(','));
  for (const p of extraPolicies) if (!policies.includes(p)) policies.push(p);
  const dir = resolve(o.out);
  await useBestBackend('native', o.log);
  const folder = await loadModelFolder(resolveModelDir(resolve(o.model), 'model'));
  try {
    const settings = {
      model: folder.dir,
      data: resolve(o.data),
      policies,
      seeds: Array.from({ length: o.seeds ?? 3 }, (_, i) => i),
      epochs: o.epochs ?? 5,
      batch: o.batch ?? 8,
      lr: o.lr ?? 1e-3,
      val: o.val ?? 0.2,
      ...(o.trainSamples !== undefined ? { trainSamples: o.trainSamples } : {}),
      ...(o.precision && o.precision !== 'fp32' ? { precision: o.precision } : {}),
    };
    return { ...writePlan(dir, makePlan(settings, folder), o.force === true), dir };
  } finally {
    folder.model.dispose();
  }
}

/** Plans the sweep (or reuses its plan), runs every trial without a result, and collects DIR/sweep.json. */
export async function runSweep(o: SweepOptions, extraPolicies: string[] = []): Promise<SweepRun> {
  checkInt(o, 'parallel', 0, 64);
  const parallel = o.parallel ?? 1;
  const log = o.log ?? (() => {});
  const { plan, reused, dir } = await planSweep(o, extraPolicies);
  log(`${dir}: ${plan.trials.length} trials${reused ? ' (existing plan)' : ''}, ${parallel === 0 ? 'in this process' : `${parallel} at a time`}`);
  const d = parallel === 0 ? await runInProcess(dir, plan, log) : await runMissing(dir, parallel, log);
  const summary = collectSweep(dir);
  writeSweepSummary(dir, summary);
  return { summary, dir, ...d };
}

/** The missing trials one after another in this process (a failed trial is reported, the others still run). */
async function runInProcess(dir: string, plan: SweepPlan, log: (l: string) => void): Promise<DriveResult> {
  const todo = missingTrials(dir, plan);
  const result: DriveResult = { ran: [], skipped: plan.trials.filter((t) => !todo.includes(t)).map((t) => t.index), failed: [] };
  for (const t of todo) {
    try {
      const r = await runTrial(dir, t.index, { log });
      if (r.status === 'ran') result.ran.push(t.index);
      else if (r.status === 'done-before') result.skipped.push(t.index);
      else result.failed.push({ index: t.index, message: `pid ${r.heldBy.pid} on ${r.heldBy.host} holds it` });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      result.failed.push({ index: t.index, message: e.message });
      log(`trial ${t.index} failed: ${e.message}`);
    }
  }
  return result;
}

export { advise, type Advice, type AdviseOptions } from './advisor.js';
