import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { expectSameOnBackends, randomTensor, randomValues, runOn } from './harness.js';

const SHAPES = [[7], [3, 5], [2, 3, 4], [2, 3, 4, 5]];

/** Every non-empty subset of [0, rank). */
function axisSets(rank: number): number[][] {
  const sets: number[][] = [];
  for (let mask = 1; mask < 1 << rank; mask++) sets.push([...Array(rank).keys()].filter((a) => mask & (1 << a)));
  return sets;
}

const FLOAT_REDUCTIONS: [string, (x: tf.Tensor, axis: number[], keep: boolean) => tf.Tensor, number, number][] = [
  ['Sum', (x, a, k) => tf.sum(x, a, k), -1, 1],
  ['Mean', (x, a, k) => tf.mean(x, a, k), -1, 1],
  ['Max', (x, a, k) => tf.max(x, a, k), -1, 1],
  ['Min', (x, a, k) => tf.min(x, a, k), -1, 1],
  ['Prod', (x, a, k) => tf.prod(x, a, k), 0.8, 1.2],
];

for (const [kernel, op, lo, hi] of FLOAT_REDUCTIONS) {
  test(`${kernel} matches cpu over every axis set of rank 1..4, with and without keepDims`, async () => {
    for (const [s, shape] of SHAPES.entries()) {
      for (const axes of axisSets(shape.length)) {
        for (const keep of [false, true]) {
          await expectSameOnBackends(`${kernel} ${shape} axes ${axes} keep ${keep}`, () => op(randomTensor(shape, 11 + s, lo, hi), axes, keep), {
            expectNative: [kernel],
          });
        }
      }
    }
    // No axis: everything, to a scalar.
    await expectSameOnBackends(`${kernel} all`, () => op(randomTensor([3, 4, 5], 5, lo, hi), undefined as unknown as number[], false), {
      expectNative: [kernel],
    });
  });
}

test('Sum (every axis set) and Max match cpu on a multi-threaded size (both parallel strategies)', async () => {
  const shape = [4, 64, 33, 5]; // 42240 elements: above the native threshold for threads
  for (const axes of axisSets(4)) {
    await expectSameOnBackends(`Sum ${axes}`, () => tf.sum(randomTensor(shape, 3), axes), { expectNative: ['Sum'] });
  }
  for (const axes of [[3], [0, 2], [0, 1, 2]]) {
    await expectSameOnBackends(`Max ${axes}`, () => tf.max(randomTensor(shape, 4), axes), { expectNative: ['Max'] });
  }
});

test('Sum over the leading axes of a bias-gradient-sized tensor matches cpu', async () => {
  await expectSameOnBackends('Sum [8,96,128,16] over [0,1,2]', () => tf.sum(randomTensor([8, 96, 128, 16], 8), [0, 1, 2]), {
    expectNative: ['Sum'],
  });
});

test('Sum of one million values stays within 1e-4 of an exact (double) sum', async () => {
  const n = 1 << 20;
  const values = randomValues(n, 99, 0, 1); // all positive: the sum is large, float32 drift shows
  let exact = 0;
  for (const v of values) exact += v;
  const { outputs } = await runOn('native', () => tf.sum(tf.tensor1d(values)));
  assert.ok(Math.abs(outputs[0].values[0] - exact) / exact < 1e-6, `sum ${outputs[0].values[0]} vs ${exact}`);
  await expectSameOnBackends('Sum 1M', () => tf.sum(tf.tensor1d(values)), { expectNative: ['Sum'] });
});

test('int32 Sum runs natively and matches cpu', async () => {
  for (const [s, shape] of SHAPES.entries()) {
    for (const axes of axisSets(shape.length)) {
      await expectSameOnBackends(`int32 Sum ${shape} ${axes}`, () => tf.sum(tf.cast(tf.mul(randomTensor(shape, s), 1000), 'int32'), axes), {
        expectNative: ['Sum'],
        tol: 0,
      });
    }
  }
});

test('All and Any of bool match cpu', async () => {
  for (const [s, shape] of SHAPES.entries()) {
    for (const axes of axisSets(shape.length)) {
      for (const keep of [false, true]) {
        await expectSameOnBackends(`All ${shape} ${axes}`, () => tf.all(tf.greater(randomTensor(shape, s + 1), -0.8), axes, keep), {
          expectNative: ['All'],
          tol: 0,
        });
        await expectSameOnBackends(`Any ${shape} ${axes}`, () => tf.any(tf.greater(randomTensor(shape, s + 2), 0.8), axes, keep), {
          expectNative: ['Any'],
          tol: 0,
        });
      }
    }
  }
});

test('Max and Min propagate NaN like the cpu kernel', async () => {
  const withNaN = () => tf.tensor2d([1, NaN, 3, -2, 5, 0], [2, 3]);
  for (const axes of [[0], [1], [0, 1]]) {
    await expectSameOnBackends(`Max NaN ${axes}`, () => tf.max(withNaN(), axes), { expectNative: ['Max'] });
    await expectSameOnBackends(`Min NaN ${axes}`, () => tf.min(withNaN(), axes), { expectNative: ['Min'] });
  }
});

test('ArgMax and ArgMin match cpu along every axis, and ArgMax over classes at a threaded size', async () => {
  for (const [s, shape] of SHAPES.entries()) {
    for (let axis = -1; axis < shape.length; axis++) {
      await expectSameOnBackends(`ArgMax ${shape} ${axis}`, () => tf.argMax(randomTensor(shape, s + 5), axis), { expectNative: ['ArgMax'], tol: 0 });
      await expectSameOnBackends(`ArgMin ${shape} ${axis}`, () => tf.argMin(randomTensor(shape, s + 6), axis), { expectNative: ['ArgMin'], tol: 0 });
    }
  }
  await expectSameOnBackends('ArgMax [2,48,64,23] last', () => tf.argMax(randomTensor([2, 48, 64, 23], 7), -1), { expectNative: ['ArgMax'], tol: 0 });
  // Ties: the first index wins.
  await expectSameOnBackends('ArgMax ties', () => tf.argMax(tf.tensor2d([1, 3, 3, 2, 2, 0], [2, 3]), 1), { expectNative: ['ArgMax'], tol: 0 });
});

test('Softmax over the last axis matches cpu', async () => {
  for (const [s, shape] of [[7], [2, 5], [3, 4, 23], [1, 40, 36, 23]].entries()) {
    await expectSameOnBackends(`Softmax ${shape}`, () => tf.softmax(randomTensor(shape, s, -10, 10)), { expectNative: ['Softmax'] });
  }
});

test('OneHot matches cpu, with out-of-range indices giving rows of offValue', async () => {
  for (const dtype of ['float32', 'int32'] as const) {
    await expectSameOnBackends(`OneHot ${dtype}`, () => tf.oneHot(tf.tensor2d([0, 3, -1, 4, 2, 1], [2, 3], 'int32'), 4, 5, -2, dtype), {
      expectNative: ['OneHot'],
      tol: 0,
    });
  }
  await expectSameOnBackends('OneHot large', () => tf.oneHot(tf.cast(randomTensor([4, 48, 64], 2, 0, 23), 'int32'), 23, 1, 0, 'float32'), {
    expectNative: ['OneHot'],
    tol: 0,
  });
});

test('Cumsum matches cpu along every axis, exclusive and reverse', async () => {
  for (const shape of [[6], [3, 4, 5]]) {
    for (let axis = 0; axis < shape.length; axis++) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          await expectSameOnBackends(`Cumsum ${shape} ${axis} ${exclusive} ${reverse}`, () => tf.cumsum(randomTensor(shape, axis), axis, exclusive, reverse), {
            expectNative: ['Cumsum'],
          });
        }
      }
    }
  }
  // Threaded: along each axis of [34, 32, 31].
  for (let axis = 0; axis < 3; axis++) {
    await expectSameOnBackends(`Cumsum large ${axis}`, () => tf.cumsum(randomTensor([34, 32, 31], axis), axis, axis === 1, axis !== 0), {
      expectNative: ['Cumsum'],
    });
  }
});

test('unsupported dtypes fall back to the cpu kernel and still agree', async () => {
  await expectSameOnBackends('Max int32', () => tf.max(tf.tensor2d([1, 5, 3, 2], [2, 2], 'int32'), 1));
  await expectSameOnBackends('Mean int32', () => tf.mean(tf.tensor2d([1, 5, 3, 2], [2, 2], 'int32'), 0));
  await expectSameOnBackends('Sum bool', () => tf.sum(tf.tensor1d([true, false, true], 'bool')));
});
