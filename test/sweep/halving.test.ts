// Successive halving as the advisor runs it, with a rigged trial runner: it never spends more than its cap
// (whichever candidates survive), keeps the clearly best candidate, and says how sure it is; the words on
// the kind of shift follow the evidence.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confidenceOf, planHalving, runHalving, type HalvingCandidate, type RungRunner } from '../../src/sweep/halving.js';
import { shiftFromTrials, sideOf } from '../../src/sweep/shift_kind.js';

const candidates: HalvingCandidate[] = [
  { spec: 'full', stepSeconds: 1, origin: 'named policy' },
  { spec: 'encoder', stepSeconds: 0.75, origin: 'named policy' },
  { spec: 'decoder', stepSeconds: 0.6, origin: 'named policy' },
  { spec: 'bottleneck', stepSeconds: 0.45, origin: 'named policy' },
  { spec: 'head', stepSeconds: 0.05, origin: 'named policy' },
  { spec: 'decoder+head', stepSeconds: 0.62, origin: 'named policy' },
  { spec: 'shallow:2', stepSeconds: 0.7, origin: 'named policy' },
  { spec: 'deep:2', stepSeconds: 0.1, origin: 'named policy' },
  { spec: 'enc1+head', stepSeconds: 0.8, origin: 'probe' },
];
// The rigged truth: `shallow:2` (not the most expensive, not the cheapest) is clearly best, at any length.
const quality: Record<string, number> = {
  full: 0.6,
  encoder: 0.62,
  decoder: 0.5,
  bottleneck: 0.3,
  head: 0.4,
  'decoder+head': 0.52,
  'shallow:2': 0.8,
  'deep:2': 0.45,
  'enc1+head': 0.55,
};

/** A runner whose trials train exactly what the rung asks; more training helps every policy alike. */
function rigged(asked: { policies: string[]; steps: number; seeds: number }[]): RungRunner {
  return async (rung, policies) => {
    asked.push({ policies, steps: rung.steps, seeds: rung.seeds });
    return policies.flatMap((policy) =>
      Array.from({ length: rung.seeds }, (_, seed) => {
        const miou = quality[policy]! * (1 - 0.5 / (1 + (rung.epochs * rung.trainSamples) / 100)) + 0.004 * (seed - 0.5);
        return { policy, seed, val_miou: miou, val_loss: 1 - miou, steps: rung.steps, epochs: rung.epochs, wall_seconds: 1 };
      }),
    );
  };
}

test('halving never spends more than its cap and keeps the best candidate of a rigged set', async () => {
  const settings = { eta: 3, trainCount: 400, batch: 8, maxEpochs: 5, valSecondsPerEpoch: 2 };
  // The full sweep here: 9 policies x 3 seeds x 5 epochs of 50 steps.
  const fullSweep = candidates.reduce((a, c) => a + (c.stepSeconds * 250 + 5 * 2) * 3, 0);
  for (const share of [0.05, 0.1, 0.2, 0.5, 1]) {
    const plan = planHalving(candidates, { ...settings, capSeconds: share * fullSweep });
    assert.ok(plan, `share ${share}: a plan`);
    assert.ok(plan.bound_seconds <= plan.cap_seconds + 1e-9, `share ${share}: the plan's bound ${plan.bound_seconds} within its cap ${plan.cap_seconds}`);
    assert.deepEqual(
      plan.rungs.map((r) => r.candidates),
      [9, 3],
      `share ${share}: 9 candidates, then the best third`,
    );
    assert.equal(plan.rungs[plan.rungs.length - 1]!.seeds, 2, 'the last rung runs two seeds');
    for (const [k, r] of plan.rungs.entries()) {
      assert.ok(r.epochs >= 1 && r.epochs <= 5 && r.trainSamples >= 16 && r.trainSamples <= 400, `rung ${k} within a full trial: ${JSON.stringify(r)}`);
      if (k > 0) assert.ok(r.epochs * r.trainSamples >= plan.rungs[k - 1]!.epochs * plan.rungs[k - 1]!.trainSamples, 'later rungs train at least as long');
    }
    const asked: { policies: string[]; steps: number; seeds: number }[] = [];
    const r = await runHalving(candidates, plan, rigged(asked));
    assert.equal(r.winner, 'shallow:2', `share ${share}: the rigged best wins`);
    assert.ok(r.spent_seconds <= plan.cap_seconds + 1e-9, `share ${share}: spent ${r.spent_seconds} <= cap ${plan.cap_seconds}`);
    // The spending is what the runner was asked to train, priced.
    const price = new Map(candidates.map((c) => [c.spec, c.stepSeconds]));
    const priced = asked.reduce((a, x, k) => a + x.policies.reduce((b, p) => b + price.get(p)! * x.steps + plan.rungs[k]!.epochs * 2, 0) * x.seeds, 0);
    assert.ok(Math.abs(priced - r.spent_seconds) < 1e-6, `spent ${r.spent_seconds} = priced trials ${priced}`);
    assert.deepEqual(asked[1]!.policies.sort(), ['encoder', 'full', 'shallow:2'], 'the best third of the first rung continue');
    assert.equal(r.confidence.level, 'high', `a clear winner: ${r.confidence.words}`);
    assert.equal(r.confidence.runner_up, 'encoder');
  }
  // A cap that cannot pay for a first rung of 2 batches per candidate: no plan (auto then uses the probe).
  assert.equal(planHalving(candidates, { ...settings, capSeconds: 1 }), null);
});

test('early rungs promote by validation loss, the last rung picks by mIoU', async () => {
  const plan = planHalving(candidates, { eta: 3, trainCount: 400, batch: 8, maxEpochs: 5, capSeconds: 2000 })!;
  // After a short rung `decoder` has the lowest loss but not yet the best mIoU (head's mIoU moves first); at the last rung mIoU decides.
  const runner: RungRunner = async (rung, policies) =>
    policies.flatMap((policy) =>
      Array.from({ length: rung.seeds }, (_, seed) => {
        const early = rung.rung < plan.rungs.length - 1;
        const miou = early ? (policy === 'head' ? 0.9 : quality[policy]!) : quality[policy]! + (policy === 'decoder' ? 0.5 : 0) + 0.001 * seed;
        const loss = policy === 'decoder' ? 0.01 : 1 - quality[policy]!;
        return { policy, seed, val_miou: miou, val_loss: loss, steps: rung.steps, epochs: rung.epochs, wall_seconds: null };
      }),
    );
  const r = await runHalving(candidates, plan, runner);
  assert.equal(r.rungs[0]!.ranked_by, 'val_loss');
  assert.deepEqual(r.rungs[0]!.kept, ['decoder', 'shallow:2', 'encoder'], "kept by loss: head's early mIoU does not carry it");
  assert.equal(r.rungs[r.rungs.length - 1]!.ranked_by, 'val_miou');
  assert.equal(r.winner, 'decoder');
});

test('a runner that trains longer than asked is stopped before it passes the cap', async () => {
  const plan = planHalving(candidates, { eta: 3, trainCount: 400, batch: 8, maxEpochs: 5, capSeconds: 300 })!;
  const greedy: RungRunner = async (rung, policies) =>
    policies.flatMap((policy) =>
      Array.from({ length: rung.seeds }, (_, seed) => ({
        policy,
        seed,
        val_miou: quality[policy]!,
        val_loss: null,
        steps: rung.steps * 10,
        epochs: rung.epochs,
        wall_seconds: null,
      })),
    );
  const lines: string[] = [];
  const r = await runHalving(candidates, plan, greedy, (l) => lines.push(l));
  assert.equal(r.rungs.length, 1, 'only the first rung ran');
  assert.ok(
    lines.some((l) => /would pass the advice budget/.test(l)),
    lines.join('\n'),
  );
  assert.equal(r.winner, 'shallow:2');
});

test('confidence: the lead at the last rung against the pooled seed noise', () => {
  const tie = confidenceOf([
    { policy: 'a', val_miou_mean: 0.71, val_miou_ci95: null, val_loss_mean: null, seeds: [0.7, 0.72] },
    { policy: 'b', val_miou_mean: 0.7, val_miou_ci95: null, val_loss_mean: null, seeds: [0.68, 0.72] },
  ]);
  assert.equal(tie.level, 'low');
  assert.match(tie.words, /within noise: a near tie/);
  // Pooled SD of (0.70, 0.72) and (0.68, 0.72): sqrt((0.0002 + 0.0008) / 2).
  assert.ok(Math.abs(tie.noise_sd! - Math.sqrt(0.0005)) < 1e-12);
  const one = confidenceOf([
    { policy: 'a', val_miou_mean: 0.7, val_miou_ci95: null, val_loss_mean: null, seeds: [0.7] },
    { policy: 'b', val_miou_mean: 0.6, val_miou_ci95: null, val_loss_mean: null, seeds: [0.6] },
  ]);
  assert.equal(one.level, 'unknown');
});

test('the kind of shift: input-side when policies of the first blocks win by more than the noise', () => {
  const region = (b: string) =>
    (b.startsWith('enc') ? 'encoder' : b.startsWith('dec') ? 'decoder' : b === 'head' ? 'head' : 'bottleneck') as 'encoder' | 'decoder' | 'head' | 'bottleneck';
  assert.equal(sideOf(['enc1', 'enc2'], region), 'input');
  assert.equal(sideOf(['dec1', 'head'], region), 'output');
  assert.equal(sideOf(['enc1', 'head'], region), 'both');
  assert.equal(sideOf(['bottleneck'], region), 'middle');
  const rows = [
    { policy: 'shallow:2', blocks: ['enc1', 'enc2'], val_miou_mean: 0.66 },
    { policy: 'decoder+head', blocks: ['dec2', 'dec1', 'head'], val_miou_mean: 0.58 },
    { policy: 'full', blocks: ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head'], val_miou_mean: 0.7 },
  ];
  const input = shiftFromTrials(rows, 0.01, region, 'at the first rung')!;
  assert.equal(input.kind, 'input-side');
  assert.match(input.words, /shallow:2 beat decoder\+head by 0\.080, outside the noise/);
  assert.equal(shiftFromTrials(rows, 0.05, region, 'at the first rung')!.kind, 'unclear');
  const output = shiftFromTrials([{ ...rows[0]!, val_miou_mean: 0.4 }, rows[1]!], 0.01, region, 'at the first rung')!;
  assert.equal(output.kind, 'output-side');
});

test('a fixed cost per trial is priced: the plan stays within the cap with it, and the spending counts it', async () => {
  const settings = { eta: 3, trainCount: 400, batch: 8, maxEpochs: 5, valSecondsPerEpoch: 2 };
  const fullSweep = candidates.reduce((a, c) => a + (c.stepSeconds * 250 + 5 * 2) * 3, 0);
  const without = planHalving(candidates, { ...settings, capSeconds: 0.2 * fullSweep })!;
  const overhead = 20;
  const plan = planHalving(candidates, { ...settings, capSeconds: 0.2 * fullSweep, trialOverheadSeconds: overhead })!;
  assert.ok(plan.bound_seconds <= plan.cap_seconds + 1e-9);
  assert.ok(
    plan.rungs[0]!.epochs * plan.rungs[0]!.trainSamples < without.rungs[0]!.epochs * without.rungs[0]!.trainSamples,
    'shorter rungs when every trial costs more',
  );
  const asked: { policies: string[]; steps: number; seeds: number }[] = [];
  const r = await runHalving(candidates, plan, rigged(asked));
  const trials = asked.reduce((a, x) => a + x.policies.length * x.seeds, 0);
  const price = new Map(candidates.map((c) => [c.spec, c.stepSeconds]));
  const priced = asked.reduce((a, x, k) => a + x.policies.reduce((b, p) => b + price.get(p)! * x.steps + plan.rungs[k]!.epochs * 2, 0) * x.seeds, 0);
  assert.ok(Math.abs(r.spent_seconds - (priced + trials * overhead)) < 1e-6, `spent ${r.spent_seconds} = priced ${priced} + ${trials} trials x ${overhead}`);
  assert.ok(r.spent_seconds <= plan.cap_seconds + 1e-9);
  // So large a fixed cost that one first rung cannot pay for it: no plan.
  assert.equal(planHalving(candidates, { ...settings, capSeconds: 0.2 * fullSweep, trialOverheadSeconds: fullSweep }), null);
});
