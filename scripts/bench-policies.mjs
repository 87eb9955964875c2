#!/usr/bin/env node
// The README's partial fine-tuning cost table: `unet-transfer bench --train P` for each policy, `all` first and
// last (the machine's speed drifts; each policy is compared with the mean of the two), as a Markdown table
// and one JSON line. The policies run `--repeat` rounds in turn and each one's later epoch is the median over
// all its runs' later epochs: a policy whose runs take seconds (`head`) would otherwise rest on one moment of
// a noisy host. Usage (after a build):
//   node scripts/bench-policies.mjs [--epochs 8] [--repeat 3] [--images 1000] [--policies head,bottleneck,decoder+head,encoder]
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    images: { type: 'string', default: '1000' },
    policies: { type: 'string', default: 'head,bottleneck,decoder+head,encoder' },
  },
});
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'unet-transfer.js');
const common = ['--images', values.images, '--height', '64', '--width', '64', '--filters', '16', '--epochs', values.epochs, '--json'];

function bench(policy) {
  process.stderr.write(`bench --train ${policy} ...\n`);
  const out = execFileSync(process.execPath, [cli, 'bench', '--train', policy, ...common], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const policies = values.policies.split(',');
const first = bench('all');
const runs = new Map(policies.map((p) => [p, []]));
for (let round = 0; round < Number(values.repeat); round++) for (const p of policies) runs.get(p).push(bench(p));
const last = bench('all');
// One row per policy: its first run's fields, the later epochs of all its runs pooled.
const rows = policies.map((p) => {
  const all = runs.get(p);
  const later = all.flatMap((r) => r.later_epochs_ms);
  return { ...all[0], epoch_ms: Math.round(median(later) * 10) / 10, later_epochs_ms: later, runs: all.length };
});
const allMs = (first.epoch_ms + last.epoch_ms) / 2;

const s = (ms) => `${(ms / 1000).toFixed(ms < 1000 ? 3 : 2)} s`;
const lines = [
  '| policy | trainable params | cache | flops_share | first epoch | later epoch (median) | later / `all` | limit 1.25 x flops_share |',
  '|---|---:|---|---:|---:|---:|---:|---:|',
  `| all | ${first.trainable_params.toLocaleString('en')} | no | 1.000 | ${s(first.first_epoch_ms)} | ${s(first.epoch_ms)}, ${s(last.epoch_ms)} | 1.00 | 1.25 |`,
];
const results = [];
for (const r of rows) {
  const ratio = r.epoch_ms / allMs;
  const limit = 1.25 * r.flops_share;
  results.push({
    policy: r.policy,
    epoch_ms: r.epoch_ms,
    later_epochs_ms: r.later_epochs_ms,
    ratio: Math.round(ratio * 1000) / 1000,
    limit: Math.round(limit * 1000) / 1000,
    within: ratio <= limit,
  });
  const cache = r.cache ? `yes, ${Math.round(r.cache_mb)} MiB` : 'no';
  lines.push(
    `| ${r.policy} | ${r.trainable_params.toLocaleString('en')} | ${cache} | ${r.flops_share.toFixed(3)} | ${s(r.first_epoch_ms)} | ${s(r.epoch_ms)} | ${ratio.toFixed(3)}${ratio <= limit ? '' : ' **(over)**'} | ${limit.toFixed(3)} |`,
  );
}
console.log(lines.join('\n'));
console.log(
  JSON.stringify({
    all_epoch_ms: [first.epoch_ms, last.epoch_ms],
    epochs: Number(values.epochs),
    repeat: Number(values.repeat),
    images: Number(values.images),
    results,
  }),
);
