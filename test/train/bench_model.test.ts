// `bench --model DIR`'s library side: a training step of any model folder or layers model is timed and profiled,
// and what it cannot time is refused with a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { benchModelFolderPrecisions } from '../../bench/precision_step.js';
import { benchModelFolder, benchModelStep } from '../../bench/train_step.js';
import { buildTinyEncoderUNet } from '../../bench/tiny_encoders.js';
import { cpuCapabilities, getPrecision, useBestBackend } from '../../src/engine/index.js';
import { buildUNet, saveModelFolder } from '../../src/model/index.js';
import { OptionError, UserError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const quick = { batch: 2, steps: 1, warmup: 0, profile: true };

test('benchModelFolder times and profiles a saved model, with its FLOPs', async (t) => {
  await useBestBackend('native');
  const dir = tempDir(t);
  const u = buildUNet({ depth: 2, filters: 8, classes: 3, input: [64, 64, 3], seed: 1 });
  await saveModelFolder(dir, u);
  const parameters = u.model.countParams();
  u.model.dispose();
  const before = tf.memory().numTensors;
  const r = await benchModelFolder(dir, quick);
  assert.equal(r.parameters, parameters);
  assert.ok(r.step_ms > 0 && r.forward_ms >= 0, `step ${r.step_ms} ms, forward ${r.forward_ms} ms`);
  assert.ok(r.gflop_per_step > 0, `FLOPs counted: ${r.gflop_per_step} GFLOP per step`);
  assert.ok(
    r.profile!.some((k) => k.kernel === 'UnetAdamUpdate'),
    'the profile holds the optimizer step',
  );
  assert.equal(r.profile_steps, quick.steps);
  // the optimizer changes the weights every step, so every step reorders them into the primitives' layouts
  assert.ok(r.conv_phases_ms.compute > 0 && r.conv_phases_ms.weights > 0, JSON.stringify(r.conv_phases_ms));
  assert.ok(Number.isInteger(r.page_faults_per_step) && r.page_faults_per_step >= 0);
  assert.equal(tf.memory().numTensors, before, 'the model and the step tensors are disposed');
});

test('benchModelFolderPrecisions times a model folder in fp32 and, with precision auto where the CPU has bf16, in bf16 too', async (t) => {
  await useBestBackend('native');
  const dir = tempDir(t);
  const u = buildUNet({ depth: 2, filters: 8, classes: 3, input: [32, 32, 3], seed: 1 });
  await saveModelFolder(dir, u);
  u.model.dispose();
  await assert.rejects(
    benchModelFolderPrecisions(dir, { ...quick, precision: 'fp16' as never }),
    (e: unknown) => e instanceof OptionError && e.option === 'precision',
  );
  const before = tf.memory().numTensors;
  const r = await benchModelFolderPrecisions(dir, { ...quick, profile: false, precision: 'auto' }, 1);
  const bf16 = cpuCapabilities().bf16;
  assert.equal(r.precision, bf16 ? 'bf16' : 'fp32');
  assert.equal(r.fp32.precision, 'fp32');
  assert.equal(r.bf16?.precision, bf16 ? 'bf16' : undefined);
  assert.equal(getPrecision(), 'fp32', 'the engine setting is put back');
  assert.equal(tf.memory().numTensors, before, 'the model and the step tensors are disposed');
});

test('benchModelStep takes any single-input segmentation model (here the tiny MobileNetV2-like U-Net)', async () => {
  await useBestBackend('native');
  const model = buildTinyEncoderUNet({ encoder: 'mobilenetv2', input: [32, 32, 3], classes: 3, width: 0.25 });
  const r = benchModelStep(model, quick);
  assert.ok(r.profile!.some((k) => k.kernel === 'DepthwiseConv2dNativeBackpropFilter' && k.native));
  assert.equal(r.gflop_per_step, 0, 'no FLOP count without a layer map');
  model.dispose();
});

test('benchModelStep refuses a model whose output is not [N, H, W, classes]', () => {
  const input = tfl.input({ shape: [8, 8, 3] });
  const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(flat) as tfl.SymbolicTensor });
  assert.throws(
    () => benchModelStep(model, quick),
    (e: unknown) => e instanceof UserError && /one \[N, H, W, C\] input and one \[N, H, W, classes\] output/.test((e as Error).message),
  );
  model.dispose();
});

test('bench --model: a missing folder is a user error, and --peer does not go with it', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/unet-transfer.js', 'bench', ...args], { encoding: 'utf8' });
  const missing = cli('--model', '/nonexistent/model-dir', '--steps', '1');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /\/nonexistent\/model-dir/);
  assert.doesNotMatch(missing.stderr, /    at /, 'no stack trace');
  const peer = cli('--model', 'models/digits04', '--peer');
  assert.notEqual(peer.status, 0);
  assert.match(peer.stderr, /--peer .* does not go with --model/);
});
