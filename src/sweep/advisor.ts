// The advisor: which blocks to fine-tune within a budget, before (or instead of) a full sweep.
// - Evidence at the pretrained weights: the gradient probe (Auto-RGN), optionally the drift of a short
//   full fine-tune (advise.ts scores block sets by it).
// - Prices: the budget `0.5time` is priced by each policy's measured step time on this machine
//   (step_prices.ts), FLOPs beside as the fallback; `25%params` by trainable parameters.
// - Strategy `probe` picks the best-scoring block set within the budget. `halving` runs short trials of the
//   named policies and the probe's best sets within the budget, successive halving (halving.ts), each rung an
//   ordinary sweep in OUT/halving/rung-K (resumable, collectable, reportable), its compute capped at
//   `adviceBudget` of the full sweep's estimated compute. `auto` (the default) halves when options.out gives
//   the trials a home and the cap pays for a first rung, and probes otherwise.
// - `verify` runs the full sweep (into options.out) and says whether the advice was right, tied within noise,
//   or wrong.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { diffModels, disposeData, loadAnalysisData, probe, resetSensitivity } from '../analysis/index.js';
import { PRECISION_SETTINGS, resolvePrecision, useBestBackend, withPrecision } from '../engine/index.js';
import { headChannels, loadModelFolder, sampleNormalizationOf, type ModelFolder } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { finetune } from '../train/api.js';
import { modelForTarget, withTrainedHead } from '../train/new_head.js';
import { NAMED_POLICIES, resolveTrainSpec } from '../train/freeze_spec.js';
import { openTrainingData } from '../train/training_data.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkChoice, checkInt, checkNumber } from '../util/check_options.js';
import { badInputOption, invalidOption, OptionError } from '../util/errors.js';
import { candidates, explain, parseBudget, scoreBlocks, specFor, verdictOf, type BlockEvidence, type Budget, type Candidate, type Verdict } from './advise.js';
import { runSweep, type SweepOptions } from './api.js';
import { planHalving, runHalving, trialSeconds, type HalvingCandidate, type HalvingResult, type RungRunner } from './halving.js';
import { shiftFromProbe, shiftFromTrials, type ShiftEvidence } from './shift_kind.js';
import { priceSteps, type StepPrice, type StepPrices } from './step_prices.js';

export const STRATEGIES = ['probe', 'halving', 'auto'] as const;
/** Depth policies the halving also tries (beside the named shallow:2 and deep:2), within the budget. */
export const DEPTH_LADDER = ['shallow:1', 'shallow:3', 'deep:3', 'deep:4'];

export interface AdviseOptions extends Partial<SweepOptions> {
  model: string;
  data: string;
  /** Share of full fine-tuning allowed: '0.5time' (measured step time) or '25%params' (trainable parameters) (default 0.5time). */
  budget?: string | Budget;
  /** Target samples the probe averages over (default 32). */
  samples?: number;
  /** Also fine-tune everything for N epochs and use each block's weight drift as evidence (default 0: probe only). */
  driftEpochs?: number;
  /** Run the sweep (policies, seeds, epochs ... into `out`) with the recommendation added, and compare. */
  verify?: boolean;
  /** probe: the best-scoring block set; halving: short trials, successive halving; auto (default): halving when options.out is given and adviceBudget pays for it. */
  strategy?: (typeof STRATEGIES)[number];
  /** Compute the halving may spend, as a share of the full sweep's estimated compute (default 0.2). */
  adviceBudget?: number;
  /** Halving keeps the best 1/eta of each rung (2 or 3, default 3). */
  eta?: number;
  /** How step time is priced: measured on this machine (default), or by FLOPs alone. */
  price?: 'measured' | 'flops';
  /** The step-time cache file (default ~/.cache/unet-transfer/step-times.json); false: none. */
  stepTimesFile?: string | false;
  /** Extra evidence: 'reset' fine-tunes everything for options.driftEpochs (default 1) epochs and adds each block's reset sensitivity to the scores (default: the probe alone). */
  evidence?: 'probe' | 'reset';
}

export interface AdviceHalving extends HalvingResult {
  candidates: HalvingCandidate[];
  /** The full sweep the cap is a share of: its policies, seeds, epochs, and its priced seconds. */
  full_sweep: { policies: string[]; seeds: number; epochs: number; train_samples: number; seconds: number };
  advice_budget: number;
  /** The trial run before planning to measure a trial's cost besides its steps (null: priced by FLOPs). */
  calibration: { policy: string; wall_seconds: number; priced_seconds: number; overhead_seconds: number } | null;
  /** Sweep folders of the rungs (and of the calibration trial). */
  dirs: string[];
}

export interface Advice {
  format: 'unet-transfer/advice';
  model: string;
  data: string;
  /** The recommendation, as a freeze spec (`finetune({ train: spec })`). */
  spec: string;
  blocks: string[];
  budget: Budget;
  strategy: 'probe' | 'halving';
  /** Why this strategy (auto's choice, in words). */
  strategy_reason: string;
  score: number;
  params_share: number;
  flops_share: number;
  /** Measured step time over full fine-tuning's (null: priced by FLOPs). */
  time_share: number | null;
  evidence: BlockEvidence[];
  alternatives: { spec: string; score: number; params_share: number; flops_share: number; time_share: number | null }[];
  prices: StepPrices | null;
  halving: AdviceHalving | null;
  shift: ShiftEvidence;
  explanation: string[];
  verify: (Verdict & { sweep: string; failed: { index: number; message: string }[] }) | null;
  /** Where advice.json was written (with `out`). */
  file: string | null;
}

/** After a short full fine-tune (a temporary run): each block's relative weight drift, and (withReset) its reset sensitivity. */
async function shortFullFinetune(
  modelDir: string,
  o: AdviseOptions,
  epochs: number,
  withReset: boolean,
): Promise<{ drift: Record<string, number | null>; reset: Record<string, number | null> | null }> {
  const tmp = mkdtempSync(join(tmpdir(), 'unet-advise-'));
  try {
    const r = await finetune({
      model: modelDir,
      data: resolve(o.data),
      train: 'all',
      epochs,
      batch: o.batch,
      lr: o.lr,
      val: o.val,
      precision: o.precision,
      out: join(tmp, 'run'),
      log: o.log,
    });
    const before = await loadModelFolder(modelDir);
    try {
      const after = await loadModelFolder(r.model);
      try {
        const drift = Object.fromEntries(diffModels(before, after).blocks.map((b) => [b.name, b.rel]));
        if (!withReset) return { drift, reset: null };
        const d = await loadAnalysisData(resolve(o.data), {
          input: after.options.input,
          classes: after.options.classes,
          headMode: after.headMode,
          normalize: sampleNormalizationOf(after.options),
          samples: o.samples ?? 32,
          seed: 1,
        });
        try {
          const rs = resetSensitivity(before, after, d, { classes: after.options.classes, batchSize: o.batch });
          return { drift, reset: Object.fromEntries(rs.blocks.map((b) => [b.block, b.reset_sensitivity])) };
        } finally {
          disposeData(d);
        }
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

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const layersKey = (spec: string, folder: ModelFolder) => resolveTrainSpec(spec, folder.layerMap).trainable.join(',');

/** The rung runner of the advisor: each rung an ordinary sweep folder under OUT/halving/. */
function sweepRungs(o: AdviseOptions, out: string, trainCount: number, dirs: string[], name = (rung: number) => `rung-${rung + 1}`): RungRunner {
  return async (rung, policies) => {
    const dir = join(out, 'halving', name(rung.rung));
    dirs.push(dir);
    const r = await runSweep({
      model: o.model,
      data: o.data,
      out: dir,
      policies,
      seeds: rung.seeds,
      epochs: rung.epochs,
      batch: o.batch,
      lr: o.lr,
      val: o.val,
      precision: o.precision,
      ...(rung.trainSamples < trainCount ? { trainSamples: rung.trainSamples } : {}),
      parallel: o.parallel ?? 0,
      force: o.force,
      log: o.log,
    });
    return r.summary.results.map((t) => ({
      policy: t.policy,
      seed: t.seed,
      val_miou: t.val_miou,
      val_loss: t.curve[t.curve.length - 1]?.val_loss ?? null,
      steps: t.steps,
      epochs: t.epochs,
      wall_seconds: t.wall_seconds,
    }));
  };
}

/** Recommends which blocks to fine-tune within the budget (see the file's head for how). */
export async function advise(o: AdviseOptions): Promise<Advice> {
  if (!o.model) throw invalidOption('model', 'the pretrained model folder', o.model);
  if (!o.data) throw invalidOption('data', 'the target data set folder', o.data);
  const budget = typeof o.budget === 'object' ? o.budget : parseBudget(o.budget ?? '0.5time');
  if (o.verify && !o.out) throw badInputOption('verify', 'needs options.out (the sweep folder to write)');
  checkInt(o, 'samples', 1, 100000);
  checkInt(o, 'driftEpochs', 0, 1000);
  checkInt(o, 'batch', 1, 4096);
  checkInt(o, 'seeds', 1, 1000);
  checkInt(o, 'epochs', 1, 100000);
  checkChoice(o, 'strategy', STRATEGIES);
  checkChoice(o, 'price', ['measured', 'flops']);
  checkChoice(o, 'evidence', ['probe', 'reset']);
  checkNumber(o, 'adviceBudget', 0, 1, true);
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  if (o.precision) resolvePrecision(o.precision); // before the probe, not after it
  if (o.eta !== undefined && o.eta !== 2 && o.eta !== 3)
    throw new OptionError('eta', `must be 2 or 3 (keep the best half or third of each rung), got ${JSON.stringify(o.eta)}`);
  if (o.strategy === 'halving' && !o.out)
    throw badInputOption('strategy', 'halving needs options.out: its short trials are sweeps in OUT/halving/ (resumable, and the report reads them)');
  const batch = o.batch ?? 8;
  const samples = o.samples ?? 32;
  const log = o.log ?? (() => {});
  await useBestBackend('native', log);
  const modelDir = resolveModelDir(resolve(o.model), 'model');
  const folder = await loadModelFolder(modelDir);
  const owned = [folder.model];
  let advice: Advice;
  let verifyPolicies: string[] | undefined;
  try {
    // A target with other classes gets a fresh head (as fine-tuning gives it), which every candidate must train.
    const { newHead, targetClasses, ...probed } = await modelForTarget(folder, resolve(o.data), 0);
    if (newHead) owned.push(probed.model);
    const required = newHead ? ['head'] : [];
    log(`probing ${modelDir} on ${samples} samples of ${o.data}${newHead ? ` (with a new head for its ${targetClasses} classes)` : ''}`);
    const d = await loadAnalysisData(resolve(o.data), {
      input: folder.options.input,
      classes: headChannels(folder.headMode, targetClasses),
      headMode: folder.headMode,
      normalize: sampleNormalizationOf(folder.options),
      samples,
      seed: 0,
    });
    let rgn: Record<string, number | null>;
    try {
      rgn = Object.fromEntries(probe(probed, d, { batchSize: batch }).blocks.map((b) => [b.block, b.rgn]));
    } finally {
      disposeData(d);
    }
    let drift: Record<string, number | null> | undefined;
    let reset: Record<string, number | null> | undefined;
    const withReset = o.evidence === 'reset';
    if ((o.driftEpochs ?? 0) > 0 || withReset) {
      const epochs = o.driftEpochs || 1;
      log(`fine-tuning everything for ${epochs} epoch(s) to measure ${withReset ? 'reset sensitivity' : 'drift'}`);
      const f = await shortFullFinetune(modelDir, o, epochs, withReset);
      if ((o.driftEpochs ?? 0) > 0) drift = f.drift;
      if (f.reset) reset = f.reset;
    }
    const blocks = folder.layerMap.blocks.filter((b) => b.trainableParameters > 0).map((b) => b.name);
    const evidence = scoreBlocks(blocks, rgn, drift, reset);
    const regionOf = (b: string) => folder.layerMap.block(b)?.region;

    // The probe's best block sets: by FLOPs first, with room, since measured time can be lower or higher.
    const prefilter: Budget = budget.kind === 'time' ? { ...budget, limit: Math.min(1, budget.limit * 1.5) } : budget;
    const pool = candidates(probed, evidence, prefilter, batch, required);
    if (pool.length === 0)
      throw badInputOption(
        'budget',
        `${budget.text}: no block fits (the cheapest ${newHead ? 'set with the new head ' : 'block '}costs more); raise the budget`,
      );
    // The best sets with room (measured time may be lower than FLOPs say), and the best within the budget by FLOPs.
    const strict = budget.kind === 'time' ? pool.filter((c) => c.flops_share <= budget.limit + 1e-9) : [];
    for (const c of strict.slice(0, 8)) if (!c.spec) c.spec = specFor(c.blocks, folder);
    const probeTop = [...new Map([...pool.slice(0, 8), ...strict.slice(0, 8)].map((c) => [c.spec, c])).values()].sort((a, b) => b.score - a.score);
    const wantsHalving = o.strategy === 'halving' || ((o.strategy ?? 'auto') === 'auto' && !!o.out);
    // With a new head, a policy that freezes it trains it too (encoder: encoder+head), as the demo's sweeps do.
    const sweepPolicies = withTrainedHead(o.policies ?? [...NAMED_POLICIES], newHead, folder);
    verifyPolicies = sweepPolicies;
    // The named policies, and a ladder of depths from either end: candidates that cover both sides of the U.
    const named = withTrainedHead(
      [...new Set([...NAMED_POLICIES, ...DEPTH_LADDER.filter((p) => Number(p.split(':')[1]) <= folder.layerMap.blocks.length)])],
      newHead,
      folder,
    );
    const needPrices = budget.kind === 'time' || wantsHalving;
    const prices = needPrices
      ? await withPrecision(o.precision ?? 'fp32', (precision) =>
          priceSteps(modelDir, folder, [...new Set([...named, ...sweepPolicies, ...probeTop.map((c) => c.spec)])], {
            batch,
            precision,
            measure: o.price !== 'flops',
            cacheFile: o.stepTimesFile,
            log,
          }),
        )
      : null;
    const priceOf = (spec: string): StepPrice | undefined => prices?.prices.find((p) => p.policy === spec);
    const timeShare = (spec: string) => priceOf(spec)?.time_share ?? null;
    const costOf = (spec: string, c?: Pick<Candidate, 'params_share' | 'flops_share'>) => {
      const p = priceOf(spec);
      if (budget.kind === 'params') return c?.params_share ?? p!.params_share;
      return p?.time_share ?? c?.flops_share ?? p!.flops_share;
    };
    const fits = (spec: string, c?: Candidate) => costOf(spec, c) <= budget.limit + 1e-9;

    const probeFit = probeTop.filter((c) => fits(c.spec, c));
    const probePick = probeFit[0] ?? pool[0]!;
    const probeNote =
      probeFit.length === 0 && budget.kind === 'time' && prices?.full_seconds
        ? [
            `None of the probe's ${probeTop.length} best block sets fits the budget by measured step time; its pick is the best by score (${pct(probePick.flops_share)} of the FLOPs), measured at ${pct(timeShare(probePick.spec) ?? NaN)}: over the budget.`,
          ]
        : [];

    // Halving, when asked (or auto and affordable).
    let halving: AdviceHalving | null = null;
    let strategyReason =
      o.strategy === 'probe' ? 'asked for (options.strategy probe)' : 'options.out is not given, and the short trials of strategy halving need a folder';
    if (wantsHalving) {
      const seen = new Set<string>();
      const hc: HalvingCandidate[] = [];
      const add = (spec: string, origin: string) => {
        const k = layersKey(spec, folder);
        if (
          seen.has(k) ||
          !fits(
            spec,
            pool.find((c) => c.spec === spec),
          )
        )
          return;
        seen.add(k);
        const p = priceOf(spec)!;
        hc.push({ spec, stepSeconds: p.seconds ?? p.flops_share, origin });
      };
      for (const p of named) if (!p.startsWith('scratch')) add(p, DEPTH_LADDER.includes(p) ? 'depth ladder' : 'named policy');
      for (const c of probeFit.slice(0, 4)) add(c.spec, `probe's best sets (score ${(c.score * 100).toFixed(1)}%)`);
      const train = openTrainingData(resolve(o.data), {
        valFraction: o.val ?? 0.2,
        seed: 0,
        input: folder.options.input,
        modelClasses: folder.options.classes,
        headMode: folder.headMode,
      });
      const trainCount = train.train.length;
      const seeds = o.seeds ?? 3;
      const epochs = o.epochs ?? 5;
      const trialSteps = epochs * Math.ceil(trainCount / batch);
      // Validation of an epoch: a forward pass over the val set, a third of a full training step per batch.
      const valSecondsPerEpoch = (Math.ceil(train.val.length / batch) * (prices!.full_seconds ?? 1)) / 3;
      const sweepSeconds = (overhead: number) =>
        sweepPolicies.reduce(
          (a, p) =>
            a +
            trialSeconds(priceOf(p)!.seconds ?? priceOf(p)!.flops_share, trialSteps, epochs, { valSecondsPerEpoch, trialOverheadSeconds: overhead }) * seeds,
          0,
        );
      const share = o.adviceBudget ?? 0.2;
      const dirs: string[] = [];
      // One real trial first (the cheapest candidate, one epoch): what a trial costs on this machine besides its
      // priced steps and validation (loading model and data, the activation cache, warm-up, saving). Short
      // trials are many, so this is no small part of their cost, and of the full sweep's too.
      let calibration: AdviceHalving['calibration'] = null;
      const settings = { eta: o.eta ?? 3, trainCount, batch, maxEpochs: epochs, valSecondsPerEpoch };
      // Not when even free trials would not fit: the calibration would be spent for nothing.
      const affordable = hc.length >= 2 && planHalving(hc, { ...settings, capSeconds: share * sweepSeconds(0) }) !== null;
      if (affordable && prices!.full_seconds) {
        const cheapest = [...hc].sort((a, b) => a.stepSeconds - b.stepSeconds)[0]!;
        const rung = { rung: -1, candidates: 1, epochs: 1, trainSamples: trainCount, seeds: 1, steps: Math.ceil(trainCount / batch), worst_seconds: 0 };
        const [t] = await sweepRungs(o, resolve(o.out!), trainCount, dirs, () => 'calibration')(rung, [cheapest.spec]);
        const priced = trialSeconds(cheapest.stepSeconds, t?.steps ?? rung.steps, 1, { valSecondsPerEpoch, trialOverheadSeconds: 0 });
        const wall = t?.wall_seconds ?? priced;
        calibration = { policy: cheapest.spec, wall_seconds: wall, priced_seconds: priced, overhead_seconds: Math.max(0, wall - priced) };
        log(
          `calibration: ${cheapest.spec} for 1 epoch took ${wall.toFixed(2)} s, ${priced.toFixed(2)} s of it priced steps and validation: ${calibration.overhead_seconds.toFixed(2)} s a trial besides`,
        );
      }
      const overhead = calibration?.overhead_seconds ?? 0;
      const fullSweep = sweepSeconds(overhead);
      const calibrationSeconds = calibration?.wall_seconds ?? 0;
      const plan = affordable ? planHalving(hc, { ...settings, capSeconds: share * fullSweep - calibrationSeconds, trialOverheadSeconds: overhead }) : null;
      const unit = prices!.full_seconds ? 's' : 'FLOPs-share steps';
      if (!plan) {
        const why =
          hc.length < 2
            ? `only ${hc.length} candidate fits the budget ${budget.text}`
            : `${pct(share)} of the full sweep's estimated compute (${(share * fullSweep).toFixed(1)} ${unit}) does not pay for a first rung of ${hc.length} candidates on ${Math.min(trainCount, 2 * batch)} samples${calibration ? `, each trial costing ${calibration.overhead_seconds.toFixed(2)} s besides its steps (measured by a calibration trial)` : ''}`;
        if (o.strategy === 'halving') throw new OptionError('adviceBudget', `: ${why}; raise options.adviceBudget or use options.strategy probe`);
        strategyReason = `auto chose the probe: ${why}`;
      } else {
        log(
          `halving over ${hc.length} candidates: ${plan.rungs.map((r) => `${r.candidates} x ${r.epochs} epoch(s) on ${r.trainSamples} samples${r.seeds > 1 ? ` x ${r.seeds} seeds` : ''}`).join(', then ')}; cap ${plan.cap_seconds.toFixed(1)} ${unit}`,
        );
        const r = await runHalving(hc, plan, sweepRungs(o, resolve(o.out!), trainCount, dirs), log);
        halving = {
          ...r,
          // The calibration trial is part of what the advice spent.
          spent_seconds: r.spent_seconds + calibrationSeconds,
          measured_wall_seconds: r.measured_wall_seconds + calibrationSeconds,
          calibration,
          candidates: hc,
          full_sweep: { policies: sweepPolicies, seeds, epochs, train_samples: trainCount, seconds: fullSweep },
          advice_budget: share,
          dirs,
        };
        strategyReason =
          o.strategy === 'halving'
            ? 'asked for (options.strategy halving)'
            : `auto chose halving: ${pct(share)} of the full sweep's estimated compute pays for ${plan.rungs.length} rung(s) over ${hc.length} candidates`;
      }
    }

    const spec = halving?.winner ?? probePick.spec;
    const resolved = resolveTrainSpec(spec, folder.layerMap);
    const price = priceOf(spec);
    const fromPool = pool.find((c) => c.spec === spec);
    const shift = halving
      ? (shiftFromTrials(
          halving.rungs[0]!.policies.map((r) => ({ ...r, blocks: resolveTrainSpec(r.policy, folder.layerMap).blocks })),
          halving.confidence.noise_sd,
          regionOf,
          `at the first rung (all ${halving.rungs[0]!.candidates} candidates, ${halving.rungs[0]!.epochs} epoch(s) on ${halving.rungs[0]!.trainSamples} samples)`,
        ) ?? shiftFromProbe(evidence, regionOf))
      : shiftFromProbe(evidence, regionOf);
    const explanation = explain(probePick, evidence, budget, pool, drift !== undefined, timeShare(probePick.spec), reset !== undefined);
    explanation.push(...probeNote);
    if (prices && prices.full_seconds)
      explanation.push(
        `Prices measured on ${prices.machine}: full fine-tuning ${(prices.full_seconds * 1000).toFixed(1)} ms a step; ${prices.prices
          .filter((p) => p.policy !== 'full')
          .slice(0, 6)
          .map((p) => `${p.policy} ${pct(p.time_share!)} (FLOPs ${pct(p.flops_share)})`)
          .join(
            ', ',
          )}${prices.timing_seconds > 0 ? `; timing took ${prices.timing_seconds.toFixed(1)} s` : ' (from the cache)'}${prices.file ? `, cached in ${prices.file}` : ''}.`,
      );
    explanation.push(`Strategy: ${halving ? 'successive halving of short trials' : 'the gradient probe'} (${strategyReason}).`);
    if (halving) {
      const named = halving.candidates.filter((c) => !c.origin.startsWith('probe')).map((c) => c.spec);
      const probed = halving.candidates.filter((c) => c.origin.startsWith('probe')).map((c) => c.spec);
      explanation.push(
        `Candidates (${halving.candidates.length}, within the budget, the same layers counted once): named and depth policies ${named.join(', ') || 'none'}; the ${withReset ? "evidence's" : "probe's"} best block sets ${probed.join(', ') || 'none'}.`,
      );
      for (const r of halving.rungs) {
        const show = (p: (typeof r.policies)[number]) =>
          r.ranked_by === 'val_loss'
            ? `${p.policy} ${p.val_loss_mean?.toFixed(4) ?? '-'} (mIoU ${p.val_miou_mean?.toFixed(3) ?? '-'})`
            : `${p.policy} ${p.val_miou_mean?.toFixed(3) ?? '-'}`;
        explanation.push(
          `Rung ${r.rung + 1}: ${r.candidates} candidate(s), ${r.epochs} epoch(s) on ${r.trainSamples} training samples, ${r.seeds} seed(s), ranked by ${r.ranked_by === 'val_loss' ? 'validation loss (mIoU lags after a few steps)' : 'validation mIoU'}: ${r.policies.map(show).join(', ')}; ${r.ranked_by === 'val_miou' ? 'winner' : 'kept'} ${r.kept.join(', ')}.`,
        );
      }
      explanation.push(`Chosen: ${spec} (${resolved.blocks.join(', ')}), which ${halving.confidence.words}; confidence ${halving.confidence.level}.`);
      const unit = prices!.full_seconds ? 's' : 'FLOPs-share steps';
      explanation.push(
        `Compute: the trials spent ${halving.spent_seconds.toFixed(1)} priced ${unit}${halving.calibration ? ` (steps, validation, and ${halving.calibration.overhead_seconds.toFixed(2)} s a trial besides, measured by a calibration trial of ${halving.calibration.policy})` : ''}, ${halving.measured_wall_seconds.toFixed(1)} s of wall time, of a cap of ${(halving.advice_budget * halving.full_sweep.seconds).toFixed(1)} = ${pct(halving.advice_budget)} of the full sweep's estimated ${halving.full_sweep.seconds.toFixed(1)} (${halving.full_sweep.policies.length} policies x ${halving.full_sweep.seeds} seeds x ${halving.full_sweep.epochs} epochs, priced the same way): ${pct(halving.spent_seconds / halving.full_sweep.seconds)} of it.`,
      );
    }
    explanation.push(shift.words);
    advice = {
      format: 'unet-transfer/advice',
      model: modelDir,
      data: resolve(o.data),
      spec,
      blocks: resolved.blocks,
      budget,
      strategy: halving ? 'halving' : 'probe',
      strategy_reason: strategyReason,
      score: fromPool?.score ?? resolved.blocks.reduce((a, b) => a + (evidence.find((e) => e.block === b)?.score ?? 0), 0),
      params_share: price?.params_share ?? fromPool!.params_share,
      flops_share: price?.flops_share ?? fromPool!.flops_share,
      time_share: price?.time_share ?? null,
      evidence,
      alternatives: probeTop
        .filter((c) => c.spec !== spec)
        .slice(0, 4)
        .map((c) => ({ spec: c.spec, score: c.score, params_share: c.params_share, flops_share: c.flops_share, time_share: timeShare(c.spec) })),
      prices,
      halving,
      shift,
      explanation,
      verify: null,
      file: null,
    };
  } finally {
    for (const m of owned) m.dispose();
  }
  if (o.verify) {
    const r = await runSweep({ ...(o as SweepOptions), model: o.model, data: o.data, out: o.out!, policies: verifyPolicies }, [advice.spec]);
    advice.verify = { ...verdictOf(advice.spec, r.summary.policies, budget), sweep: join(r.dir, 'sweep.json'), failed: r.failed };
  }
  if (o.out) {
    mkdirSync(resolve(o.out), { recursive: true });
    advice.file = join(resolve(o.out), 'advice.json');
    writeFileAtomic(advice.file, `${JSON.stringify({ ...advice, file: undefined }, null, 1)}\n`);
  }
  return advice;
}
