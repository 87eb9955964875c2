// What the demo concludes from a shift's sweep: which layers to fine-tune (the cheapest policy that comes
// within a tolerance of the best mIoU, cost measured as step time against full fine-tuning's) and at what
// cost, in words short enough for one line each.
import type { PolicySummary, SweepSummary } from '../sweep/collect.js';

/** Policies within this much mean val mIoU of the best count as "as good" (one seed is noisy: say so). */
export const MIOU_TOLERANCE = 0.02;

export interface ShiftAnswer {
  /** The cheapest policy within MIOU_TOLERANCE of the best. */
  policy: string;
  blocks: string[];
  miou: number;
  params_share: number;
  /** Measured step time over full fine-tuning's (null when full was not swept or timed). */
  time_share: number | null;
  flops_share: number;
  best_policy: string;
  best_miou: number;
  full_miou: number | null;
}

/** Cost of a policy for choosing: measured step-time share, else FLOPs share. */
const costOf = (p: PolicySummary) => p.time_share ?? p.flops_share;

export function answerOf(s: SweepSummary, tolerance = MIOU_TOLERANCE): ShiftAnswer | null {
  // `scratch` trains every layer from random weights: it is a reference, not a choice of layers to fine-tune.
  const done = s.policies.filter((p) => p.val_miou_mean !== null && !p.from_scratch);
  if (done.length === 0) return null;
  const best = done.reduce((a, b) => (b.val_miou_mean! > a.val_miou_mean! ? b : a));
  const good = done.filter((p) => p.val_miou_mean! >= best.val_miou_mean! - tolerance);
  const pick = good.reduce((a, b) => (costOf(b) < costOf(a) || (costOf(b) === costOf(a) && b.trainable_parameters < a.trainable_parameters) ? b : a));
  const full = s.policies.find((p) => p.policy === 'full');
  return {
    policy: pick.policy,
    blocks: pick.blocks,
    miou: pick.val_miou_mean!,
    params_share: pick.params_share,
    time_share: pick.time_share,
    flops_share: pick.flops_share,
    best_policy: best.policy,
    best_miou: best.val_miou_mean!,
    full_miou: full?.val_miou_mean ?? null,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const f3 = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '-');

/** `fine-tune decoder+head: mIoU 0.871 (best full 0.880; pretrained as-is 0.412), 45% of the parameters at 0.52x full's step time`. */
export function answerLine(a: ShiftAnswer | null, pretrainedMiou: number | null): string {
  if (!a) return 'no finished trial';
  const cost =
    a.time_share !== null
      ? `${a.time_share.toFixed(2)}x full fine-tuning's step time (measured)`
      : `${pct(a.flops_share)} of full fine-tuning's FLOPs per step`;
  const best = a.best_policy === a.policy ? 'the best policy' : `best: ${a.best_policy} ${f3(a.best_miou)}`;
  return `fine-tune ${a.policy} (${a.blocks.join(', ')}): mIoU ${f3(a.miou)} (${best}; pretrained as-is ${f3(pretrainedMiou)}) training ${pct(a.params_share)} of the parameters at ${cost}`;
}
