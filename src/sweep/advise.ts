// The advisor: which blocks to fine-tune within a budget, from cheap evidence taken before (or instead of)
// a sweep. The evidence is the gradient probe (relative gradient norm per block at the pretrained weights on
// target batches, Auto-RGN) and, optionally, the relative weight drift per block of a short full fine-tune.
// Each block gets a score (its share of the evidence); the advisor picks the set of blocks with the largest
// total score whose cost (trainable-parameter share, or FLOPs-per-step share as the time estimate) fits the
// budget, by trying every set of blocks (a U-Net has at most 13 blocks, 8191 sets).
import { trainingStepFlops, type UNet } from '../model/index.js';
import { policyCost } from '../train/cost.js';
import { REGIONS } from '../model/layer-map.js';
import { UsageError } from '../util/errors.js';
import { ciText, intervalsOverlap, type MeanInterval } from '../util/stats.js';

export interface Budget {
  kind: 'params' | 'time';
  /** Fraction of `full`: trainable parameters, or (time) FLOPs per step, later checked as measured step time. */
  limit: number;
  text: string;
}

/** `25%params`, `0.25params`, `0.5time`, `50%time`. */
export function parseBudget(text: string): Budget {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*(params|time)\s*$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!m || !(v > 0 && v <= 1))
    throw new UsageError(
      `options.budget must be a share of full fine-tuning like 25%params or 0.5time (a fraction in (0, 1] of trainable parameters or step time), got ${JSON.stringify(text)}`,
    );
  return { kind: m[3] as Budget['kind'], limit: v, text: text.trim() };
}

export interface BlockEvidence {
  block: string;
  rgn: number | null;
  drift?: number | null;
  /** Reset sensitivity after a short full fine-tune (mIoU lost when the block is put back to pretrained). */
  reset?: number | null;
  /** Share of the evidence (0..1; the shares of all blocks sum to 1). */
  score: number;
}

/** Scores from the probe (and drift, reset sensitivity): each measure normalised to sum 1 over blocks, then averaged. */
export function scoreBlocks(
  blocks: string[],
  rgn: Record<string, number | null>,
  drift?: Record<string, number | null>,
  reset?: Record<string, number | null>,
): BlockEvidence[] {
  const share = (v: Record<string, number | null>) => {
    const tot = blocks.reduce((s, b) => s + Math.max(0, v[b] ?? 0), 0);
    return (b: string) => (tot > 0 ? Math.max(0, v[b] ?? 0) / tot : 1 / blocks.length);
  };
  const measures = [rgn, ...(drift ? [drift] : []), ...(reset ? [reset] : [])].map(share);
  return blocks.map((b) => ({
    block: b,
    rgn: rgn[b] ?? null,
    ...(drift ? { drift: drift[b] ?? null } : {}),
    ...(reset ? { reset: reset[b] ?? null } : {}),
    score: measures.reduce((a, m) => a + m(b), 0) / measures.length,
  }));
}

export interface Candidate {
  blocks: string[];
  spec: string;
  score: number;
  params_share: number;
  flops_share: number;
}

/** The shortest freeze spec (items joined by '+') naming exactly these blocks: regions, then ranges. */
export function specFor(chosen: string[], unet: Pick<UNet, 'layerMap'>): string {
  const set = new Set(chosen);
  const items: string[] = [];
  for (const region of REGIONS) {
    const inRegion = unet.layerMap.blocksIn(region).map((b) => b.name);
    if (inRegion.length > 0 && inRegion.every((b) => set.has(b))) {
      items.push(region);
      for (const b of inRegion) set.delete(b);
    }
  }
  if (items.length === REGIONS.length) return 'full';
  for (const prefix of ['enc', 'dec']) {
    const levels = [...set]
      .filter((b) => new RegExp(`^${prefix}\\d+$`).test(b))
      .map((b) => Number(b.slice(3)))
      .sort((a, b) => a - b);
    for (let i = 0; i < levels.length;) {
      let j = i;
      while (j + 1 < levels.length && levels[j + 1] === levels[j]! + 1) j++;
      items.push(i === j ? `${prefix}${levels[i]}` : `${prefix}${levels[i]}-${levels[j]}`);
      for (let k = i; k <= j; k++) set.delete(`${prefix}${levels[k]}`);
      i = j + 1;
    }
  }
  items.push(...set);
  // U order (encoder side first), by each item's first block.
  const order = unet.layerMap.blocks.map((b) => b.name);
  const first = (item: string) => {
    const region = (REGIONS as readonly string[]).includes(item)
      ? unet.layerMap.blocksIn(item as (typeof REGIONS)[number]).map((b) => b.name)
      : [item.replace(/-\d+$/, '')];
    return Math.min(...region.map((b) => order.indexOf(b)).filter((i) => i >= 0));
  };
  return items.sort((a, b) => first(a) - first(b)).join('+');
}

/** Every block set within the budget, best evidence first; `required` blocks are in every set (a new head must train). */
export function candidates(
  unet: Pick<UNet, 'model' | 'layerMap'>,
  evidence: BlockEvidence[],
  budget: Budget,
  batch = 8,
  required: readonly string[] = [],
): Candidate[] {
  const blocks = unet.layerMap.blocks.filter((b) => b.trainableParameters > 0).map((b) => b.name);
  if (blocks.length > 16) throw new UsageError(`the model has ${blocks.length} trainable blocks; the advisor tries every set of at most 16`);
  const score = new Map(evidence.map((e) => [e.block, e.score]));
  const total = unet.layerMap.trainableParameters;
  const fullFlops = trainingStepFlops(unet, batch).total;
  const layersOf = new Map(blocks.map((b) => [b, unet.layerMap.layersIn(b)]));
  const out: Candidate[] = [];
  for (let mask = 1; mask < 1 << blocks.length; mask++) {
    const chosen = blocks.filter((_, i) => mask & (1 << i));
    if (!required.every((b) => chosen.includes(b))) continue;
    const layers = chosen.flatMap((b) => layersOf.get(b)!);
    const params = layers.reduce((s, l) => s + l.trainableParameters, 0) / total;
    if (budget.kind === 'params' && params > budget.limit + 1e-12) continue;
    // Priced as training runs it, the frozen prefix served from the activation cache.
    const flops =
      policyCost(
        unet,
        batch,
        layers.map((l) => l.name),
      ).total / fullFlops;
    if (budget.kind === 'time' && flops > budget.limit + 1e-12) continue;
    out.push({ blocks: chosen, spec: '', score: chosen.reduce((s, b) => s + (score.get(b) ?? 0), 0), params_share: params, flops_share: flops });
  }
  const cost = (c: Candidate) => (budget.kind === 'params' ? c.params_share : c.flops_share);
  out.sort((a, b) => b.score - a.score || cost(a) - cost(b));
  for (const c of out.slice(0, 10)) c.spec = specFor(c.blocks, unet);
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Plain words: what the evidence says, what was chosen, what was left out and why. */
export function explain(
  best: Candidate,
  evidence: BlockEvidence[],
  budget: Budget,
  all: Candidate[],
  withDrift: boolean,
  measuredShare: number | null = null,
  withReset = false,
): string[] {
  const ranked = [...evidence].sort((a, b) => b.score - a.score);
  const lines: string[] = [];
  const f = (v: number | null | undefined) => (typeof v === 'number' ? v.toPrecision(3) : '-');
  lines.push(
    `Evidence: ${withDrift || withReset ? `relative gradient norm at the pretrained weights${withDrift ? ', relative drift after a short full fine-tune' : ''}${withReset ? ', reset sensitivity after a short full fine-tune (mIoU lost when the block goes back to pretrained)' : ''}` : 'relative gradient norm ||∇W L|| / ||W|| at the pretrained weights on target batches'}; blocks by score: ${ranked
      .map((e) => `${e.block} ${pct(e.score)} (rgn ${f(e.rgn)}${withDrift ? `, drift ${f(e.drift)}` : ''}${withReset ? `, reset ${f(e.reset)}` : ''})`)
      .join(', ')}.`,
  );
  lines.push(
    `The target's loss pulls hardest, relative to their size, on ${ranked
      .slice(0, 3)
      .map((e) => e.block)
      .join(', ')}: these are the blocks whose weights fit the target worst.`,
  );
  const measured = budget.kind === 'time' && measuredShare !== null;
  const costName =
    budget.kind === 'params'
      ? 'of the trainable parameters'
      : measured
        ? "of full fine-tuning's step time, measured on this machine"
        : "of full fine-tuning's FLOPs per step (the step-time estimate)";
  const cost = budget.kind === 'params' ? best.params_share : measured ? measuredShare : best.flops_share;
  lines.push(
    `Probe's pick: ${best.spec} (${best.blocks.join(', ')}), ${pct(best.score)} of the evidence for ${pct(cost)} ${costName}, ${cost <= budget.limit + 1e-9 ? 'within' : 'over'} the budget of ${pct(budget.limit)}; it trains ${pct(best.params_share)} of the parameters at ${pct(best.flops_share)} of the FLOPs.`,
  );
  const left = ranked.filter((e) => !best.blocks.includes(e.block)).slice(0, 2);
  for (const e of left) {
    const withIt = all.find((c) => c.blocks.length === best.blocks.length + 1 && best.blocks.every((b) => c.blocks.includes(b)) && c.blocks.includes(e.block));
    lines.push(
      withIt
        ? `${e.block} (${pct(e.score)}) would also fit, but a set without it scores higher for the money.`
        : `${e.block} (${pct(e.score)}) is left out: adding it would exceed the budget.`,
    );
  }
  if (budget.kind === 'time' && !measured)
    lines.push(
      'Step time is estimated from convolution FLOPs; a block near the input is expensive because the gradient must flow back to it through everything after it. options.verify measures the real time.',
    );
  lines.push('This is a heuristic from evidence at (or near) the pretrained weights, not a guarantee; options.verify runs the sweep and says how it did.');
  return lines;
}

export interface VerifyPolicy {
  policy: string;
  val_miou_mean: number | null;
  /** The mean's 95% interval over seeds (collectSweep); without it (or with one seed) noise is unknown. */
  val_miou_ci95?: MeanInterval | null;
  params_share: number;
  flops_share: number;
  time_share: number | null;
  pareto_time: boolean;
  pareto_params: boolean;
}

export interface Verdict {
  recommended: string;
  recommended_miou: number | null;
  within_budget: string[];
  best_within_budget: string | null;
  best_within_budget_miou: number | null;
  /** best_within_budget_miou - recommended_miou (0 when the recommendation was the best). */
  gap: number | null;
  rank_within_budget: number | null;
  on_pareto_front: boolean;
  /** How the budget was checked: parameter share, or measured step-time share vs full (FLOPs share without `full`). */
  measure: string;
  /** right: the best within the budget; tied: behind it, but the 95% intervals overlap; wrong: behind it, outside noise (or noise unknown). */
  kind: 'right' | 'tied' | 'wrong' | 'none';
  /** The intervals compared, in words (or why there were none). */
  noise: string;
  verdict: string;
}

/** Compares the recommendation with the sweep's policies that fit the same budget. */
export function verdictOf(rec: string, policies: VerifyPolicy[], budget: Budget): Verdict {
  const measured = budget.kind === 'time' && policies.some((p) => p.time_share !== null);
  const cost = (p: VerifyPolicy) => (budget.kind === 'params' ? p.params_share : measured ? (p.time_share ?? Infinity) : p.flops_share);
  const measure =
    budget.kind === 'params'
      ? 'trainable-parameter share'
      : measured
        ? "measured step time over full fine-tuning's"
        : 'FLOPs share (full was not swept, so no measured time reference)';
  const r = policies.find((p) => p.policy === rec);
  // The recommendation is within its own budget by construction (by FLOPs); measured time may say otherwise.
  const inside = policies
    .filter((p) => p.val_miou_mean !== null && (cost(p) <= budget.limit + 1e-9 || p.policy === rec))
    .sort((a, b) => b.val_miou_mean! - a.val_miou_mean!);
  const best = inside[0] ?? null;
  const recMiou = r?.val_miou_mean ?? null;
  const rank = r ? inside.findIndex((p) => p.policy === rec) + 1 || null : null;
  const onFront = !!r && (budget.kind === 'params' ? r.pareto_params : r.pareto_time);
  const gap = best && recMiou !== null ? best.val_miou_mean! - recMiou : null;
  const ci = (p: VerifyPolicy | null | undefined) => p?.val_miou_ci95 ?? null;
  const show = (p: VerifyPolicy) => `${p.policy} ${p.val_miou_mean!.toFixed(4)}${ci(p)?.half != null ? ` (95% CI ${ciText(ci(p), 4)})` : ''}`;
  const noisy = !!r && !!best && ci(r)?.half != null && ci(best)?.half != null;
  let kind: Verdict['kind'];
  let verdict: string;
  let noise: string;
  if (recMiou === null) {
    kind = 'none';
    noise = 'no result';
    verdict = `the recommended policy ${rec} has no finished trial in the sweep; no verdict`;
  } else if (best && best.policy === rec) {
    kind = 'right';
    const next = inside[1];
    const close = next && noisy && ci(next)?.half != null && intervalsOverlap(ci(r)!, ci(next)!);
    noise = next
      ? ci(r)?.half != null && ci(next)?.half != null
        ? `${show(r!)} vs the next, ${show(next)}`
        : 'one seed: noise not measured'
      : 'no other policy fits the budget';
    verdict = `right: ${rec} was the best policy within the budget (mIoU ${recMiou.toFixed(4)}; ${inside.length} policies fit the budget by ${measure})${onFront ? ' and on the Pareto front' : ''}${close ? `; but ${next!.policy} is within noise of it (${noise})` : ''}.`;
  } else if (noisy && intervalsOverlap(ci(r)!, ci(best)!)) {
    kind = 'tied';
    noise = `${show(r!)} overlaps ${show(best!)}`;
    verdict = `tied (within noise of the best): ${best!.policy} scored ${gap!.toFixed(4)} more, but the 95% intervals over seeds overlap (${noise}); ${rec} ranked ${rank} of ${inside.length} within the budget by ${measure}.`;
  } else {
    kind = 'wrong';
    noise = noisy
      ? `${show(r!)} vs ${show(best!)}: the intervals do not overlap`
      : 'one seed: noise not measured, rerun with more seeds to tell a tie from a loss';
    verdict = `wrong (by ${gap!.toFixed(4)}, ${noisy ? 'outside noise' : 'noise unknown'}): ${best!.policy} was better within the budget (${noise}); ${rec} ranked ${rank} of ${inside.length} within the budget by ${measure}, and was ${onFront ? '' : 'not '}on the Pareto front.`;
  }
  if (measured && r && r.time_share !== null && r.time_share > budget.limit + 1e-9)
    verdict += ` Note: measured, ${rec} took ${pct(r.time_share)} of full fine-tuning's step time, over the ${pct(budget.limit)} budget that the advice priced it within (step times on a shared machine vary from trial to trial).`;
  return {
    recommended: rec,
    recommended_miou: recMiou,
    within_budget: inside.map((p) => p.policy),
    best_within_budget: best?.policy ?? null,
    best_within_budget_miou: best?.val_miou_mean ?? null,
    gap,
    rank_within_budget: rank,
    on_pareto_front: onFront,
    measure,
    kind,
    noise,
    verdict,
  };
}
