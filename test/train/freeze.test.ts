import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { resolveTrainSpec } from '../../src/train/freeze_spec.js';
import { UserError } from '../../src/util/errors.js';
import { digitSet, sameBits, snapshot, tempDir, tinyUNet, trainTiny, useNative } from './helpers.js';

let data = '';
before(async () => {
  await useNative();
});

async function dataOnce(t: { after: (fn: () => void) => void }): Promise<string> {
  if (!data) data = await digitSet(join(tempDir({ after: () => {} }, 'unet-train-data-'), 'digits'));
  return data;
}

test('--train decoder: encoder, bottleneck and head bitwise unchanged, every decoder weight changed', async (t) => {
  const unet = tinyUNet();
  const before = snapshot(unet.model);
  await trainTiny(unet, await dataOnce(t), tempDir(t), { train: 'decoder', epochs: 2 });
  const after = snapshot(unet.model);
  let decoder = 0;
  for (const [name, w0] of before) {
    const block = unet.layerMap.layer(name.split('/')[0]!)!.block;
    if (block.startsWith('dec')) {
      decoder++;
      assert.ok(!sameBits(w0, after.get(name)!), `${name} (decoder) did not change`);
    } else {
      assert.ok(sameBits(w0, after.get(name)!), `${name} (${block}, frozen) changed`);
    }
  }
  assert.ok(decoder >= 8, `only ${decoder} decoder weights`);
  unet.model.dispose();
});

test('--train none is refused with the list of blocks', () => {
  const unet = tinyUNet();
  assert.throws(
    () => resolveTrainSpec('none', unet.layerMap),
    (e: Error) => e instanceof UserError && /enc1, enc2, bottleneck, dec2, dec1, head/.test(e.message),
  );
  unet.model.dispose();
});

test('frozen BatchNorm keeps its moving statistics; --train-bn trains them', async (t) => {
  const ds = await dataOnce(t);
  for (const trainBn of [false, true]) {
    const unet = tinyUNet({ arch: 'bn' });
    const before = snapshot(unet.model);
    await trainTiny(unet, ds, tempDir(t), { train: 'decoder+head', trainBn });
    const after = snapshot(unet.model);
    const encoderBn = [...before.keys()].filter((k) => /^(enc\d|bottleneck)_bn\d\//.test(k));
    assert.equal(encoderBn.length, 4 * 3 * 2, 'gamma, beta, moving mean and variance of 6 BN layers');
    for (const k of encoderBn) {
      const changed = !sameBits(before.get(k)!, after.get(k)!);
      assert.equal(changed, trainBn, `${k} ${changed ? 'changed' : 'unchanged'} with trainBn=${trainBn}`);
    }
    // Frozen convs stay frozen either way; decoder BN statistics move.
    assert.ok(sameBits(before.get('enc1_conv1/kernel')!, after.get('enc1_conv1/kernel')!));
    assert.ok(!sameBits(before.get('dec1_bn1/moving_mean')!, after.get('dec1_bn1/moving_mean')!));
    unet.model.dispose();
  }
});

test('tf.memory().numTensors is the same after epoch 1 and epoch 5', async (t) => {
  const unet = tinyUNet();
  const counts: number[] = [];
  await trainTiny(unet, await dataOnce(t), tempDir(t), { train: 'all', epochs: 5, optimizer: 'sgd' }, { onEpoch: () => counts.push(tf.memory().numTensors) });
  assert.equal(counts.length, 5);
  assert.equal(counts[4], counts[0], `tensors per epoch: ${counts.join(', ')}`);
  unet.model.dispose();
});

test('early stopping stops once the metric stops improving', async (t) => {
  const unet = tinyUNet();
  // A rate so small that predictions (and so val_miou) cannot improve: stops after 1 + patience epochs.
  const r = await trainTiny(unet, await dataOnce(t), tempDir(t), { epochs: 10, lr: 1e-12, earlyStop: 'val_miou:2' });
  assert.equal(r.stoppedEarly, true);
  assert.equal(r.epochs, 3);
  assert.equal(r.bestEpoch, 1);
  unet.model.dispose();
});
