// Successive halving (Jamieson & Talwalkar 2016; the synchronous form of ASHA, Li et al. 2020) over
// fine-tuning policies: every candidate trains a short rung (one epoch on part of the training set), the
// best 1/eta go on to a rung eta times longer, and so on, until at most eta are left; the last rung runs two
// seeds, so that the winner's lead can be set against the seed-to-seed noise. The schedule is sized so that
// its compute, priced as (steps x each policy's measured seconds per step, plus each epoch's validation
// pass, plus a fixed cost per trial) with the most expensive
// candidates assumed to survive every rung, stays within a cap: it can never spend more, whichever survive.
// Promotion from an early rung is by validation loss, the final pick by validation mIoU: after a few steps
// mIoU (an argmax, then a ratio of counts) has often not moved yet while the cross-entropy has (in the
// README's digit runs, after one epoch mIoU ranked `head` first and `decoder+head` fourth, the loss ranked
// them as three epochs later did: `decoder+head` first). Running a rung is injected (runRung): the advisor
// runs each rung as an ordinary sweep.
import { mean, sampleStd, studentTQuantile, tInterval, type MeanInterval } from '../util/stats.js';

export interface HalvingCandidate {
  spec: string;
  /** Priced seconds per training step (measured, or a FLOPs-based estimate). */
  stepSeconds: number;
  /** Why it is a candidate: a named policy, or one of the probe's best block sets. */
  origin: string;
}

export interface HalvingSettings {
  /** Keep the best 1/eta at each rung (2 or 3). */
  eta: number;
  /** Training samples in the full training split. */
  trainCount: number;
  batch: number;
  /** No rung trains longer than a full trial (the sweep's epochs). */
  maxEpochs: number;
  /** The most compute (priced seconds) the whole schedule may take. */
  capSeconds: number;
  /** Fewest training samples of a rung (default 2 batches). */
  minTrainSamples?: number;
  /** Seeds of the last rung (default 2). */
  lastRungSeeds?: number;
  /** Priced seconds of one epoch's validation pass (every trial validates every epoch; default 0). */
  valSecondsPerEpoch?: number;
  /**
   * Seconds every trial costs besides its steps and validation (loading the model and the data, filling the
   * activation cache, warming the kernels up, saving): measured by the advisor's calibration trial (default 0).
   * With many short trials it is no small part of the halving's cost.
   */
  trialOverheadSeconds?: number;
}

export interface RungPlan {
  rung: number;
  /** Candidates that train in this rung. */
  candidates: number;
  epochs: number;
  trainSamples: number;
  seeds: number;
  /** Steps of one trial of this rung. */
  steps: number;
  /** Priced seconds of the rung if its most expensive candidates survive (the plan's bound). */
  worst_seconds: number;
}

export interface HalvingPlan {
  eta: number;
  rungs: RungPlan[];
  cap_seconds: number;
  val_seconds_per_epoch: number;
  trial_overhead_seconds: number;
  /** Sum of the rungs' worst_seconds (<= cap_seconds). */
  bound_seconds: number;
}

/** Epochs and training samples of a rung of `resource` epochs-worth of the full training split. */
function rungSize(resource: number, s: HalvingSettings): { epochs: number; trainSamples: number } {
  if (resource >= 1) return { epochs: Math.min(s.maxEpochs, Math.floor(resource)), trainSamples: s.trainCount };
  return { epochs: 1, trainSamples: Math.max(1, Math.floor(resource * s.trainCount)) };
}

function survivorCounts(n: number, eta: number): number[] {
  const counts = [n];
  while (counts[counts.length - 1]! > eta) counts.push(Math.ceil(counts[counts.length - 1]! / eta));
  return counts;
}

/** What a trial costs besides its steps: each epoch's validation pass, and a fixed cost per trial. */
export interface TrialPricing {
  valSecondsPerEpoch: number;
  trialOverheadSeconds: number;
}

/** Priced seconds of one trial: its steps at its policy's seconds per step, its validation, its fixed cost. */
export function trialSeconds(stepSeconds: number, steps: number, epochs: number, p: TrialPricing): number {
  return stepSeconds * steps + epochs * p.valSecondsPerEpoch + p.trialOverheadSeconds;
}

function schedule(first: number, costs: number[], s: HalvingSettings): RungPlan[] {
  const pricing = { valSecondsPerEpoch: s.valSecondsPerEpoch ?? 0, trialOverheadSeconds: s.trialOverheadSeconds ?? 0 };
  const counts = survivorCounts(costs.length, s.eta);
  const dearest = [...costs].sort((a, b) => b - a);
  return counts.map((n, k) => {
    const { epochs, trainSamples } = rungSize(first * s.eta ** k, s);
    const seeds = k === counts.length - 1 && n > 1 ? (s.lastRungSeeds ?? 2) : 1;
    const steps = epochs * Math.ceil(trainSamples / s.batch);
    const worst = dearest.slice(0, n).reduce((a, c) => a + trialSeconds(c, steps, epochs, pricing), 0) * seeds;
    return { rung: k, candidates: n, epochs, trainSamples, seeds, steps, worst_seconds: worst };
  });
}

/** The longest schedule within the cap, or null when even the shortest first rung does not fit. */
export function planHalving(candidates: HalvingCandidate[], s: HalvingSettings): HalvingPlan | null {
  if (candidates.length === 0) return null;
  const costs = candidates.map((c) => c.stepSeconds);
  const minSamples = Math.min(s.trainCount, s.minTrainSamples ?? 2 * s.batch);
  const total = (first: number) => schedule(first, costs, s).reduce((a, r) => a + r.worst_seconds, 0);
  let lo = minSamples / s.trainCount;
  if (total(lo) > s.capSeconds) return null;
  // The largest first rung whose schedule fits (total() only grows with it); no point past full trials.
  let hi = s.maxEpochs;
  if (total(hi) <= s.capSeconds) lo = hi;
  else
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (total(mid) <= s.capSeconds) lo = mid;
      else hi = mid;
    }
  const rungs = schedule(lo, costs, s);
  return {
    eta: s.eta,
    rungs,
    cap_seconds: s.capSeconds,
    val_seconds_per_epoch: s.valSecondsPerEpoch ?? 0,
    trial_overhead_seconds: s.trialOverheadSeconds ?? 0,
    bound_seconds: rungs.reduce((a, r) => a + r.worst_seconds, 0),
  };
}

export interface RungTrial {
  policy: string;
  seed: number;
  val_miou: number | null;
  /** Validation loss after the last epoch (promotion from early rungs); null: rank by mIoU. */
  val_loss: number | null;
  /** Training steps and epochs the trial ran. */
  steps: number;
  epochs: number;
  /** Measured wall seconds of the trial (model load, training, validation). */
  wall_seconds: number | null;
}

/** Runs `policies` for one rung (each for `rung.seeds` seeds) and returns every trial. */
export type RungRunner = (rung: RungPlan, policies: string[]) => Promise<RungTrial[]>;

export interface RungOutcome extends RungPlan {
  policies: { policy: string; val_miou_mean: number | null; val_miou_ci95: MeanInterval | null; val_loss_mean: number | null; seeds: number[] }[];
  /** What this rung ranked by: validation loss (early rungs) or mIoU (the last). */
  ranked_by: 'val_loss' | 'val_miou';
  kept: string[];
  /** Priced seconds this rung spent (its trials' steps x each policy's price, and their validation). */
  spent_seconds: number;
  measured_wall_seconds: number;
}

export interface HalvingResult {
  plan: HalvingPlan;
  rungs: RungOutcome[];
  winner: string | null;
  spent_seconds: number;
  measured_wall_seconds: number;
  /** The winner's lead over the runner-up at the last rung, and the noise it is set against. */
  confidence: Confidence;
}

export interface Confidence {
  level: 'high' | 'moderate' | 'low' | 'unknown';
  lead: number | null;
  runner_up: string | null;
  /** Pooled seed-to-seed standard deviation at the last rung (null without two seeds). */
  noise_sd: number | null;
  /** lead / its standard error. */
  t: number | null;
  /** The 97.5% t quantile at the pooled degrees of freedom: a lead of this many standard errors is outside noise. */
  t_crit: number | null;
  words: string;
}

/** The winner's lead at the last rung against the pooled seed noise (a two-sample t statistic). */
export function confidenceOf(rows: RungOutcome['policies']): Confidence {
  const ranked = rows.filter((r) => r.val_miou_mean !== null).sort((a, b) => b.val_miou_mean! - a.val_miou_mean!);
  const [w, r] = ranked;
  if (!w || !r)
    return { level: 'unknown', lead: null, runner_up: null, noise_sd: null, t: null, t_crit: null, words: 'no runner-up at the last rung to compare with' };
  const lead = w.val_miou_mean! - r.val_miou_mean!;
  const withSeeds = ranked.filter((x) => x.seeds.length > 1);
  const df = withSeeds.reduce((a, x) => a + x.seeds.length - 1, 0);
  if (df === 0 || w.seeds.length === 0 || r.seeds.length === 0)
    return {
      level: 'unknown',
      lead,
      runner_up: r.policy,
      noise_sd: null,
      t: null,
      t_crit: null,
      words: `led ${r.policy} by ${lead.toFixed(3)} mIoU at the last rung; with one seed there, the noise is not known`,
    };
  const sd = Math.sqrt(withSeeds.reduce((a, x) => a + (x.seeds.length - 1) * sampleStd(x.seeds)! ** 2, 0) / df);
  const se = sd * Math.sqrt(1 / w.seeds.length + 1 / r.seeds.length);
  const t = se > 0 ? lead / se : Infinity;
  const crit = studentTQuantile(0.975, df);
  const level = t >= crit ? 'high' : t >= 1 ? 'moderate' : 'low';
  const words = `led ${r.policy} by ${lead.toFixed(3)} mIoU at the last rung, against a seed-to-seed noise of ${sd.toFixed(3)} (pooled SD, ${df} degrees of freedom): ${Number.isFinite(t) ? `${t.toFixed(1)} standard errors` : 'no noise at all'}, ${level === 'high' ? `outside noise (above ${crit.toFixed(1)})` : level === 'moderate' ? `more than one standard error but within noise (under ${crit.toFixed(1)})` : 'within noise: a near tie'}`;
  return { level, lead, runner_up: r.policy, noise_sd: sd, t: Number.isFinite(t) ? t : null, t_crit: crit, words };
}

/** Runs the plan: each rung through runRung, the best 1/eta (early rungs by mean val loss, the last by mean mIoU; ties: cheaper first) kept. */
export async function runHalving(
  candidates: HalvingCandidate[],
  plan: HalvingPlan,
  runRung: RungRunner,
  log: (line: string) => void = () => {},
): Promise<HalvingResult> {
  const price = new Map(candidates.map((c) => [c.spec, c.stepSeconds]));
  const pricing = { valSecondsPerEpoch: plan.val_seconds_per_epoch, trialOverheadSeconds: plan.trial_overhead_seconds };
  let alive = candidates.map((c) => c.spec);
  const rungs: RungOutcome[] = [];
  let spent = 0;
  let wall = 0;
  for (const rp of plan.rungs) {
    const bound = alive.reduce((a, p) => a + trialSeconds(price.get(p)!, rp.steps, rp.epochs, pricing), 0) * rp.seeds;
    // Never over the cap (the plan's bound already ensures it; a runner that trains longer is stopped here).
    if (spent + bound > plan.cap_seconds + 1e-9) {
      log(
        `halving: rung ${rp.rung} would pass the advice budget (${(spent + bound).toFixed(1)} > ${plan.cap_seconds.toFixed(1)} priced s); stopping with the last rung's ranking`,
      );
      break;
    }
    const rung = { ...rp, candidates: alive.length };
    log(
      `halving: rung ${rp.rung + 1}/${plan.rungs.length}: ${alive.length} candidate(s), ${rp.epochs} epoch(s) on ${rp.trainSamples} training samples, ${rp.seeds} seed(s)`,
    );
    const trials = await runRung(rung, alive);
    const spentHere = trials.reduce((a, t) => a + trialSeconds(price.get(t.policy) ?? 0, t.steps, t.epochs, pricing), 0);
    spent += spentHere;
    const wallHere = trials.reduce((a, t) => a + (t.wall_seconds ?? 0), 0);
    wall += wallHere;
    const rows = alive.map((policy) => {
      const mine = trials.filter((t) => t.policy === policy && t.val_miou !== null);
      const seeds = mine.map((t) => t.val_miou!);
      const losses = mine.map((t) => t.val_loss).filter((v): v is number => v !== null && Number.isFinite(v));
      return { policy, val_miou_mean: mean(seeds), val_miou_ci95: tInterval(seeds), val_loss_mean: losses.length === mine.length ? mean(losses) : null, seeds };
    });
    const last = rp.rung === plan.rungs.length - 1;
    const byLoss = !last && rows.every((r) => r.val_miou_mean === null || r.val_loss_mean !== null);
    const key = (r: (typeof rows)[number]) => (r.val_miou_mean === null ? -Infinity : byLoss ? -r.val_loss_mean! : r.val_miou_mean);
    const ranked = [...rows].sort((a, b) => key(b) - key(a) || price.get(a.policy)! - price.get(b.policy)!);
    const keep = last ? 1 : (plan.rungs[rp.rung + 1]?.candidates ?? 1);
    const kept = ranked
      .filter((r) => r.val_miou_mean !== null)
      .slice(0, keep)
      .map((r) => r.policy);
    rungs.push({ ...rung, policies: ranked, ranked_by: byLoss ? 'val_loss' : 'val_miou', kept, spent_seconds: spentHere, measured_wall_seconds: wallHere });
    alive = kept;
    if (alive.length <= 1 && !last) break;
  }
  const lastRung = rungs[rungs.length - 1];
  const winner = lastRung ? (lastRung.policies.find((r) => r.val_miou_mean !== null)?.policy ?? null) : null;
  // A run stopped early (cap) ends on a rung ranked by loss; its confidence is then on mIoU all the same.
  return { plan, rungs, winner, spent_seconds: spent, measured_wall_seconds: wall, confidence: lastRung ? confidenceOf(lastRung.policies) : confidenceOf([]) };
}
