import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { expectSameOnBackends, randomTensor } from './harness.js';

const SHAPES = [[7], [2, 5, 3, 16], [3, 33, 17, 3]];

const OPS: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
  ['Relu', tf.relu, -1, 1],
  ['Relu6', tf.relu6, -8, 8],
  ['Step', (x) => tf.step(x), -1, 1],
  ['Exp', tf.exp, -5, 5],
  ['Log', tf.log, 0.01, 10],
  ['Sqrt', tf.sqrt, 0, 10],
  ['Rsqrt', tf.rsqrt, 0.1, 10],
  ['Square', tf.square, -3, 3],
  ['Neg', tf.neg, -3, 3],
  ['Abs', tf.abs, -3, 3],
  ['Floor', tf.floor, -3, 3],
  ['Ceil', tf.ceil, -3, 3],
  ['Round', tf.round, -3, 3],
  ['Sign', tf.sign, -3, 3],
  ['Reciprocal', tf.reciprocal, 0.5, 3],
  ['Sigmoid', tf.sigmoid, -8, 8],
  ['Tanh', tf.tanh, -4, 4],
  ['Softplus', tf.softplus, -30, 30],
  ['Log1p', tf.log1p, -0.5, 3],
  ['Expm1', tf.expm1, -3, 3],
];

for (const [kernel, op, lo, hi] of OPS) {
  test(`unary ${kernel} matches cpu`, async () => {
    for (const [i, shape] of SHAPES.entries()) {
      await expectSameOnBackends(`${kernel} ${shape}`, () => op(randomTensor(shape, 17 + i, lo, hi)), { expectNative: [kernel] });
    }
  });
}

test('Step with a non-zero alpha falls back to the cpu kernel and still agrees', async () => {
  await expectSameOnBackends('Step alpha', () => tf.step(randomTensor([4, 4], 3), 0.5));
});
