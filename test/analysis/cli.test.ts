import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { ANALYSIS_COMMANDS } from '../../src/cli/commands/analysis.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { saveModelFolder } from '../../src/model/index.js';
import { UserError } from '../../src/util/errors.js';
import { digitSet, perturb, tempDir, tiny } from './helpers.js';

await tf.setBackend('cpu');

/** Runs `diff` or `probe` in this process as main.ts does: UserError -> its exit code and message. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = ANALYSIS_COMMANDS.find((c) => c.name === argv[0])!;
  const out: string[] = [];
  const err: string[] = [];
  try {
    const args = parseCommandArgs(cmd, argv.slice(1));
    const code = await cmd.run(args, { out: (l) => out.push(l), err: (l) => err.push(l), json: args.values.json === true, quiet: args.values.quiet === true });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { code: e.exitCode, stdout: out.join('\n'), stderr: e.message };
  }
  // The real backend choice (native when built) is restored by the next test's setBackend.
}

test('diff: JSON rows, CSV, run folders, the table, a replaced head, an architecture mismatch', async (t) => {
  const dir = tempDir(t);
  const a = tiny();
  const b = tiny();
  perturb(b, 0.02);
  await saveModelFolder(join(dir, 'pre'), a);
  await saveModelFolder(join(dir, 'run', 'model'), b); // a run folder holds its model in model/
  await saveModelFolder(join(dir, 'wide'), tiny({ filters: 8 }));
  await saveModelFolder(join(dir, 'newhead'), tiny({ classes: 5 }));
  const data = await digitSet(join(dir, 'data'));

  const j = await run(
    'diff',
    join(dir, 'pre'),
    join(dir, 'run'),
    '--json',
    '--csv',
    join(dir, 'drift.csv'),
    '--data',
    data,
    '--samples',
    '4',
    '--source-data',
    data,
  );
  await tf.setBackend('cpu');
  assert.equal(j.code, 0, j.stderr);
  const r = JSON.parse(j.stdout);
  assert.equal(r.after, join(dir, 'run', 'model'));
  const row = r.layers.find((l: { layer: string }) => l.layer === 'enc1_conv1');
  for (const k of ['layer', 'block', 'region', 'abs', 'rel', 'rms', 'cos', 'filter_max', 'filter_median', 'spectral', 'bias_abs', 'bias_rel'])
    assert.ok(k in row, k);
  assert.equal(row.block, 'enc1');
  assert.equal(row.region, 'encoder');
  assert.ok(row.abs > 0 && row.cos < 1);
  assert.equal(r.target.samples, 4);
  assert.equal(r.target.blocks.length, 6);
  assert.ok(r.target.blocks.every((x: { cka: number }) => x.cka > 0 && x.cka <= 1 + 1e-9));
  assert.ok(typeof r.source.before_miou === 'number' && typeof r.source.after_miou === 'number');
  const csv = readFileSync(join(dir, 'drift.csv'), 'utf8').trim().split('\n');
  assert.match(csv[0]!, /^level,name,layer,block,region,weight,n,abs,rel,rms,cos,filter_max,filter_median,spectral,bias_abs,bias_rel/);
  assert.ok(csv.some((l) => l.startsWith('block,enc1,')));

  const text = await run('diff', join(dir, 'pre'), join(dir, 'run'));
  await tf.setBackend('cpu');
  assert.equal(text.code, 0);
  const lines = text.stdout.split('\n');
  const order = ['= enc1', '= enc2', '= bottleneck', '= dec2', '= dec1', '= head'].map((p) => lines.findIndex((l) => l.startsWith(p)));
  assert.ok(
    order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!)),
    `U order: ${order}`,
  );

  const head = await run('diff', join(dir, 'pre'), join(dir, 'newhead'), '--json');
  await tf.setBackend('cpu');
  assert.equal(head.code, 0, head.stderr);
  assert.deepEqual(
    JSON.parse(head.stdout).replaced.map((x: { layer: string }) => x.layer),
    ['head_logits'],
  );

  const bad = await run('diff', join(dir, 'pre'), join(dir, 'wide'));
  await tf.setBackend('cpu');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /different architectures; \d+ layers differ: enc1_conv1 \(kernel \[3,3,1,4\] vs \[3,3,1,8\]/);
  assert.equal((await run('diff', join(dir, 'pre'))).code, 2);
  const missing = await run('diff', join(dir, 'pre'), join(dir, 'nope'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: no such folder/);
  assert.ok(!existsSync(join(dir, 'nope')));
  for (const m of [a, b]) m.model.dispose();
});

test('probe --json: one object with ranked layers and blocks', async (t) => {
  const dir = tempDir(t);
  const a = tiny();
  await saveModelFolder(join(dir, 'pre'), a);
  const data = await digitSet(join(dir, 'data'));
  const r = await run('probe', '--model', join(dir, 'pre'), '--data', data, '--samples', '2', '--json');
  await tf.setBackend('cpu');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.new_head, false);
  assert.equal(j.samples, 2);
  assert.ok(j.layers.length > 0 && j.blocks.every((b: { rgn: number }) => b.rgn > 0));
  assert.equal((await run('probe', '--data', data)).code, 2);
  a.model.dispose();
});
