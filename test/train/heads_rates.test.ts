import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { saveModelFolder } from '../../src/model/index.js';
import { applyFreeze } from '../../src/train/freeze.js';
import { resolveTrainSpec } from '../../src/train/freeze_spec.js';
import { buildLrGroups, layerMultipliers, parseLrMult } from '../../src/train/lr_groups.js';
import { FusedAdam, makeOptimizer } from '../../src/train/optimizers/index.js';
import { withNewHead } from '../../src/train/new_head.js';
import { parseUnfreeze } from '../../src/train/unfreeze.js';
import { digitSet, sameBits, snapshot, tempDir, tinyUNet, trainTiny, useNative } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));
before(useNative);

test('a model with other classes gets a new head: other layers copied, refused when the head is frozen', async (t) => {
  const dir = tempDir(t);
  const data = await digitSet(join(dir, 'data'), { digits: [0, 4] }); // 6 classes; the model has 4
  const unet = tinyUNet();
  await saveModelFolder(join(dir, 'm'), unet);
  const fresh = await withNewHead(unet, 6, 9);
  const [a, b] = [snapshot(unet.model), snapshot(fresh.model)];
  for (const [k, w] of a) if (!k.startsWith('head_logits/')) assert.ok(sameBits(w, b.get(k)!), `${k} not copied`);
  assert.deepEqual(fresh.model.outputs[0]!.shape, [null, 32, 32, 6]);
  unet.model.dispose();
  fresh.model.dispose();

  const frozen = spawnSync(
    process.execPath,
    [BIN, 'finetune', '--model', join(dir, 'm'), '--data', data, '--train', 'decoder', '--epochs', '1', '--out', join(dir, 'r1')],
    { encoding: 'utf8' },
  );
  assert.equal(frozen.status, 1);
  assert.match(frozen.stderr, /freezes the head.*4 classes and the data has 6.*head_logits/);

  const ok = spawnSync(
    process.execPath,
    [
      BIN,
      'finetune',
      '--model',
      join(dir, 'm'),
      '--data',
      data,
      '--train',
      'decoder+head',
      '--epochs',
      '1',
      '--batch',
      '4',
      '--out',
      join(dir, 'r2'),
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(ok.status, 0, ok.stderr);
  const unetJson = JSON.parse(readFileSync(join(dir, 'r2', 'model', 'unet.json'), 'utf8')) as {
    architecture: { classes: number };
    classes: { name: string }[];
  };
  assert.equal(unetJson.architecture.classes, 6);
  assert.equal(unetJson.classes[5]!.name, 'digit_4');
  const ev = spawnSync(process.execPath, [BIN, 'evaluate', '--model', join(dir, 'r2'), '--data', data, '--json'], { encoding: 'utf8' });
  assert.equal(ev.status, 0, ev.stderr);
  const m = JSON.parse(ev.stdout) as { miou: number; per_class: unknown[]; samples: number };
  assert.equal(m.per_class.length, 6);
  assert.equal(m.samples, 8);
});

test('--lr-mult groups get their rates; multiplier 0 leaves a region unchanged', async (t) => {
  const unet = tinyUNet();
  const mult = layerMultipliers(unet.layerMap, parseLrMult('encoder=0.1,bottleneck=0.3,enc1=0'));
  const frozen = applyFreeze(unet.model, unet.layerMap, resolveTrainSpec('all', unet.layerMap));
  const groups = buildLrGroups(frozen.variables, mult, () => makeOptimizer('adam', 1));
  assert.deepEqual(
    groups.map((g) => [g.mult, g.blocks]),
    [
      [0.1, ['enc2']],
      [0.3, ['bottleneck']],
      [1, ['dec2', 'dec1', 'head']],
    ],
  );
  for (const g of groups) g.optimizer.dispose();
  unet.model.dispose();

  // In training: each group's optimizer runs at lr x its multiplier (checked on the optimizers after a run).
  const dir = tempDir(t);
  const data = await digitSet(join(dir, 'data'));
  const run = tinyUNet();
  const before = snapshot(run.model);
  const seen = new Map<number, number>();
  const orig = FusedAdam.prototype.applyGradients;
  FusedAdam.prototype.applyGradients = function (this: FusedAdam, g) {
    seen.set(Math.round(this.learningRate * 1e9), (seen.get(Math.round(this.learningRate * 1e9)) ?? 0) + 1);
    return orig.call(this, g);
  };
  try {
    await trainTiny(run, data, join(dir, 'run'), { lr: 0.01, lrMult: 'encoder=0.1,bottleneck=0.3,enc1=0' });
  } finally {
    FusedAdam.prototype.applyGradients = orig;
  }
  assert.deepEqual(
    [...seen.keys()].sort((x, y) => x - y),
    [1e6, 3e6, 1e7],
  );
  const after = snapshot(run.model);
  assert.ok(sameBits(before.get('enc1_conv1/kernel')!, after.get('enc1_conv1/kernel')!), 'enc1 (multiplier 0) changed');
  assert.ok(!sameBits(before.get('enc2_conv1/kernel')!, after.get('enc2_conv1/kernel')!));
  run.model.dispose();
});

test('--lr-spread spreads rates geometrically from the input side to the head; unfreeze stages are cumulative', () => {
  const unet = tinyUNet();
  const mult = layerMultipliers(unet.layerMap, [], 100); // LO = HI / 100
  assert.ok(Math.abs(mult.get('enc1_conv1')! - 0.01) < 1e-12);
  assert.equal(mult.get('head_logits'), 1);
  const bott = mult.get('bottleneck_conv1')!;
  assert.ok(Math.abs(bott - 100 ** (-3 / 5)) < 1e-12, `bottleneck multiplier ${bott}`); // block 3 of 6
  unet.model.dispose();
  const phases = parseUnfreeze('head@0,decoder@2,all@4', 6);
  assert.deepEqual(
    phases.map((p) => [p.startEpoch, p.spec]),
    [
      [0, 'head'],
      [2, 'head+decoder'],
      [4, 'head+decoder+all'],
    ],
  );
  assert.throws(() => parseUnfreeze('head@1', 4), /first stage must start at epoch 0/);
  const ft = parseUnfreeze('fine_tune', 4);
  assert.deepEqual(
    ft.map((p) => [p.startEpoch, p.spec, p.lrScale, p.spreadRatio]),
    [
      [0, 'head', 1, undefined],
      [1, 'all', 0.5, 100],
    ],
  );
});
