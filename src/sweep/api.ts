// The sweep API: plan one fine-tune per policy and seed with the same budget, run what is missing, collect
// the table; and the advisor, which recommends what to fine-tune within a budget before (or instead of)
// the sweep, and with `verify` checks its pick against one. The CLI (`sweep`, `advise`) only maps flags.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { diffModels, disposeData, loadAnalysisData, probe } from '../analysis/index.js';
import { PRECISION_SETTINGS, resolvePrecision, useBestBackend, type PrecisionSetting } from '../engine/index.js';
import { headChannels, loadModelFolder, sampleNormalizationOf } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { finetune } from '../train/api.js';
import { modelForTarget } from '../train/new_head.js';
import { NAMED_POLICIES } from '../train/freeze_spec.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkChoice, checkInt, checkNumber } from '../util/check_options.js';
import { badInputOption, invalidOption, UserError } from '../util/errors.js';
import { candidates, explain, parseBudget, scoreBlocks, verdictOf, type BlockEvidence, type Budget, type Verdict } from './advise.js';
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
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  if (o.precision) resolvePrecision(o.precision); // bf16 on a CPU without it: an error before the plan is written
  const policies = parsePolicies((o.policies ?? [...NAMED_POLICIES]).join(','));
  for (const p of extraPolicies) if (!policies.includes(p)) policies.push(p);
  const dir = resolve(o.out);
  await useBestBackend('native', o.log);
  const folder = await loadModelFolder(resolveModelDir(resolve(o.model), 'model'));
  try {
    const settings = { model: folder.dir, data: resolve(o.data), policies, seeds: Array.from({ length: o.seeds ?? 3 }, (_, i) => i), epochs: o.epochs ?? 5, batch: o.batch ?? 8, lr: o.lr ?? 1e-3, val: o.val ?? 0.2, ...(o.precision && o.precision !== 'fp32' ? { precision: o.precision } : {}) };
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

// ---- the advisor ------------------------------------------------------------------------------------------

export interface AdviseOptions extends Partial<SweepOptions> {
  model: string;
  data: string;
  /** Share of full fine-tuning allowed: '25%params' (trainable parameters) or '0.5time' (step time) (default 25%params). */
  budget?: string | Budget;
  /** Target samples the probe averages over (default 32). */
  samples?: number;
  /** Also fine-tune everything for N epochs and use each block's weight drift as evidence (default 0: probe only). */
  driftEpochs?: number;
  /** Run the sweep (policies, seeds, epochs ... into `out`) with the recommendation added, and compare. */
  verify?: boolean;
}

export interface Advice {
  format: 'unet-transfer/advice';
  model: string;
  data: string;
  /** The recommendation, as a freeze spec (`finetune({ train: spec })`). */
  spec: string;
  blocks: string[];
  budget: Budget;
  score: number;
  params_share: number;
  flops_share: number;
  evidence: BlockEvidence[];
  alternatives: { spec: string; score: number; params_share: number; flops_share: number }[];
  explanation: string[];
  verify: (Verdict & { sweep: string; failed: { index: number; message: string }[] }) | null;
  /** Where advice.json was written (with `out`). */
  file: string | null;
}

/** Each block's relative weight drift after a short full fine-tune (a temporary run). */
async function shortFullDrift(modelDir: string, o: AdviseOptions, epochs: number): Promise<Record<string, number | null>> {
  const tmp = mkdtempSync(join(tmpdir(), 'unet-advise-'));
  try {
    const r = await finetune({ model: modelDir, data: resolve(o.data), train: 'all', epochs, batch: o.batch, lr: o.lr, val: o.val, precision: o.precision, out: join(tmp, 'run'), log: o.log });
    const before = await loadModelFolder(modelDir);
    try {
      const after = await loadModelFolder(r.model);
      try {
        return Object.fromEntries(diffModels(before, after).blocks.map((b) => [b.name, b.rel]));
      } finally {
        after.model.dispose();
      }
    } finally {
      before.model.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Recommends which blocks to fine-tune within the budget, from a gradient probe (and optionally drift). */
export async function advise(o: AdviseOptions): Promise<Advice> {
  if (!o.model) throw invalidOption('model', 'the pretrained model folder', o.model);
  if (!o.data) throw invalidOption('data', 'the target data set folder', o.data);
  const budget = typeof o.budget === 'object' ? o.budget : parseBudget(o.budget ?? '25%params');
  if (o.verify && !o.out) throw badInputOption('verify', 'needs options.out (the sweep folder to write)');
  checkInt(o, 'samples', 1, 100000);
  checkInt(o, 'driftEpochs', 0, 1000);
  checkInt(o, 'batch', 1, 4096);
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  if (o.precision) resolvePrecision(o.precision); // before the probe, not after it
  const batch = o.batch ?? 8;
  const samples = o.samples ?? 32;
  const log = o.log ?? (() => {});
  await useBestBackend('native', log);
  const modelDir = resolveModelDir(resolve(o.model), 'model');
  const folder = await loadModelFolder(modelDir);
  const owned = [folder.model];
  let advice: Advice;
  try {
    // A target with other classes gets a fresh head (as fine-tuning gives it), which every candidate must train.
    const { newHead, targetClasses, ...probed } = await modelForTarget(folder, resolve(o.data), 0);
    if (newHead) owned.push(probed.model);
    log(`probing ${modelDir} on ${samples} samples of ${o.data}${newHead ? ` (with a new head for its ${targetClasses} classes)` : ''}`);
    const d = await loadAnalysisData(resolve(o.data), { input: folder.options.input, classes: headChannels(folder.headMode, targetClasses), headMode: folder.headMode, normalize: sampleNormalizationOf(folder.options), samples, seed: 0 });
    let rgn: Record<string, number | null>;
    try {
      rgn = Object.fromEntries(probe(probed, d, { batchSize: batch }).blocks.map((b) => [b.block, b.rgn]));
    } finally {
      disposeData(d);
    }
    let drift: Record<string, number | null> | undefined;
    if ((o.driftEpochs ?? 0) > 0) {
      log(`fine-tuning everything for ${o.driftEpochs} epoch(s) to measure drift`);
      drift = await shortFullDrift(modelDir, o, o.driftEpochs!);
    }
    const blocks = folder.layerMap.blocks.filter((b) => b.trainableParameters > 0).map((b) => b.name);
    const evidence = scoreBlocks(blocks, rgn, drift);
    const all = candidates(probed, evidence, budget, batch, newHead ? ['head'] : []);
    if (all.length === 0) throw badInputOption('budget', `${budget.text}: no block fits (the cheapest ${newHead ? 'set with the new head ' : 'block '}costs more); raise the budget`);
    const best = all[0]!;
    advice = {
      format: 'unet-transfer/advice',
      model: modelDir,
      data: resolve(o.data),
      spec: best.spec,
      blocks: best.blocks,
      budget,
      score: best.score,
      params_share: best.params_share,
      flops_share: best.flops_share,
      evidence,
      alternatives: all.slice(1, 5).map((c) => ({ spec: c.spec, score: c.score, params_share: c.params_share, flops_share: c.flops_share })),
      explanation: explain(best, evidence, budget, all, drift !== undefined),
      verify: null,
      file: null,
    };
  } finally {
    for (const m of owned) m.dispose();
  }
  if (o.verify) {
    const r = await runSweep({ ...(o as SweepOptions), model: o.model, data: o.data, out: o.out! }, [advice.spec]);
    advice.verify = { ...verdictOf(advice.spec, r.summary.policies, budget), sweep: join(r.dir, 'sweep.json'), failed: r.failed };
  }
  if (o.out) {
    mkdirSync(resolve(o.out), { recursive: true });
    advice.file = join(resolve(o.out), 'advice.json');
    writeFileAtomic(advice.file, `${JSON.stringify({ ...advice, file: undefined }, null, 1)}\n`);
  }
  return advice;
}
