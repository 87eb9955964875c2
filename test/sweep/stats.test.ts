// The statistics behind noise-aware verdicts, against published values (R's qt/pt, scipy.stats.t).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { incompleteBeta, intervalsOverlap, lnGamma, sampleStd, studentTCdf, studentTQuantile, tInterval } from '../../src/util/stats.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('Student t quantiles match the tables for any df and level', () => {
  // qt(0.975, df) in R.
  const known: [number, number][] = [
    [1, 12.7062047362],
    [2, 4.3026527297],
    [3, 3.1824463053],
    [4, 2.7764451052],
    [5, 2.5705818366],
    [10, 2.228138852],
    [30, 2.0422724563],
    [1000, 1.9623390808],
  ];
  for (const [df, q] of known) close(studentTQuantile(0.975, df), q, 1e-7, `qt(0.975, ${df})`);
  close(studentTQuantile(0.95, 7), 1.8945786051, 1e-7, 'qt(0.95, 7)');
  close(studentTQuantile(0.995, 2), 9.9248432009, 1e-6, 'qt(0.995, 2)');
  close(studentTQuantile(0.025, 4), -2.7764451052, 1e-7, 'qt(0.025, 4)');
  close(studentTQuantile(0.975, 2.5), 3.574654842, 1e-8, 'qt(0.975, 2.5) (scipy.stats.t.ppf)');
  close(studentTCdf(2, 3), 0.930337, 1e-6, 'pt(2, 3)');
  close(studentTCdf(0, 9), 0.5, 1e-12, 'pt(0, 9)');
  close(lnGamma(10), Math.log(362880), 1e-10, 'lgamma(10)');
  close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12, 'lgamma(0.5)');
  close(incompleteBeta(0.3, 2, 3), 0.3483, 1e-12, 'I_0.3(2,3)');
  assert.throws(() => studentTQuantile(1, 3), /p must be in/);
});

test('the t-interval of a mean; overlap needs a noise estimate on both sides', () => {
  const xs = [0.7, 0.72, 0.74];
  assert.equal(sampleStd(xs)!.toFixed(6), '0.020000');
  const ci = tInterval(xs)!;
  close(ci.mean, 0.72, 1e-12, 'mean');
  close(ci.half!, (4.3026527297 * 0.02) / Math.sqrt(3), 1e-9, 'half-width');
  const one = tInterval([0.8])!;
  assert.equal(one.half, null);
  assert.equal(tInterval([]), null);
  assert.equal(intervalsOverlap(ci, tInterval([0.76, 0.78])!), true);
  assert.equal(intervalsOverlap(ci, tInterval([0.9, 0.901, 0.902])!), false);
  assert.equal(intervalsOverlap(ci, one), false);
});
