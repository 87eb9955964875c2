// Binary segmentation end to end: digit-vs-background scenes (masks 0/255), a Keras 3 U-Net with a
// one-channel sigmoid head imported from a .keras file, fine-tuning decoder+head raising the foreground IoU
// that evaluate measures and predict writing 0/1 masks (all through the public API, src/index.ts), and the
// CLI's sweep and report showing the binary metrics. Also the sigmoid losses and the binary / multilabel
// metrics against hand-computed values.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import h5wasm from 'h5wasm/node';

import { DEFAULT_DIGIT_SCENES, encodePng, generateDigitScenes } from '../../src/data/index.js';
import { readPicture } from '../../src/data/decode.js';
import { compareModels, evaluate, finetune, HEAD_MODES, importModel, loadUNet, OptionError, predictToFolder, probeTarget } from '../../src/index.js';
import { withNewHead } from '../../src/train/new_head.js';
import { confusionFor, predictedIds } from '../../src/train/head_predict.js';
import { makeLoss } from '../../src/train/losses/index.js';
import { depth1UNet, randomWeights, writeKeras3Archive } from '../import/keras3_files.js';
import { cli } from '../sweep/fixtures.js';
import { binaryDigitSet, rewriteMasks } from './binary_data.js';
import { tempDir, useNative } from './helpers.js';

test('sigmoid losses and binary/multilabel metrics match hand-computed values', async () => {
  await useNative();
  const logits = tf.tensor4d([2, -1, 0.5, -3], [1, 2, 2, 1]);
  const labels = tf.tensor3d([1, 0, 0, 1], [1, 2, 2], 'int32');
  const bce = makeLoss('bce', undefined, 'binary')(logits, labels).dataSync()[0]!;
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const expect = -(Math.log(sig(2)) + Math.log(1 - sig(-1)) + Math.log(1 - sig(0.5)) + Math.log(sig(-3))) / 4;
  assert.ok(Math.abs(bce - expect) < 1e-5, `${bce} vs ${expect}`);
  assert.equal(makeLoss('ce', undefined, 'binary')(logits, labels).dataSync()[0], bce, 'ce means bce for a sigmoid head');
  const p = [2, -1, 0.5, -3].map(sig);
  const dice = 1 - (2 * (p[0]! + p[3]!) + 1) / (p.reduce((a, b) => a + b, 0) + 2 + 1);
  assert.ok(Math.abs(makeLoss('dice', undefined, 'binary')(logits, labels).dataSync()[0]! - dice) < 1e-5);
  assert.throws(() => makeLoss('bce'), /sigmoid heads/);
  // Binary: predicted 1 where the logit > 0: [1, 0, 1, 0] vs truth [1, 0, 0, 1]: fg IoU 1/3, bg IoU 1/3.
  const cm = confusionFor('binary', 2);
  const ids = predictedIds(logits, 'binary');
  cm.add(labels.dataSync(), ids.dataSync());
  const m = cm.metrics();
  assert.ok(Math.abs(m.iou[1]! - 1 / 3) < 1e-12 && Math.abs(m.miou_fg - 1 / 3) < 1e-12 && Math.abs(m.miou - 1 / 3) < 1e-12);
  // Multilabel, 2 labels bit-packed: truth [3, 1, 2, 0], logits give [1, 1, 2, 2].
  const ml = tf.tensor4d([1, -1, 1, -1, -1, 1, -1, 1], [1, 2, 2, 2]);
  const packed = predictedIds(ml, 'multilabel');
  assert.deepEqual(Array.from(packed.dataSync()), [1, 1, 2, 2]);
  const mc = confusionFor('multilabel', 2);
  mc.add([3, 1, 2, 0], packed.dataSync());
  const mm = mc.metrics();
  // label 0: truth {0,1}, pred {0,1} -> 1; label 1: truth {0,2}, pred {2,3} -> 1/3.
  assert.ok(Math.abs(mm.iou[0]! - 1) < 1e-12 && Math.abs(mm.iou[1]! - 1 / 3) < 1e-12, JSON.stringify(mm.iou));
  const bits = makeLoss('bce', undefined, 'multilabel')(ml, tf.tensor3d([3, 1, 2, 0], [1, 2, 2], 'int32')).dataSync()[0]!;
  // (logit, bit) per pixel and label: pixel 0 (1,1)(-1,1), pixel 1 (1,1)(-1,0), pixel 2 (-1,0)(1,1), pixel 3 (-1,0)(1,0).
  const want =
    [
      [1, 1],
      [-1, 1],
      [1, 1],
      [-1, 0],
      [-1, 0],
      [1, 1],
      [-1, 0],
      [1, 0],
    ].reduce((s, [x, y]) => s - (y ? Math.log(sig(x!)) : Math.log(1 - sig(x!))), 0) / 8;
  assert.ok(Math.abs(bits - want) < 1e-5, `${bits} vs ${want}`);
  tf.dispose([logits, labels, ids, ml, packed]);
});

test(
  'binary fine-tuning: a Keras 3 sigmoid U-Net, finetune --train decoder+head raises foreground IoU; sweep and report show binary metrics',
  { timeout: 600_000 },
  async (t) => {
    await useNative();
    await h5wasm.ready;
    const dir = tempDir(t, 'unet-binary-');
    const data = await binaryDigitSet(join(dir, 'data'));
    const layers = depth1UNet();
    const file = join(dir, 'unet.keras');
    writeKeras3Archive(file, join(dir, 'tmp.h5'), layers, randomWeights(layers, 11));
    const model = join(dir, 'model');
    const imported = await importModel(file, { out: model, inputSize: [32, 32] });
    assert.equal(imported.headMode, 'binary');
    const folder = await loadUNet(model);
    assert.equal(folder.headMode, 'binary');
    // A new head in another mode (here softmax over the same 2 classes) through the model's own topology:
    // every other weight copied, the blocks and source names kept.
    const softmax = await withNewHead(folder, 2, 3, 'multiclass');
    assert.equal(softmax.headMode, 'multiclass');
    assert.deepEqual(softmax.model.outputs[0]!.shape, [null, 32, 32, 2]);
    assert.deepEqual(
      softmax.layerMap.blocks.map((b) => b.name),
      folder.layerMap.blocks.map((b) => b.name),
    );
    assert.deepEqual(softmax.model.getLayer('conv2d_4').getWeights()[0]!.dataSync(), folder.model.getLayer('conv2d_4').getWeights()[0]!.dataSync());
    softmax.model.dispose();
    folder.model.dispose();
    assert.deepEqual(HEAD_MODES, ['multiclass', 'binary', 'multilabel']);

    const before = await evaluate({ model, data, split: 'val' });
    assert.equal(before.head_mode, 'binary');
    assert.deepEqual(
      before.per_class.map((c) => c.name),
      ['background', 'class1'],
    );

    const run = join(dir, 'run');
    await assert.rejects(
      finetune({ model, data, train: 'decoder+head', headMode: 'sigmoid' as never, out: run }),
      (e: unknown) => e instanceof OptionError && /^options\.headMode must be one of multiclass, binary, multilabel/.test(e.message),
    );
    await finetune({ model, data, train: 'decoder+head', epochs: 6, batch: 4, lr: 0.01, out: run });
    const setup = (JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { setup: { headMode: string } }).setup;
    assert.equal(setup.headMode, 'binary');
    const after = await evaluate({ model: run, data, split: 'val' });
    assert.equal(after.head_mode, 'binary');
    assert.deepEqual(
      after.per_class.map((c) => c.name),
      ['background', 'digit'],
      "the fine-tuned model takes the data set's class names",
    );
    assert.ok(after.miou_fg > before.miou_fg + 0.1, `foreground IoU ${before.miou_fg.toFixed(4)} -> ${after.miou_fg.toFixed(4)}`);
    assert.ok(after.miou_fg > 0.4, `foreground IoU after fine-tuning: ${after.miou_fg}`);
    const unetJson = JSON.parse(readFileSync(join(run, 'model', 'unet.json'), 'utf8')) as { headMode: string };
    assert.equal(unetJson.headMode, 'binary');
    const shown = cli(['evaluate', '--model', run, '--data', data, '--split', 'val']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /binary head\): foreground IoU \d\.\d{4}, mIoU over background and foreground/);

    // diff --data and probe on a binary head: sigmoid predictions, binary cross-entropy gradients.
    const cmp = await compareModels({ before: model, after: run, data, samples: 8 });
    assert.ok(cmp.target && cmp.target.after_miou > cmp.target.before_miou, `target mIoU before ${cmp.target?.before_miou}, after ${cmp.target?.after_miou}`);
    const rgn = await probeTarget({ model, data, samples: 8 });
    assert.equal(rgn.new_head, false);
    assert.equal(rgn.target_classes, 2);
    assert.ok(Number.isFinite(rgn.loss) && rgn.blocks.length > 0 && rgn.blocks.every((b) => b.rgn === null || Number.isFinite(b.rgn)));

    // predict: 0/1 masks (sigmoid above 0.5), the digits found.
    const images = join(data, 'val', 'images');
    const predicted = await predictToFolder({ model: run, inputs: [images], out: join(dir, 'masks') });
    assert.equal(predicted.masks.length, readdirSync(images).length);
    const values = new Set<number>();
    for (const m of predicted.masks) for (const v of (await readPicture(m.mask)).raster.data) values.add(v);
    assert.deepEqual([...values].sort(), [0, 1]);

    const sweepOut = join(dir, 'sweep');
    const sw = cli([
      'sweep',
      '--model',
      model,
      '--data',
      data,
      '--policies',
      'decoder,head',
      '--seeds',
      '1',
      '--epochs',
      '1',
      '--batch',
      '4',
      '--lr',
      '0.01',
      '--out',
      sweepOut,
    ]);
    assert.equal(sw.code, 0, sw.stderr);
    assert.match(sw.stdout, /mIoU bg\+fg/);
    assert.match(sw.stdout, /fg IoU/);
    const summary = JSON.parse(readFileSync(join(sweepOut, 'sweep.json'), 'utf8')) as { head_mode: string; policies: { val_iou_fg_mean: number | null }[] };
    assert.equal(summary.head_mode, 'binary');
    assert.ok(summary.policies.every((p) => typeof p.val_iou_fg_mean === 'number'));
    const rep = cli(['report', sweepOut, '--json']);
    assert.equal(rep.code, 0, rep.stderr);
    const html = readFileSync((JSON.parse(rep.stdout) as { file: string }).file, 'utf8');
    assert.match(html, /val foreground IoU/);
  },
);

test('multilabel end to end: bit-packed masks, pretrain --head-mode multilabel, evaluate per label, bad bits refused', { timeout: 300_000 }, async (t) => {
  await useNative();
  const dir = tempDir(t, 'unet-multilabel-');
  const data = join(dir, 'data');
  await generateDigitScenes(data, {
    ...DEFAULT_DIGIT_SCENES,
    size: 32,
    count: 16,
    valCount: 8,
    digits: [0, 1],
    perImage: [2, 3],
    scale: [0.5, 0.7],
    threshold: 64,
    seed: 1,
  });
  // Label 0 "ink": any digit; label 1 "one": digit 1 (class 2). A pixel of a 1 has both bits: value 3.
  await rewriteMasks(data, (id) => (id > 0 ? 1 : 0) | (id === 2 ? 2 : 0));
  writeFileSync(
    join(data, 'classes.json'),
    JSON.stringify({
      classes: [
        { id: 0, name: 'ink', color: [255, 255, 255] },
        { id: 1, name: 'one', color: [255, 0, 0] },
      ],
    }),
  );
  const model = join(dir, 'model');
  const pre = cli([
    'pretrain',
    '--data',
    data,
    '--head-mode',
    'multilabel',
    '--arch',
    'classic',
    '--depth',
    '2',
    '--filters',
    '8',
    '--epochs',
    '10',
    '--lr',
    '0.02',
    '--batch',
    '4',
    '--out',
    model,
    '--json',
  ]);
  assert.equal(pre.code, 0, pre.stderr);
  const unetJson = JSON.parse(readFileSync(join(model, 'unet.json'), 'utf8')) as { headMode: string; architecture: { classes: number } };
  assert.deepEqual([unetJson.headMode, unetJson.architecture.classes], ['multilabel', 2]);
  const ev = cli(['evaluate', '--model', model, '--data', data, '--split', 'val', '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const r = JSON.parse(ev.stdout) as { head_mode: string; miou: number; per_class: { name: string; iou: number | null }[] };
  assert.equal(r.head_mode, 'multilabel');
  assert.deepEqual(
    r.per_class.map((c) => c.name),
    ['ink', 'one'],
  );
  assert.ok(r.per_class[0]!.iou! > 0.3, `ink IoU ${r.per_class[0]!.iou}`);
  // A value beyond the labels' bits is refused, naming the file.
  const bad = join(data, 'val', 'masks', readdirSync(join(data, 'val', 'masks'))[0]!);
  writeFileSync(bad, encodePng({ width: 32, height: 32, channels: 1, data: new Uint8Array(32 * 32).fill(4) }));
  const refused = cli(['evaluate', '--model', model, '--data', data, '--split', 'val']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /value 4 at pixel \(0, 0\) sets a bit beyond the 2 labels/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
});
