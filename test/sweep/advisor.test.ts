// The advisor end to end on a tiny model: measured prices (cached), halving as ordinary resumable sweeps
// within its cap, and `--verify` printing intervals and saying "tied" when they overlap.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { DEFAULT_DIGIT_SCENES, generateDigitScenes } from '../../src/data/index.js';
import { loadModelFolder } from '../../src/model/index.js';
import { priceSteps } from '../../src/sweep/step_prices.js';
import { timePolicySteps } from '../../src/train/step_timer.js';
import { cli, tinySetting } from './fixtures.js';

interface AdviceJson {
  spec: string;
  blocks: string[];
  strategy: string;
  strategy_reason: string;
  time_share: number | null;
  shift: { kind: string; from: string; words: string };
  halving: {
    spent_seconds: number;
    advice_budget: number;
    full_sweep: { seconds: number };
    calibration: { policy: string; overhead_seconds: number } | null;
    plan: { cap_seconds: number; trial_overhead_seconds: number; rungs: { candidates: number }[] };
    dirs: string[];
    winner: string;
    candidates: { spec: string }[];
    confidence: { level: string };
  } | null;
  verify: { kind: string; verdict: string } | null;
}

test('step prices: measured once, then read from the cache; timing leaks no tensors', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-prices-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir);
  const folder = await loadModelFolder(s.model);
  try {
    const before = tf.memory().numTensors;
    await timePolicySteps(folder, ['head', 'decoder'], { batch: 4, rounds: 1 });
    assert.equal(tf.memory().numTensors, before, 'timing leaves no tensors behind');
    const file = join(dir, 'step-times.json');
    const first = await priceSteps(s.model, folder, ['head', 'decoder+head', 'decoder'], { batch: 4, cacheFile: file });
    assert.ok(existsSync(file));
    assert.ok(first.timing_seconds > 0);
    assert.deepEqual(
      first.prices.map((p) => p.policy),
      ['full', 'head', 'decoder+head', 'decoder'],
    );
    for (const p of first.prices) assert.ok(p.seconds! > 0 && p.source === 'measured' && p.flops_share > 0, JSON.stringify(p));
    assert.equal(first.prices[0]!.time_share, 1);
    assert.equal(first.prices.find((p) => p.policy === 'head')!.cache, true, 'head trains from the activation cache');
    const again = await priceSteps(s.model, folder, ['head', 'decoder'], { batch: 4, cacheFile: file });
    assert.equal(again.timing_seconds, 0, 'nothing measured twice');
    assert.deepEqual(
      again.prices.map((p) => [p.policy, p.source, p.seconds]),
      [
        ['full', 'cached', first.prices[0]!.seconds],
        ['head', 'cached', first.prices[1]!.seconds],
        ['decoder', 'cached', first.prices[3]!.seconds],
      ],
    );
    const flops = await priceSteps(s.model, folder, ['head'], { batch: 4, measure: false });
    assert.equal(flops.prices[1]!.source, 'flops');
    assert.equal(flops.prices[1]!.seconds, null);
  } finally {
    folder.model.dispose();
  }
});

test('advise --strategy halving: rungs are resumable sweeps, the spending stays within the cap', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-halving-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir);
  const out = join(dir, 'advice');
  const args = [
    'advise',
    '--model',
    s.model,
    '--data',
    s.data,
    '--budget',
    '0.9time',
    '--strategy',
    'halving',
    '--advice-budget',
    '1',
    '--seeds',
    '4',
    '--epochs',
    '2',
    '--batch',
    '4',
    '--lr',
    '0.01',
    '--step-times',
    join(dir, 'st.json'),
    '--out',
    out,
  ];
  const r = cli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^recommendation within 0\.9time: --train \S+/);
  assert.match(r.stdout, /Strategy: successive halving of short trials/);
  assert.match(r.stdout, /Rung 1: \d+ candidate\(s\)/);
  assert.match(r.stdout, /Compute: the trials spent [\d.]+ priced s .* of a cap of/);
  assert.match(r.stdout, /The evidence (suggests an (input|output)-side shift|leans to|does not say which side)/);
  const a = JSON.parse(readFileSync(join(out, 'advice.json'), 'utf8')) as AdviceJson;
  assert.equal(a.strategy, 'halving');
  assert.ok(
    a.halving && a.halving.spent_seconds <= a.halving.advice_budget * a.halving.full_sweep.seconds + 1e-9,
    `spent ${a.halving?.spent_seconds} within the cap of ${a.halving?.advice_budget} x ${a.halving?.full_sweep.seconds}`,
  );
  // A calibration trial measured what a trial costs besides its steps; the plan prices every trial with it.
  assert.ok(a.halving.calibration && a.halving.calibration.overhead_seconds >= 0);
  assert.equal(a.halving.plan.trial_overhead_seconds, a.halving.calibration.overhead_seconds);
  assert.ok(existsSync(join(out, 'halving', 'calibration', 'sweep.json')));
  assert.equal(a.spec, a.halving.winner);
  assert.ok(a.time_share !== null && a.time_share <= 0.9 + 1e-9, `the winner fits the budget by measured time: ${a.time_share}`);
  assert.ok(a.halving.candidates.length >= 3 && a.halving.candidates.some((c) => c.spec === 'head'));
  assert.equal(a.shift.from, 'trials');
  // Every rung is an ordinary sweep: collectable, and a rerun trains nothing again.
  const rung1 = join(out, 'halving', 'rung-1');
  assert.ok(existsSync(join(rung1, 'sweep.json')) && existsSync(join(rung1, 'plan.json')));
  const collected = cli(['sweep', 'collect', rung1, '--json']);
  assert.equal(collected.code, 0, collected.stderr);
  assert.equal((JSON.parse(collected.stdout) as { trials: { planned: number; done: number } }).trials.done, a.halving.plan.rungs[0]!.candidates);
  const trial = join(
    rung1,
    'trials',
    readdirSync(join(rung1, 'trials')).find((n) => n.startsWith('0-'))!,
    'trial.json',
  );
  const mtime = statSync(trial).mtimeMs;
  const again = cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(statSync(trial).mtimeMs, mtime, 'a finished trial of a rung is not run again');
  assert.equal((JSON.parse(readFileSync(join(out, 'advice.json'), 'utf8')) as AdviceJson).spec, a.spec, 'the same advice from the same trials');
  // Without options.out, auto uses the probe and says why.
  const probe = cli(['advise', '--model', s.model, '--data', s.data, '--budget', '0.9time', '--batch', '4', '--step-times', join(dir, 'st.json'), '--json']);
  assert.equal(probe.code, 0, probe.stderr);
  const p = JSON.parse(probe.stdout) as AdviceJson;
  assert.equal(p.strategy, 'probe');
  assert.match(p.strategy_reason, /options\.out is not given/);
  const bad = cli(['advise', '--model', s.model, '--data', s.data, '--strategy', 'halving']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--strategy halving needs --out/);
  const badEta = cli(['advise', '--model', s.model, '--data', s.data, '--strategy', 'sometimes']);
  assert.equal(badEta.code, 2);
  assert.match(badEta.stderr, /--strategy must be one of probe, halving, auto/);
});

test('advise --verify prints 95% intervals and says "tied" when they overlap', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir);
  const base = ['advise', '--model', s.model, '--data', s.data, '--budget', '95%params', '--strategy', 'probe', '--batch', '4', '--lr', '0.01'];
  const first = cli([...base, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const pick = JSON.parse(first.stdout) as AdviceJson;
  // The same layers under another name train to the same results, so the two cannot be told apart: a tie.
  const alias = pick.blocks.join('+');
  assert.notEqual(alias, pick.spec);
  const r = cli([...base, '--verify', '--policies', `head,${alias}`, '--seeds', '2', '--epochs', '1', '--out', join(dir, 'sweep')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /95% CI/);
  assert.match(
    r.stdout,
    new RegExp(`${alias.replace(/\+/g, '\\+')}\\s+0\\.\\d{4}\\s+0\\.\\d{4}\\s+\\d\\.\\d{3}-\\d\\.\\d{3}`),
    "the table shows each policy's interval",
  );
  assert.match(
    r.stdout,
    /verified against the sweep: tied \(within noise of the best\): .* the 95% intervals over seeds overlap \(.*\(95% CI 0\.\d{4}-0\.\d{4}\) overlaps/,
  );
  const a = JSON.parse(readFileSync(join(dir, 'sweep', 'advice.json'), 'utf8')) as AdviceJson;
  assert.equal(a.verify!.kind, 'tied');
  // Causal evidence: a short full fine-tune, and each block's reset sensitivity in the scores.
  const reset = cli([...base, '--evidence', 'reset', '--json']);
  assert.equal(reset.code, 0, reset.stderr);
  const withReset = JSON.parse(reset.stdout) as { evidence: { block: string; reset?: number | null }[]; explanation: string[] };
  assert.ok(
    withReset.evidence.every((e) => typeof e.reset === 'number'),
    JSON.stringify(withReset.evidence),
  );
  assert.match(withReset.explanation[0]!, /reset sensitivity after a short full fine-tune/);
});

test('advise on a target with other classes: every candidate, the pick and the verify sweep train the new head', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-newhead-advice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir);
  // Digits 3-7: background + 5 classes, where the model predicts 4.
  const other = join(dir, 'other');
  await generateDigitScenes(other, { ...DEFAULT_DIGIT_SCENES, size: 32, count: 8, valCount: 4, digits: [3, 7], seed: 2 });
  const out = join(dir, 'advice');
  const common = ['--model', s.model, '--data', other, '--budget', '0.9time', '--batch', '4', '--lr', '0.01', '--step-times', join(dir, 'st.json')];
  const r = cli(['advise', ...common, '--strategy', 'halving', '--advice-budget', '1', '--seeds', '4', '--epochs', '2', '--out', join(dir, 'halving')]);
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(readFileSync(join(dir, 'halving', 'advice.json'), 'utf8')) as AdviceJson;
  assert.ok(a.blocks.includes('head'), `the pick trains the head: ${a.spec}`);
  assert.ok(
    a.halving!.candidates.some((c) => c.spec === 'encoder+head'),
    'encoder is tried with the head',
  );
  for (const c of a.halving!.candidates) assert.match(c.spec, /head|full|all|deep/, `candidate ${c.spec} trains the head`);
  const v = cli(['advise', ...common, '--strategy', 'probe', '--verify', '--policies', 'head,encoder,decoder', '--seeds', '1', '--epochs', '1', '--out', out]);
  assert.equal(v.code, 0, v.stderr);
  const verified = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { policies: { policy: string }[] };
  assert.ok(
    verified.policies.some((p) => p.policy === 'encoder+head'),
    'the verify sweep trains encoder with the head',
  );
  assert.ok(!verified.policies.some((p) => p.policy === 'encoder'));
});
