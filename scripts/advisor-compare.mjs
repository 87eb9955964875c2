// The advisor against fixed rules, on a finished sweep: for each advice folder (advise --out DIR, run with the
// sweep's settings) and each fixed rule ("always decoder+head", "always head", "always encoder", "always
// deep:3"), the verdict against the sweep's policies within the same budget (noise-aware: right / tied /
// wrong), and the advice's measured compute (its trials' wall seconds) over the sweep's.
//   node scripts/advisor-compare.mjs SWEEP_DIR ADVICE_DIR... [--json]
// The sweep must include every advice's pick and the fixed rules (sweep --policies ...,deep:3,PICK).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { verdictOf } from '../dist/src/sweep/advise.js';
import { collectSweep } from '../dist/src/sweep/collect.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const [sweepDir, ...adviceDirs] = args.filter((a) => a !== '--json');
if (!sweepDir || adviceDirs.length === 0) {
  console.error('usage: node scripts/advisor-compare.mjs SWEEP_DIR ADVICE_DIR... [--json]');
  process.exit(2);
}
const RULES = ['decoder+head', 'head', 'encoder', 'deep:3'];
const s = collectSweep(sweepDir);
const sweepWall = s.results.reduce((a, r) => a + r.wall_seconds, 0);
const rows = [];
for (const dir of adviceDirs) {
  const a = JSON.parse(readFileSync(join(dir, 'advice.json'), 'utf8'));
  const v = verdictOf(a.spec, s.policies, a.budget);
  const wall = a.halving ? a.halving.measured_wall_seconds : 0;
  // The full sweep the advice stands in for: the policies its cap was a share of (the named ones).
  const named = new Set(a.halving?.full_sweep.policies ?? s.policies.map((p) => p.policy));
  const namedWall = s.results.filter((r) => named.has(r.policy)).reduce((x, r) => x + r.wall_seconds, 0);
  const rules = RULES.map((rule) => {
    const r = verdictOf(rule, s.policies, a.budget);
    const p = s.policies.find((x) => x.policy === rule);
    const cost = a.budget.kind === 'params' ? p?.params_share : (p?.time_share ?? p?.flops_share);
    return { rule, kind: cost !== undefined && cost > a.budget.limit + 1e-9 ? 'over budget' : r.kind, gap: r.gap };
  });
  rows.push({
    advice: dir,
    budget: a.budget.text,
    strategy: a.strategy,
    spec: a.spec,
    kind: v.kind,
    gap: v.gap,
    best: v.best_within_budget,
    verdict: v.verdict,
    shift: a.shift?.kind,
    confidence: a.halving?.confidence?.level ?? null,
    spent_share_priced: a.halving ? a.halving.spent_seconds / a.halving.full_sweep.seconds : 0,
    wall_seconds: wall,
    wall_share: namedWall > 0 ? wall / namedWall : null,
    rules,
  });
}
if (json) {
  console.log(JSON.stringify({ sweep: sweepDir, sweep_wall_seconds: sweepWall, rows }));
} else {
  const f = (x, d = 3) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
  console.log(`sweep ${sweepDir}: ${s.trials.done}/${s.trials.planned} trials, ${sweepWall.toFixed(0)} s of trial wall time`);
  console.log(
    '| budget | advice (strategy) | verdict | gap | best within budget | shift said | confidence | advice compute (priced / wall share of the sweep) | ' +
      RULES.map((r) => `always ${r}`).join(' | ') +
      ' |',
  );
  console.log('|---|---|---|---:|---|---|---|---:|' + RULES.map(() => '---|').join(''));
  for (const r of rows) {
    console.log(
      `| ${r.budget} | ${r.spec} (${r.strategy}) | ${r.kind} | ${f(r.gap)} | ${r.best} | ${r.shift ?? '-'} | ${r.confidence ?? '-'} | ${(r.spent_share_priced * 100).toFixed(0)}% / ${r.wall_share === null ? '-' : `${(r.wall_share * 100).toFixed(0)}%`} | ${r.rules.map((x) => `${x.kind}${x.gap ? ` (${f(x.gap)})` : ''}`).join(' | ')} |`,
    );
  }
}
