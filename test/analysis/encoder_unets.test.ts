// The analyses, the advisor and the report on an encoder U-Net, through the real CLI: a tiny
// mobilenetv2 fine-tuned decoder+head, then probe, diff (drift, CKA, reset), advise and report.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { buildUNet, saveModelFolder } from '../../src/model/index.js';
import { cli } from '../data/cli-run.js';
import { digitSet, tempDir, useNative } from '../train/helpers.js';

before(useNative);

test('probe, diff, advise and report read a mobilenetv2 U-Net by its layer map', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const data = await digitSet(join(dir, 'digits'), { count: 12 });
  const model = join(dir, 'model');
  const u = buildUNet({ arch: 'mobilenetv2', alpha: 0.35, filters: 4, classes: 4, input: [32, 32, 3], seed: 5 });
  await saveModelFolder(model, u);
  u.model.dispose();
  const run = join(dir, 'run');
  const ft = cli('finetune', '--model', model, '--data', data, '--train', 'decoder+head', '--epochs', '1', '--batch', '4', '--out', run, '--quiet');
  assert.equal(ft.code, 0, ft.stderr);
  const probe = cli('probe', '--model', model, '--data', data, '--samples', '4', '--json');
  assert.equal(probe.code, 0, probe.stderr);
  const blocks = JSON.stringify(JSON.parse(probe.stdout));
  for (const b of ['enc1', 'bottleneck', 'dec4', 'head']) assert.ok(blocks.includes(`"${b}"`), `probe names ${b}`);
  const diff = cli('diff', model, run, '--data', data, '--samples', '4', '--json');
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /block_16_project/);
  const advise = cli('advise', '--model', model, '--data', data, '--budget', '25%params', '--json');
  assert.equal(advise.code, 0, advise.stderr);
  const report = cli('report', run, '--out', join(dir, 'r.html'));
  assert.equal(report.code, 0, report.stderr);
  assert.ok(existsSync(join(dir, 'r.html')));
});
