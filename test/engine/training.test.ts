// The engine's end-to-end checks: a tiny U-Net trained on `native` ends where the same training on `cpu` ends,
// and a training loop does not leak tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { sparseSoftmaxCrossEntropy } from '../../src/engine/ops/sparse_softmax_cross_entropy.js';
import { buildUNet } from '../../src/model/index.js';
import { FusedAdam } from '../../src/train/optimizers/fused_adam.js';
import { randomValues } from './harness.js';

const CLASSES = 5;
const SHAPE: [number, number, number] = [32, 32, 3];

/** Trains a tiny course U-Net (F=4, no dropout so that both backends see the same network) for `steps`. */
async function train(backend: string, steps: number, onStep?: (step: number) => void): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const unet = buildUNet({ arch: 'course', filters: 4, classes: CLASSES, input: SHAPE, dropout: 0, seed: 3 });
  const optimizer = new FusedAdam(1e-3);
  const x = tf.tensor4d(randomValues(4 * 32 * 32 * 3, 11, 0, 1), [4, ...SHAPE]);
  const y = tf.tensor3d(
    Int32Array.from(randomValues(4 * 32 * 32, 12, 0, CLASSES), (v) => Math.floor(v)),
    [4, 32, 32],
    'int32',
  );
  const vars = unet.model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let s = 1; s <= steps; s++) {
    const loss = optimizer.minimize(() => sparseSoftmaxCrossEntropy(unet.model.apply(x, { training: true }) as tf.Tensor4D, y), true, vars);
    loss!.dispose();
    onStep?.(s);
  }
  const weights = vars.map((v) => v.dataSync().slice() as Float32Array);
  tf.dispose([x, y]);
  optimizer.dispose();
  unet.model.dispose();
  return weights;
}

test('20 training steps on native end with the same weights as on cpu (1e-3 relative)', async () => {
  const cpu = await train('cpu', 20);
  const native = await train('native', 20);
  assert.equal(native.length, cpu.length);
  native.forEach((w, i) => {
    let diff = 0;
    let scale = 0;
    for (let k = 0; k < w.length; k++) {
      diff = Math.max(diff, Math.abs(w[k] - cpu[i][k]));
      scale = Math.max(scale, Math.abs(cpu[i][k]));
    }
    assert.ok(diff / scale <= 1e-3, `weight ${i}: max relative difference ${(diff / scale).toExponential(2)}`);
  });
});

test('no tensor leaks: the same number of tensors after step 2 and step 20', async () => {
  const counts = new Map<number, number>();
  await train('native', 20, (s) => counts.set(s, tf.memory().numTensors));
  assert.equal(counts.get(20), counts.get(2), `tensors: ${counts.get(2)} after step 2, ${counts.get(20)} after step 20`);
});
