import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle lacks the gradient configs; tfjs-layers' bundle registers them on load.
import '@tensorflow/tfjs-layers';

import { family } from '../../src/engine/addon.js';
import { expectSameOnBackends, randomTensor } from './harness.js';

type Pad = 'same' | 'valid';

interface Case {
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: Pad;
}

// The grid: batch 1 and 3 (with odd spatial sizes), in/out channels 1/3/16, strides 1 and 2,
// paddings same and valid, kernels 1x1 and 3x3. Small spatial sizes keep the CPU reference fast.
// Even sizes too: there 'valid' with stride 2 leaves the last input row unread.
function grid(): Case[] {
  const cases: Case[] = [];
  for (const [batch, h, w] of [
    [1, 7, 9],
    [3, 13, 11],
    [2, 8, 6],
  ])
    for (const cin of [1, 3, 16])
      for (const cout of [1, 3, 16])
        for (const k of [1, 3])
          for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) cases.push({ batch, h, w, cin, cout, k, stride, pad });
  return cases;
}

const label = (c: Case) => `x[${c.batch},${c.h},${c.w},${c.cin}] k${c.k} o${c.cout} s${c.stride} ${c.pad}`;

/** The output shape of the forward convolution of case c. */
function outShape(c: Case): [number, number, number, number] {
  const o = (n: number) => (c.pad === 'same' ? Math.ceil(n / c.stride) : Math.ceil((n - c.k + 1) / c.stride));
  return [c.batch, o(c.h), o(c.w), c.cout];
}

test('Conv2D matches cpu over the grid', async () => {
  for (const [i, c] of grid().entries()) {
    await expectSameOnBackends(
      `Conv2D ${label(c)}`,
      () =>
        tf.conv2d(
          randomTensor([c.batch, c.h, c.w, c.cin], i) as tf.Tensor4D,
          randomTensor([c.k, c.k, c.cin, c.cout], 1000 + i) as tf.Tensor4D,
          c.stride,
          c.pad,
        ),
      { expectNative: ['Conv2D'] },
    );
  }
});

test('Conv2DBackpropInput matches cpu over the grid', async () => {
  for (const [i, c] of grid().entries()) {
    const dyShape = outShape(c);
    await expectSameOnBackends(
      `Conv2DBackpropInput ${label(c)}`,
      () =>
        tf.conv2dTranspose(
          randomTensor(dyShape, i) as tf.Tensor4D,
          randomTensor([c.k, c.k, c.cin, c.cout], 1000 + i) as tf.Tensor4D,
          [c.batch, c.h, c.w, c.cin],
          c.stride,
          c.pad,
        ),
      { expectNative: ['Conv2DBackpropInput'] },
    );
  }
});

function backpropFilter(
  x: tf.Tensor,
  dy: tf.Tensor,
  filterShape: number[],
  strides: number,
  pad: Pad | number,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor {
  const attrs = { strides, pad, dataFormat: 'NHWC', filterShape, ...(dimRoundingMode ? { dimRoundingMode } : {}) };
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
}

test('Conv2DBackpropFilter matches cpu over the grid', async () => {
  for (const [i, c] of grid().entries()) {
    await expectSameOnBackends(
      `Conv2DBackpropFilter ${label(c)}`,
      () => backpropFilter(randomTensor([c.batch, c.h, c.w, c.cin], i), randomTensor(outShape(c), 1000 + i), [c.k, c.k, c.cin, c.cout], c.stride, c.pad),
      { expectNative: ['Conv2DBackpropFilter'] },
    );
  }
});

test('explicit and numeric paddings, rounding modes, 5x5 and non-square kernels, dilations', async () => {
  const x = () => randomTensor([2, 10, 9, 3], 1) as tf.Tensor4D;
  const w = (kh: number, kw: number, o = 4) => randomTensor([kh, kw, 3, o], 2) as tf.Tensor4D;
  const explicit: [[0, 0], [number, number], [number, number], [0, 0]] = [
    [0, 0],
    [2, 0],
    [1, 3],
    [0, 0],
  ];
  await expectSameOnBackends('explicit pad', () => tf.conv2d(x(), w(3, 3), [2, 1], explicit), { expectNative: ['Conv2D'] });
  for (const mode of ['floor', 'round', 'ceil'] as const) {
    await expectSameOnBackends(`pad 1 stride 3 ${mode}`, () => tf.conv2d(x(), w(3, 3), 3, 1, 'NHWC', 1, mode), { expectNative: ['Conv2D'] });
    await expectSameOnBackends(`backprop filter pad 1 stride 2 ${mode}`, () => {
      const info = tf.backend_util.computeConv2DInfo([2, 10, 9, 3], [3, 3, 3, 4], 2, 1, 1, mode);
      return backpropFilter(x(), randomTensor(info.outShape, 3), [3, 3, 3, 4], 2, 1, mode);
    });
  }
  await expectSameOnBackends('5x5 same', () => tf.conv2d(x(), w(5, 5), 1, 'same'), { expectNative: ['Conv2D'] });
  await expectSameOnBackends('2x4 same stride 2', () => tf.conv2d(x(), w(2, 4), 2, 'same'), { expectNative: ['Conv2D'] });
  await expectSameOnBackends('dilation 2 same', () => tf.conv2d(x(), w(3, 3), 1, 'same', 'NHWC', 2), { expectNative: ['Conv2D'] });
  await expectSameOnBackends('dilation [2,3] valid', () => tf.conv2d(x(), w(3, 2), 1, 'valid', 'NHWC', [2, 3]), { expectNative: ['Conv2D'] });
});

test('a rank-3 input and a channel count that crosses oneDNN blocking (40 -> 24)', async () => {
  await expectSameOnBackends(
    'rank 3',
    () => tf.conv2d(randomTensor([12, 10, 40], 5) as tf.Tensor3D, randomTensor([3, 3, 40, 24], 6) as tf.Tensor4D, 1, 'same'),
    { expectNative: ['Conv2D'] },
  );
});

test('FusedConv2D with bias and each native activation', async () => {
  const run =
    (activation: tf.fused.Activation, stride: number, pad: Pad, bias = true) =>
    () =>
      tf.fused.conv2d({
        x: randomTensor([3, 9, 7, 3], 7) as tf.Tensor4D,
        filter: randomTensor([3, 3, 3, 16], 8) as tf.Tensor4D,
        strides: stride,
        pad,
        bias: bias ? randomTensor([16], 9) : undefined,
        activation,
        leakyreluAlpha: activation === 'leakyrelu' ? 0.15 : undefined,
      });
  for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu'] as tf.fused.Activation[]) {
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'valid'],
    ] as [number, Pad][]) {
      await expectSameOnBackends(`fused ${activation} s${stride} ${pad}`, run(activation, stride, pad), { expectNative: ['FusedConv2D'] });
    }
  }
  await expectSameOnBackends('fused relu without bias', run('relu', 1, 'same', false), { expectNative: ['FusedConv2D'] });
});

test('FusedConv2D cases that the native kernel hands to the cpu kernel still agree', async () => {
  const x = () => randomTensor([2, 6, 5, 3], 10) as tf.Tensor4D;
  const filter = () => randomTensor([3, 3, 3, 4], 11) as tf.Tensor4D;
  await expectSameOnBackends('prelu', () =>
    tf.fused.conv2d({
      x: x(),
      filter: filter(),
      strides: 1,
      pad: 'same',
      bias: randomTensor([4], 12),
      activation: 'prelu',
      preluActivationWeights: randomTensor([4], 13),
    }),
  );
  await expectSameOnBackends('scalar bias', () =>
    tf.fused.conv2d({ x: x(), filter: filter(), strides: 1, pad: 'same', bias: tf.scalar(0.5), activation: 'relu' }),
  );
  await expectSameOnBackends('NCHW', () =>
    tf.fused.conv2d({ x: randomTensor([2, 3, 6, 5], 14) as tf.Tensor4D, filter: filter(), strides: 1, pad: 'valid', dataFormat: 'NCHW' }),
  );
});

test('conv2dTranspose 3x3 stride 2 same (the U-Net up-sampling)', async () => {
  for (const [n, h, w, cin, cout] of [
    [2, 4, 5, 8, 4],
    [1, 3, 3, 16, 16],
    [3, 6, 8, 3, 1],
  ]) {
    await expectSameOnBackends(
      `conv2dTranspose [${n},${h},${w},${cin}] -> ${cout}`,
      () =>
        tf.conv2dTranspose(
          randomTensor([n, h, w, cin], 20) as tf.Tensor4D,
          randomTensor([3, 3, cout, cin], 21) as tf.Tensor4D,
          [n, 2 * h, 2 * w, cout],
          2,
          'same',
        ),
      { expectNative: ['Conv2DBackpropInput'] },
    );
  }
});

test('gradients of conv2d, fused conv2d and conv2dTranspose run natively', async () => {
  await expectSameOnBackends(
    'grads conv2d',
    () => {
      const x = randomTensor([2, 9, 7, 3], 30);
      const w = randomTensor([3, 3, 3, 8], 31);
      const dy = randomTensor([2, 5, 4, 8], 32);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), dy))([x, w]);
    },
    { expectNative: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] },
  );
  await expectSameOnBackends(
    'grads conv2dTranspose',
    () => {
      const x = randomTensor([2, 4, 5, 8], 33);
      const w = randomTensor([3, 3, 4, 8], 34);
      const dy = randomTensor([2, 8, 10, 4], 35);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 10, 4], 2, 'same'), dy))([x, w]);
    },
    { expectNative: ['Conv2DBackpropInput', 'Conv2D', 'Conv2DBackpropFilter'] },
  );
  await expectSameOnBackends(
    'grads fused conv2d linear with bias',
    () => {
      const x = randomTensor([2, 7, 6, 3], 36);
      const w = randomTensor([3, 3, 3, 5], 37);
      const b = randomTensor([5], 38);
      return tf.grads((a: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
        tf.square(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'linear' })),
      )([x, w, b]);
    },
    { expectNative: ['FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] },
  );
});

test('a kernel-sized training-scale case crosses the threads and agrees', async () => {
  // Large enough for oneDNN to split work over threads and use its blocked weight layout.
  await expectSameOnBackends(
    'enc-like 3x3 32->32',
    () => tf.conv2d(randomTensor([2, 12, 16, 32], 40) as tf.Tensor4D, randomTensor([3, 3, 32, 32], 41) as tf.Tensor4D, 1, 'same'),
    { expectNative: ['Conv2D'] },
  );
});

test('the native functions check their arguments', { skip: !family('conv') }, () => {
  const conv = family('conv')!;
  const g = [1, 3, 3, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0];
  assert.throws(() => conv.conv2dForward(new Float32Array(8), new Float32Array(1), null, new Float32Array(9), g, 0, 0), /x has 8 elements, expected 9/);
  assert.throws(() => conv.conv2dBackwardData(new Float32Array(9), new Float32Array(1), new Float32Array(9), g.slice(1)), /geometry/);
  // A geometry whose output size contradicts its padding is refused by oneDNN, with the kernel named.
  const bad = [1, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0];
  assert.throws(() => conv.conv2dBackwardWeights(new Float32Array(9), new Float32Array(4), new Float32Array(1), bad), /Conv2DBackpropFilter: oneDNN failed/);
});
