import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { blockCka, blockOutputs, disposeData, linearCka, loadAnalysisData, probe, resetSensitivity } from '../../src/analysis/index.js';
import { digitSet, perturb, shiftWeight, tempDir, tiny } from './helpers.js';

await tf.setBackend('cpu');

const close = (a: number | null, b: number, tol: number, what = '') => assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** CKA by its feature-space definition, in float64: ||Y^T X||^2 / (||X^T X|| ||Y^T Y||), features centred. */
function directCka(x: number[][], y: number[][]): number {
  const centre = (m: number[][]) => {
    const mean = m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0) / m.length);
    return m.map((r) => r.map((v, j) => v - mean[j]!));
  };
  const cross = (a: number[][], b: number[][]) => {
    let s = 0;
    for (let i = 0; i < a[0]!.length; i++) {
      for (let j = 0; j < b[0]!.length; j++) {
        let d = 0;
        for (let n = 0; n < a.length; n++) d += a[n]![i]! * b[n]![j]!;
        s += d * d;
      }
    }
    return s; // ||A^T B||_F^2
  };
  const xc = centre(x);
  const yc = centre(y);
  return cross(yc, xc) / (Math.sqrt(cross(xc, xc)) * Math.sqrt(cross(yc, yc)));
}

test('linear CKA: 1 for the same features, invariant to orthogonal transforms and isotropic scaling, equal to the direct formula', () => {
  const x = tf.randomNormal([12, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
  close(linearCka(x, x), 1, 1e-9, 'self');
  // An orthogonal Q (Householder reflection times a rotation in one plane) and a scale.
  const v = tf.randomNormal([7, 1], 0, 1, 'float32', 2);
  const h = tf.tidy(() => tf.sub(tf.eye(7), tf.mul(2 / tf.sum(tf.square(v)).dataSync()[0]!, tf.matMul(v, v, false, true))));
  const rot = tf.buffer([7, 7], 'float32');
  for (let i = 0; i < 7; i++) rot.set(1, i, i);
  const [c, s] = [Math.cos(0.7), Math.sin(0.7)];
  rot.set(c, 0, 0);
  rot.set(-s, 0, 1);
  rot.set(s, 1, 0);
  rot.set(c, 1, 1);
  const q = tf.matMul(h, rot.toTensor());
  const y = tf.mul(tf.matMul(x, q), 3.7) as tf.Tensor2D;
  close(linearCka(x, y), 1, 1e-5, 'orthogonal + scale');
  const z = tf.randomNormal([12, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
  const mixed = tf.add(tf.matMul(x, tf.randomNormal([7, 5], 0, 1, 'float32', 4)), z) as tf.Tensor2D;
  const direct = directCka(x.arraySync(), mixed.arraySync());
  assert.ok(direct > 0.05 && direct < 0.999, `a non-trivial example: ${direct}`);
  close(linearCka(x, mixed), direct, 1e-5, 'direct formula');
  close(linearCka(tf.mul(mixed, 0.01) as tf.Tensor2D, tf.mul(x, 100) as tf.Tensor2D), direct, 1e-5, 'symmetric, scale-free');
  // Shifting features changes nothing (they are centred).
  close(linearCka(tf.add(x, 50) as tf.Tensor2D, mixed), direct, 1e-4, 'shift');
  tf.dispose([x, v, h, q, y, z, mixed]);
});

test('block CKA: 1 for a model against itself; streaming in several passes gives the same Gram matrices as one pass', () => {
  const a = tiny();
  const b = tiny();
  const images = tf.randomUniform([20, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const self = blockCka(a, b, images, { batchSize: 4 });
  assert.deepEqual(
    self.blocks.map((x) => x.block),
    ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head'],
  );
  for (const blk of self.blocks) close(blk.cka, 1, 1e-6, blk.block);
  perturb(b, 0.05);
  const one = blockCka(a, b, images, { batchSize: 4 });
  assert.equal(one.passes, 1);
  const n = tf.memory().numTensors;
  const perSample = 4 * 2 * blockOutputs(a).features.reduce((s, f) => s + f, 0);
  const many = blockCka(a, b, images, { batchSize: 4, groupSize: 4, maxBytes: 12 * perSample });
  assert.ok(many.passes >= 3, `passes ${many.passes}`);
  assert.equal(tf.memory().numTensors, n, 'no tensors leak');
  one.blocks.forEach((blk, i) => {
    assert.ok(blk.cka! < 1 && blk.cka! > 0.3, `${blk.block} ${blk.cka}`);
    close(many.blocks[i]!.cka, blk.cka!, 1e-5, `${blk.block} passes`);
  });
  // ... and equal to the direct formula on the block's flattened activations.
  const [fa, fb] = [blockOutputs(a, ['dec1']).run(images)[0]!, blockOutputs(b, ['dec1']).run(images)[0]!];
  close(one.blocks.find((x) => x.block === 'dec1')!.cka, linearCka(fa, fb)!, 1e-5, 'dec1 direct');
  tf.dispose([images, fa, fb]);
  a.model.dispose();
  b.model.dispose();
});

test('reset sensitivity and transplant gain: 0 for a model against itself; the fine-tuned model is restored', async (t) => {
  const dir = await digitSet(tempDir(t));
  const a = tiny();
  const b = tiny();
  const data = await loadAnalysisData(dir, { input: [32, 32, 1], classes: 3, samples: 8 });
  assert.equal(data.split, 'val');
  const same = resetSensitivity(a, b, data, { classes: 3 });
  assert.equal(same.after_miou, same.before_miou);
  for (const blk of same.blocks) {
    assert.equal(blk.reset_sensitivity, 0, blk.block);
    assert.equal(blk.transplant_gain, 0, blk.block);
  }
  shiftWeight(b, 'dec1_conv2', 'bias', 0.3);
  perturb(b, 0.2);
  const before = b.model.getWeights().map((w) => w.dataSync().slice());
  const n = tf.memory().numTensors;
  const r = resetSensitivity(a, b, data, { classes: 3 });
  assert.equal(tf.memory().numTensors, n, 'no tensors leak');
  b.model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i], 'the fine-tuned model is restored'));
  // Resetting every block but X, then X too, gives the pretrained model: transplant of X = reset of all others.
  assert.ok(r.blocks.every((x) => x.reset_miou !== null && x.transplant_miou !== null));
  assert.notEqual(r.after_miou, r.before_miou);
  for (const blk of r.blocks) close(blk.reset_sensitivity, r.after_miou - blk.reset_miou!, 1e-12, blk.block);
  disposeData(data);
  a.model.dispose();
  b.model.dispose();
});

test('reset with a replaced head: the head cannot be reset, the pretrained baseline keeps the new head', async (t) => {
  const dir = await digitSet(tempDir(t), { digits: [0, 3] }); // 5 classes
  const a = tiny();
  const b = tiny({ classes: 5 });
  const data = await loadAnalysisData(dir, { input: [32, 32, 1], classes: 5, samples: 4 });
  const r = resetSensitivity(a, b, data, { classes: 5 });
  assert.equal(r.before_uses_new_head, true);
  const head = r.blocks.find((x) => x.block === 'head')!;
  assert.equal(head.reset_sensitivity, null);
  assert.equal(head.transplant_gain, null);
  for (const blk of r.blocks.filter((x) => x.block !== 'head')) assert.equal(blk.reset_sensitivity, 0);
  disposeData(data);
  a.model.dispose();
  b.model.dispose();
});

test('probe: a finite relative gradient norm per layer and block, ranked; weights untouched, no leaks', async (t) => {
  const dir = await digitSet(tempDir(t));
  const a = tiny();
  const data = await loadAnalysisData(dir, { input: [32, 32, 1], classes: 3, samples: 4 });
  const weights = a.model.getWeights().map((w) => w.dataSync().slice());
  probe(a, data, { batchSize: 4 });
  const n = tf.memory().numTensors;
  const r = probe(a, data, { batchSize: 2 });
  assert.equal(tf.memory().numTensors, n);
  assert.equal(r.batches, 2);
  assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  const conv = a.layerMap.layers.filter((l) => l.parameters > 0).map((l) => l.name);
  assert.deepEqual(
    r.layers.map((l) => l.layer),
    conv,
  );
  for (const l of r.layers) assert.ok(l.rgn !== null && l.rgn > 0 && Number.isFinite(l.rgn), `${l.layer} ${l.rgn}`);
  assert.deepEqual(
    [...r.layers.map((l) => l.rank)].sort((x, y) => x - y),
    conv.map((_, i) => i + 1),
  );
  assert.deepEqual(
    r.blocks.map((x) => x.block),
    ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head'],
  );
  a.model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), weights[i]));
  disposeData(data);
  a.model.dispose();
});
