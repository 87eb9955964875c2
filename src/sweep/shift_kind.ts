// Which kind of shift the advisor's evidence suggests, in plain words. Lee et al. (ICLR 2023) found that an
// input-level shift (new sensor, noise, blur, colour) is best fixed by tuning the first blocks, and an
// output-level shift (new objects for the same outputs) by the last ones. The short trials test that
// directly: at the first rung every candidate trained equally long, so the best policy that trains only
// the input side (encoder, maybe the bottleneck) against the best that trains only the output side
// (decoder, head) says where the target differs; the seed-to-seed noise measured at the last rung says
// whether the difference means anything. Without trials only the gradient probe is left, which is weak
// evidence (on the README's digit targets it ranked the same blocks first for both shifts).
import type { Region } from '../model/layer-map.js';

export type Side = 'input' | 'output' | 'both' | 'middle';

/** Which side of the U a set of blocks trains. */
export function sideOf(blocks: string[], regionOf: (block: string) => Region | undefined): Side {
  const regions = new Set(blocks.map(regionOf));
  const input = regions.has('encoder');
  const output = regions.has('decoder') || regions.has('head');
  return input && output ? 'both' : input ? 'input' : output ? 'output' : 'middle';
}

export interface ShiftEvidence {
  kind: 'input-side' | 'output-side' | 'unclear';
  /** How it was judged: short trials (first rung), or the gradient probe alone. */
  from: 'trials' | 'probe';
  words: string;
}

/** From the first rung's results (same training for all) and the noise of the last rung. */
export function shiftFromTrials(
  rows: { policy: string; blocks: string[]; val_miou_mean: number | null }[],
  noiseSd: number | null,
  regionOf: (block: string) => Region | undefined,
  rung: string,
): ShiftEvidence | null {
  const best = (side: Side) =>
    rows.filter((r) => r.val_miou_mean !== null && sideOf(r.blocks, regionOf) === side).sort((a, b) => b.val_miou_mean! - a.val_miou_mean!)[0];
  const inp = best('input');
  const out = best('output');
  if (!inp || !out) return null;
  const diff = inp.val_miou_mean! - out.val_miou_mean!;
  // Two single-seed results differ by noise with SD sqrt(2) * sd; twice that is the bar.
  const bar = noiseSd !== null ? 2 * Math.SQRT2 * noiseSd : null;
  const lead = diff > 0 ? inp : out;
  const trail = diff > 0 ? out : inp;
  const compared = `${rung}, the best policy training only input-side blocks (${inp.policy}, ${inp.val_miou_mean!.toFixed(3)} mIoU) against the best training only output-side blocks (${out.policy}, ${out.val_miou_mean!.toFixed(3)})`;
  if (bar === null) {
    const kind = diff > 0 ? 'input-side' : 'output-side';
    return {
      kind,
      from: 'trials',
      words: `The evidence leans to an ${kind} shift: ${compared}, ${lead.policy} led by ${Math.abs(diff).toFixed(3)}; the noise was not measured (one seed), so this is a lean, not a finding.`,
    };
  }
  if (Math.abs(diff) <= bar) {
    return {
      kind: 'unclear',
      from: 'trials',
      words: `The evidence does not say which side the shift is on: ${compared}, they differ by ${Math.abs(diff).toFixed(3)}, within the noise (2 x sqrt 2 x the seed SD ${noiseSd!.toFixed(3)} = ${bar.toFixed(3)}); the shift may be on both sides, or the rung was too short to tell.`,
    };
  }
  const kind = diff > 0 ? 'input-side' : 'output-side';
  const why =
    kind === 'input-side'
      ? 'the pictures differ more than the objects (noise, blur, texture, a new sensor): adapting the first features fixes most of it'
      : 'the objects differ more than the pictures (new classes or shapes for the same outputs): the late features and the head must change';
  return {
    kind,
    from: 'trials',
    words: `The evidence suggests an ${kind} shift: ${compared}, ${lead.policy} beat ${trail.policy} by ${Math.abs(diff).toFixed(3)}, outside the noise (${bar.toFixed(3)}); ${why}.`,
  };
}

/** From the probe's shares alone: weak evidence, said as such. */
export function shiftFromProbe(evidence: { block: string; score: number }[], regionOf: (block: string) => Region | undefined): ShiftEvidence {
  const share = (sides: Region[]) => evidence.filter((e) => sides.includes(regionOf(e.block)!)).reduce((a, e) => a + e.score, 0);
  const inp = share(['encoder']);
  const out = share(['decoder', 'head']);
  const kind = Math.abs(inp - out) < 0.1 ? 'unclear' : inp > out ? 'input-side' : 'output-side';
  const shares = `the encoder holds ${(inp * 100).toFixed(0)}% of the gradient evidence, the decoder and head ${(out * 100).toFixed(0)}%`;
  return {
    kind,
    from: 'probe',
    words:
      kind === 'unclear'
        ? `The gradient probe alone does not say which side the shift is on (${shares}); short trials (strategy halving) would.`
        : `The gradient probe leans to an ${kind} shift (${shares}), but a gradient at the pretrained weights is weak evidence of where a shift is; short trials (strategy halving) test it.`,
  };
}
