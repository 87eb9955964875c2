import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfusionMatrix } from '../../src/train/metrics.js';

test('perfect prediction: IoU, Dice and accuracy are 1 for present classes, null for absent ones', () => {
  const cm = new ConfusionMatrix(4);
  cm.add([0, 0, 1, 2, 2], [0, 0, 1, 2, 2]);
  const m = cm.metrics();
  assert.deepEqual(m.iou, [1, 1, 1, null]);
  assert.equal(m.miou, 1);
  assert.equal(m.pixel_accuracy, 1);
  assert.equal(m.pixels, 5);
});

test('hand-computed IoU and Dice on a small example', () => {
  const cm = new ConfusionMatrix(3);
  // truth:     0 0 0 1 1 2
  // predicted: 0 1 0 1 2 2
  cm.add([0, 0, 0, 1, 1, 2], [0, 1, 0, 1, 2, 2]);
  const m = cm.metrics();
  // class 0: tp 2, truth 3, pred 2 -> IoU 2/3, Dice 4/5
  // class 1: tp 1, truth 2, pred 2 -> IoU 1/3, Dice 2/4
  // class 2: tp 1, truth 1, pred 2 -> IoU 1/2, Dice 2/3
  const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} != ${b}`);
  close(m.iou[0], 2 / 3);
  close(m.iou[1], 1 / 3);
  close(m.iou[2], 1 / 2);
  close(m.dice[0], 4 / 5);
  close(m.dice[1], 1 / 2);
  close(m.dice[2], 2 / 3);
  close(m.miou, (2 / 3 + 1 / 3 + 1 / 2) / 3);
  close(m.miou_fg, (1 / 3 + 1 / 2) / 2);
  close(m.pixel_accuracy, 4 / 6);
});

test('a class only predicted (never true) counts in the mean with IoU 0', () => {
  const cm = new ConfusionMatrix(3);
  cm.add([0, 0], [0, 2]);
  const m = cm.metrics();
  assert.equal(m.iou[1], null);
  assert.equal(m.iou[2], 0);
  assert.equal(m.miou, (0.5 + 0) / 2);
});

test('batches accumulate and merge; bad ids are refused', () => {
  const a = new ConfusionMatrix(2);
  a.add([0, 1], [0, 1]);
  const b = new ConfusionMatrix(2);
  b.add([1], [0]);
  a.merge(b);
  assert.equal(a.metrics().pixels, 3);
  assert.throws(() => a.add([2], [0]), /out of \[0, 2\)/);
  assert.throws(() => a.add([0, 1], [0]), /2 truths vs 1 predictions/);
});
