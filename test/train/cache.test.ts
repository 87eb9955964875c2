// The frozen-prefix activation cache: bitwise the same training with and without it (in memory and
// spilled to disk), on only when a frozen prefix does work and the data do not change between epochs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { digitSet, sameBits, snapshot, tempDir, tinyUNet, trainTiny, useNative } from './helpers.js';

let data = '';
before(async () => {
  await useNative();
});

async function dataOnce(): Promise<string> {
  if (!data) data = await digitSet(join(tempDir({ after: () => {} }, 'unet-cache-data-'), 'digits'), { count: 20 });
  return data;
}

/** Trains a fresh tiny U-Net; returns its weights, metrics lines and log. */
async function run(
  t: { after: (fn: () => void) => void },
  train: string,
  cache: { enabled: boolean; limitMb?: number },
  o: { augment?: string; epochs?: number; arch?: 'course' | 'bn' } = {},
) {
  const unet = tinyUNet(o.arch ? { arch: o.arch } : {});
  const log: string[] = [];
  const runDir = tempDir(t);
  const r = await trainTiny(
    unet,
    await dataOnce(),
    runDir,
    { train, epochs: o.epochs ?? 3, batch: 3, augment: o.augment ?? 'none' },
    { cache, log: (l) => log.push(l) },
  );
  const weights = snapshot(unet.model);
  unet.model.dispose();
  return { weights, log, r, runDir };
}

function assertSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  assert.equal(a.size, b.size);
  for (const [k, w] of a) assert.ok(sameBits(w, b.get(k)!), `${what}: ${k} differs`);
}

test(
  '--train decoder+head: bitwise the same weights and losses with the cache (in memory, and spilled to disk) as without',
  { timeout: 120_000 },
  async (t) => {
    const off = await run(t, 'decoder+head', { enabled: false });
    const on = await run(t, 'decoder+head', { enabled: true });
    const spill = await run(t, 'decoder+head', { enabled: true, limitMb: 0.05 });
    assert.match(off.log.join('\n'), /activation cache: off \(switched off \(options\.cache\)\)/);
    assert.match(on.log.join('\n'), /activation cache: on, frozen prefix enc1, enc2, bottleneck/);
    assert.match(spill.log.join('\n'), /MiB on disk/);
    assertSameWeights(off.weights, on.weights, 'cache in memory');
    assertSameWeights(off.weights, spill.weights, 'cache spilled to disk');
    // Something trained, and the losses of every epoch agree.
    const before = snapshot(tinyUNet().model);
    assert.ok(!sameBits(before.get('dec1_conv1/kernel')!, on.weights.get('dec1_conv1/kernel')!));
    assert.ok(sameBits(before.get('enc1_conv1/kernel')!, on.weights.get('enc1_conv1/kernel')!));
    assert.deepEqual([on.r.final?.train_loss, on.r.final?.val_loss], [off.r.final?.train_loss, off.r.final?.val_loss]);
    assert.ok(
      !existsSync(join(spill.runDir, 'activation-cache')) || readdirSync(join(spill.runDir, 'activation-cache')).length === 0,
      'the spill file is removed at the end',
    );
  },
);

test('head and bottleneck (BN arch, frozen BN in inference mode) train bitwise the same with the cache', { timeout: 120_000 }, async (t) => {
  for (const train of ['head', 'bottleneck']) {
    const off = await run(t, train, { enabled: false }, { arch: 'bn', epochs: 2 });
    const on = await run(t, train, { enabled: true }, { arch: 'bn', epochs: 2 });
    assert.match(on.log.join('\n'), /activation cache: on/, train);
    assertSameWeights(off.weights, on.weights, train);
  }
});

test('the cache is off, with the reason, when the first layer trains or augmentation is random', { timeout: 120_000 }, async (t) => {
  const enc = await run(t, 'encoder', { enabled: true }, { epochs: 1 });
  assert.match(enc.log.join('\n'), /activation cache: off \(enc1_conv1 trains/);
  const aug = await run(t, 'decoder', { enabled: true }, { epochs: 1, augment: 'flip' });
  assert.match(aug.log.join('\n'), /activation cache: off \(augmentation flip changes the images every epoch\)/);
});

test('tf.memory().numTensors is stable across cached epochs', { timeout: 120_000 }, async (t) => {
  const unet = tinyUNet();
  const counts: number[] = [];
  await trainTiny(
    unet,
    await dataOnce(),
    tempDir(t),
    { train: 'decoder+head', epochs: 4, batch: 3 },
    { cache: { enabled: true }, onEpoch: () => counts.push(tf.memory().numTensors) },
  );
  assert.equal(counts[3], counts[1], `tensors per epoch: ${counts.join(', ')}`);
  assert.equal(counts[1], counts[0], `tensors per epoch: ${counts.join(', ')}`);
  unet.model.dispose();
});
