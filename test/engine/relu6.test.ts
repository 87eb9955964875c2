// ReLU6 (tf.relu6, and Keras' ReLU(max_value=6) which is tf.clipByValue), ReLU, and their gradients on native against cpu,
// at the edges (0 and 6 exactly, NaN) and in between.
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

import { nativeKernelNames } from '../../src/engine/index.js';
import { expectSameOnBackends, randomValues } from './harness.js';

/** Values in [-3, 9) with the edges 0 and 6, values next to them and NaN mixed in. */
function edgeValues(n: number, seed: number): Float32Array {
  const v = randomValues(n, seed, -3, 9);
  const edges = [0, 6, -0, Math.fround(6 + 1e-6), Math.fround(6 - 1e-6), 1e-30, -1e-30, NaN, Infinity, -Infinity];
  for (let i = 0; i < n; i += 7) v[i] = edges[(i / 7) % edges.length];
  return v;
}

const shapes = [[2, 9, 7, 5], [70000], [3, 33]]; // 70000: above the parallel threshold

test('relu6 and its gradient match cpu, values at 0 and 6 included', async (t) => {
  if (!nativeKernelNames.has('UnetRelu6Grad')) return t.skip('the math family did not load');
  for (const [i, shape] of shapes.entries()) {
    await expectSameOnBackends(
      `relu6 [${shape}]`,
      () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(edgeValues(n, i), shape);
        const dy = tf.tensor(randomValues(n, 100 + i), shape);
        return [tf.relu6(x), tf.grad((a: tf.Tensor) => tf.relu6(a))(x, dy)];
      },
      { expectNative: ['Relu6', 'UnetRelu6Grad'] },
    );
  }
});

test('relu and its gradient match cpu, values at 0 and NaN included', async (t) => {
  if (!nativeKernelNames.has('UnetReluGrad')) return t.skip('the math family did not load');
  for (const [i, shape] of shapes.entries()) {
    await expectSameOnBackends(
      `relu [${shape}]`,
      () => {
        const n = shape.reduce((a, b) => a * b, 1);
        // relu(inf) is inf on both, but the harness's |a - b| of two infinities is NaN: large finite values instead.
        const x = tf.tensor(
          edgeValues(n, 50 + i).map((v) => (Number.isFinite(v) || Number.isNaN(v) ? v : Math.sign(v) * 1e30)),
          shape,
        );
        return [tf.relu(x), tf.grad((a: tf.Tensor) => tf.relu(a))(x, tf.tensor(randomValues(n, 300 + i), shape))];
      },
      { expectNative: ['Relu', 'UnetReluGrad'] },
    );
  }
});

test('clipByValue (Keras ReLU(6.)) and its gradient match cpu, bounds included', async (t) => {
  if (!nativeKernelNames.has('UnetClipGrad')) return t.skip('the math family did not load');
  for (const [lo, hi] of [
    [0, 6],
    [-1.5, 2.25],
    [0.1, 0.3],
  ]) {
    for (const [i, shape] of shapes.entries()) {
      await expectSameOnBackends(
        `clipByValue(${lo}, ${hi}) [${shape}]`,
        () => {
          const n = shape.reduce((a, b) => a * b, 1);
          const values = edgeValues(n, 10 + i);
          for (let k = 3; k < n; k += 11) values[k] = k % 2 ? Math.fround(lo) : Math.fround(hi);
          const x = tf.tensor(values, shape);
          const dy = tf.tensor(randomValues(n, 200 + i), shape);
          return [tf.clipByValue(x, lo, hi), tf.grad((a: tf.Tensor) => tf.clipByValue(a, lo, hi))(x, dy)];
        },
        { expectNative: ['ClipByValue', 'UnetClipGrad'] },
      );
    }
  }
});
