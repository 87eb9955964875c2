// Sweeps: Pareto fronts, budgets, specs, and the behaviour that matters most: a killed sweep, rerun,
// finishes only the missing trials (a finished trial is never run twice).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { parseBudget, verdictOf } from '../../src/sweep/advise.js';
import { bestWithin, paretoFront } from '../../src/sweep/pareto.js';
import { tInterval } from '../../src/util/stats.js';
import { parsePolicies, policySlug } from '../../src/sweep/plan.js';
import { BIN, cli, sweepArgs, tinySetting } from './fixtures.js';

test('Pareto front keeps exactly the non-dominated points; bestWithin respects the budget', () => {
  const pts = [
    { cost: 1, quality: 0.5 },
    { cost: 2, quality: 0.7 },
    { cost: 3, quality: 0.6 }, // dominated by cost 2
    { cost: 2, quality: 0.7 }, // a tie: neither dominates the other
    { cost: 0.5, quality: NaN },
  ];
  assert.deepEqual(paretoFront(pts), [0, 1, 3]);
  assert.equal(bestWithin(pts, 1.5), 0);
  assert.equal(bestWithin(pts, 0.1), null);
});

test('budgets, policies and trial folder names are parsed strictly', () => {
  assert.deepEqual(parseBudget('25%params'), { kind: 'params', limit: 0.25, text: '25%params' });
  assert.deepEqual(parseBudget('0.5time'), { kind: 'time', limit: 0.5, text: '0.5time' });
  assert.throws(() => parseBudget('150%params'), /options\.budget must be/);
  assert.throws(() => parseBudget('lots'), /options\.budget must be/);
  assert.throws(() => parsePolicies('full,,full'), /twice/);
  assert.equal(policySlug('shallow:2'), 'shallow-2');
  assert.equal(policySlug('../../etc'), '..-..-etc');
});

test('the verdict says "wrong" with the gap when another policy within the budget beat the recommendation', () => {
  const p = (policy: string, miou: number, share: number) => ({
    policy,
    val_miou_mean: miou,
    params_share: share,
    flops_share: share,
    time_share: null,
    pareto_time: false,
    pareto_params: policy === 'decoder',
  });
  const v = verdictOf('head', [p('full', 0.9, 1), p('decoder', 0.8, 0.4), p('head', 0.7, 0.1)], parseBudget('50%params'));
  assert.equal(v.best_within_budget, 'decoder');
  assert.ok(Math.abs(v.gap! - 0.1) < 1e-9);
  assert.match(v.verdict, /^wrong \(by 0\.1000, noise unknown\): decoder was better/);
  assert.equal(v.kind, 'wrong');
  assert.deepEqual(v.within_budget, ['decoder', 'head']);
  assert.match(verdictOf('decoder', [p('full', 0.9, 1), p('decoder', 0.8, 0.4)], parseBudget('50%params')).verdict, /^right/);
});

test('with seeds, the verdict is "tied" when the 95% intervals overlap and "wrong ... outside noise" when they do not', () => {
  const p = (policy: string, seeds: number[], share: number) => ({
    policy,
    val_miou_mean: seeds.reduce((a, b) => a + b) / seeds.length,
    val_miou_ci95: tInterval(seeds),
    params_share: share,
    flops_share: share,
    time_share: null,
    pareto_time: false,
    pareto_params: false,
  });
  const budget = parseBudget('50%params');
  const tied = verdictOf('head', [p('full', [0.9, 0.91, 0.92], 1), p('decoder', [0.74, 0.78, 0.82], 0.4), p('head', [0.72, 0.76, 0.77], 0.1)], budget);
  assert.equal(tied.kind, 'tied');
  assert.match(tied.verdict, /^tied \(within noise of the best\): decoder scored 0\.0300 more, but the 95% intervals over seeds overlap/);
  assert.match(tied.noise, /head 0\.7500 \(95% CI 0\.\d{4}-0\.\d{4}\) overlaps decoder 0\.7800/);
  const wrong = verdictOf('head', [p('decoder', [0.8, 0.801, 0.802], 0.4), p('head', [0.7, 0.701, 0.702], 0.1)], budget);
  assert.equal(wrong.kind, 'wrong');
  assert.match(wrong.verdict, /^wrong \(by 0\.1000, outside noise\): decoder was better/);
  const right = verdictOf('decoder', [p('decoder', [0.8, 0.81, 0.82], 0.4), p('head', [0.79, 0.8, 0.81], 0.1)], budget);
  assert.equal(right.kind, 'right');
  assert.match(right.verdict, /but head is within noise of it/);
});

test('a sweep killed after its first trial, rerun, runs only the missing trials', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-sweep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir);
  const out = join(dir, 'sweep');
  const first = join(out, 'trials', '0-full-s0', 'trial.json');
  // Its own process group, killed as a whole, as Ctrl-C or a preempted machine would.
  const child = spawn(process.execPath, [BIN, ...sweepArgs(s, out), '--quiet'], { stdio: 'ignore', detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(first)) {
        clearInterval(timer);
        process.kill(-child.pid!, 'SIGKILL');
        resolve();
      }
    }, 50);
    child.on('exit', () => {
      clearInterval(timer);
      if (!existsSync(first)) reject(new Error('the sweep ended before its first trial finished'));
      else resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  const firstBytes = readFileSync(first);
  const done = readdirSync(join(out, 'trials')).filter((n) => existsSync(join(out, 'trials', n, 'trial.json')));
  assert.ok(done.length < 3, `the kill came too late: ${done.join(', ')} were all done`);

  const r = cli([...sweepArgs(s, out), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    ran: number[];
    skipped: number[];
    failed: unknown[];
    trials: { done: number; planned: number };
    policies: { policy: string; val_miou_mean: number | null; flops_share: number; trainable_parameters: number }[];
  };
  assert.ok(j.skipped.includes(0), `trial 0 was finished before the kill and must be skipped: ${r.stdout.slice(0, 200)}`);
  assert.ok(!j.ran.includes(0));
  assert.deepEqual([...j.ran, ...j.skipped].sort(), [0, 1, 2]);
  assert.deepEqual(j.trials, { planned: 3, done: 3, missing: [] });
  assert.ok(readFileSync(first).equals(firstBytes), 'the finished trial was run again');
  const full = j.policies.find((p) => p.policy === 'full')!;
  const head = j.policies.find((p) => p.policy === 'head')!;
  assert.equal(full.flops_share, 1);
  assert.ok(head.flops_share < 1 && head.trainable_parameters < full.trainable_parameters);
  for (const p of j.policies) assert.equal(typeof p.val_miou_mean, 'number');

  // A third run has nothing to do; `sweep run --trial` of a finished trial does not run it either.
  const again = cli([...sweepArgs(s, out), '--json']);
  assert.deepEqual((JSON.parse(again.stdout) as { ran: number[] }).ran, []);
  const one = cli(['sweep', 'run', '--out', out, '--trial', '1', '--json']);
  assert.equal((JSON.parse(one.stdout) as { status: string }).status, 'done-before');
  const bad = cli(['sweep', 'run', '--out', out, '--trial', '7']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--trial must be an integer from 0 to 2/);
});
