// `bench --train SPEC --images N`: a policy's first and later epochs timed apart, its FLOPs share, and
// whether the activation cache was used; and `finetune` recording the cache decision in run.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { saveModelFolder } from '../../src/model/index.js';
import { cli } from '../data/cli-run.js';
import { digitSet, tempDir, tinyUNet } from './helpers.js';

const SMALL = ['--images', '12', '--height', '32', '--width', '32', '--filters', '4', '--batch', '4', '--epochs', '2', '--json'];

test('bench --train head: cached, later epoch timed apart, FLOPs share a few percent; --no-cache and encoder say why not', { timeout: 120_000 }, () => {
  const head = cli('bench', '--train', 'head', ...SMALL);
  assert.equal(head.code, 0, head.stderr);
  const r = JSON.parse(head.stdout) as Record<string, unknown>;
  assert.equal(r.cache, true);
  assert.ok((r.epoch_ms as number) > 0 && (r.first_epoch_ms as number) > 0);
  assert.equal((r.later_epochs_ms as number[]).length, 1);
  assert.ok((r.flops_share as number) > 0 && (r.flops_share as number) < 0.1, `head flops_share ${r.flops_share}`);

  const off = JSON.parse(cli('bench', '--train', 'head', '--no-cache', ...SMALL).stdout) as Record<string, unknown>;
  assert.equal(off.cache, false);
  assert.match(off.cache_reason as string, /options\.cache/);
  assert.ok((off.flops_share as number) > (r.flops_share as number), 'without the cache the prefix forward counts');

  const enc = JSON.parse(cli('bench', '--train', 'encoder', ...SMALL).stdout) as Record<string, unknown>;
  assert.equal(enc.cache, false);
  assert.match(enc.cache_reason as string, /enc1_conv1 trains/);
  assert.ok((enc.flops_share as number) > 0.5 && (enc.flops_share as number) < 1);
});

test('bench: --images without --train and --peer with --train are usage errors', () => {
  const a = cli('bench', '--images', '10');
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--images goes with --train/);
  const b = cli('bench', '--train', 'head', '--peer');
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--peer times a single step/);
  const c = cli('bench', '--train', 'nosuchblock', ...SMALL);
  assert.equal(c.code, 1);
});

test('finetune records in run.json whether the activation cache was used, and --no-cache switches it off', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const data = await digitSet(join(dir, 'data'));
  const unet = tinyUNet();
  await saveModelFolder(join(dir, 'pretrained'), unet);
  unet.model.dispose();
  const base = ['finetune', '--model', join(dir, 'pretrained'), '--data', data, '--epochs', '1', '--batch', '4', '--quiet'];
  const on = cli(...base, '--train', 'decoder+head', '--out', join(dir, 'on'));
  assert.equal(on.code, 0, on.stderr);
  const off = cli(...base, '--train', 'decoder+head', '--no-cache', '--out', join(dir, 'off'));
  assert.equal(off.code, 0, off.stderr);
  const setup = (run: string) =>
    (JSON.parse(readFileSync(join(dir, run, 'run.json'), 'utf8')) as { setup: { activationCache: { used: boolean; reason: string }[] } }).setup.activationCache;
  assert.equal(setup('on')[0]!.used, true);
  assert.deepEqual(setup('off')[0], { phase: 0, from_epoch: 1, used: false, reason: 'switched off (options.cache)' });
  const sha = (run: string) => (JSON.parse(readFileSync(join(dir, run, 'model', 'unet.json'), 'utf8')) as { weights: { sha256: string } }).weights.sha256;
  assert.equal(sha('on'), sha('off'));
});
