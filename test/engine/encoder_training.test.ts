// Training steps of the tiny MobileNetV2-like and ResNet-like U-Nets (bench/tiny_encoders.ts: depthwise convs,
// ReLU6 both ways, training-mode batch norms, residual adds, the 7x7 stem and its max-pool, transposed convs and
// nearest up-sampling) end on native where they end on cpu, and leak no tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { buildTinyEncoderUNet, TINY_ENCODERS, type TinyEncoder } from '../../bench/tiny_encoders.js';
import { profiler } from '../../src/engine/index.js';
import { sparseSoftmaxCrossEntropy } from '../../src/engine/ops/sparse_softmax_cross_entropy.js';
import { FusedAdam } from '../../src/train/optimizers/fused_adam.js';
import { maxRelativeError, randomValues } from './harness.js';

const CLASSES = 4;
const SIZE = 32;
// The cpu backend's ResizeNearestNeighborGrad is wrong for batch > 1 (docs/NOTES.md), and the ResNet-like
// decoder up-samples with it: one image there, two for the MobileNetV2-like one.
const BATCH: Record<TinyEncoder, number> = { mobilenetv2: 2, resnet: 1 };

/** `steps` Adam steps of the tiny U-Net; returns every weight (moving statistics included) and the JS kernels seen. */
async function train(
  encoder: TinyEncoder,
  backend: string,
  steps: number,
  onStep?: (s: number) => void,
): Promise<{ weights: Float32Array[]; jsKernels: string[] }> {
  await tf.setBackend(backend);
  const model = buildTinyEncoderUNet({ encoder, input: [SIZE, SIZE, 3], classes: CLASSES, width: 0.5, seed: 5 });
  const optimizer = new FusedAdam(1e-3);
  const n = BATCH[encoder];
  const x = tf.tensor4d(randomValues(n * SIZE * SIZE * 3, 21, 0, 1), [n, SIZE, SIZE, 3]);
  const y = tf.tensor3d(Int32Array.from(randomValues(n * SIZE * SIZE, 22, 0, CLASSES), Math.floor), [n, SIZE, SIZE], 'int32');
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => optimizer.minimize(() => sparseSoftmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor4D, y), true, vars)!.dispose();
  const jsKernels = profiler
    .capture(step)
    .kernels.filter((k) => !k.native)
    .map((k) => k.kernel);
  for (let s = 2; s <= steps; s++) {
    step();
    onStep?.(s);
  }
  const weights = model.weights.map((w) => w.read().dataSync().slice() as Float32Array);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { weights, jsKernels };
}

for (const encoder of TINY_ENCODERS) {
  test(`${encoder}-like U-Net: 6 training steps on native end with cpu's weights (1e-3 relative), kernels native`, async () => {
    const cpu = await train(encoder, 'cpu', 6);
    const native = await train(encoder, 'native', 6);
    assert.equal(native.weights.length, cpu.weights.length);
    native.weights.forEach((w, i) => {
      const err = maxRelativeError(w, cpu.weights[i]);
      assert.ok(err <= 1e-3, `weight ${i}: max relative difference ${err.toExponential(2)}`);
    });
    // Only shape bookkeeping may stay in JavaScript (no arithmetic over tensors).
    const arithmetic = native.jsKernels.filter((k) => !['Reshape', 'Identity', 'Cast'].includes(k));
    assert.deepEqual(arithmetic, [], `kernels that ran in JavaScript: ${arithmetic.join(', ')}`);
  });

  test(`${encoder}-like U-Net: no tensor leaks over 10 native steps`, async () => {
    const counts = new Map<number, number>();
    await train(encoder, 'native', 10, (s) => counts.set(s, tf.memory().numTensors));
    assert.equal(counts.get(10), counts.get(2), `tensors: ${counts.get(2)} after step 2, ${counts.get(10)} after step 10`);
  });
}
