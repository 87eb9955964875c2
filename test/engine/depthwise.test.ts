// Depthwise convolution on native (oneDNN grouped convolution) against the cpu kernels: forward, both
// gradients (through tf.grads, so the gradient kernels get exactly the attributes TF.js gives them), the
// fused bias + activation forward, and what falls back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

import { family } from '../../src/engine/addon.js';
import { expectSameOnBackends, randomTensor, runOn } from './harness.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  batch: number;
  h: number;
  w: number;
  c: number;
  m: number;
  k: number;
  stride: number;
  pad: Pad;
  dilation: number;
}

const KERAS_STRIDE2_PAD: Pad = [
  [0, 0],
  [0, 1],
  [0, 1],
  [0, 0],
]; // ZeroPadding2D ((0,1),(0,1)) folded in
const SYMMETRIC_PAD: Pad = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
]; // torchvision's padding=1

// Odd and even sizes, batch 1 and 3, channels 1/3/16 (16: oneDNN's vector width), multipliers 1 and 2,
// strides 1 and 2, paddings same / valid / explicit (asymmetric and symmetric), a few dilated cases.
function grid(): Case[] {
  const cases: Case[] = [];
  for (const [batch, h, w] of [
    [1, 7, 9],
    [3, 13, 11],
    [2, 8, 6],
  ])
    for (const c of [1, 3, 16])
      for (const m of [1, 2])
        for (const stride of [1, 2])
          for (const pad of ['same', 'valid', KERAS_STRIDE2_PAD, SYMMETRIC_PAD] as Pad[]) cases.push({ batch, h, w, c, m, k: 3, stride, pad, dilation: 1 });
  for (const pad of ['same', 'valid'] as Pad[]) cases.push({ batch: 2, h: 9, w: 10, c: 8, m: 1, k: 3, stride: 1, pad, dilation: 2 });
  cases.push({ batch: 2, h: 9, w: 9, c: 5, m: 1, k: 5, stride: 2, pad: 'same', dilation: 1 });
  cases.push({ batch: 1, h: 6, w: 6, c: 4, m: 3, k: 1, stride: 1, pad: 'valid', dilation: 1 });
  return cases;
}

const label = (c: Case) => `x[${c.batch},${c.h},${c.w},${c.c}] k${c.k} m${c.m} s${c.stride} d${c.dilation} ${JSON.stringify(c.pad)}`;

test('depthwise conv forward and both gradients match cpu over the grid', async (t) => {
  if (!family('conv')) return t.skip('the conv family did not load');
  for (const [i, c] of grid().entries()) {
    await expectSameOnBackends(
      `depthwise ${label(c)}`,
      () => {
        const x = randomTensor([c.batch, c.h, c.w, c.c], i) as tf.Tensor4D;
        const f = randomTensor([c.k, c.k, c.c, c.m], 1000 + i) as tf.Tensor4D;
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
        const y = conv(x, f);
        if (c.dilation > 1) return [y]; // TF.js has no gradient for dilated depthwise convolutions
        const dy = randomTensor(y.shape, 2000 + i);
        const [dx, df] = tf.grads(conv)([x, f], dy);
        return [y, dx, df];
      },
      {
        expectNative:
          c.dilation > 1 ? ['DepthwiseConv2dNative'] : ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
      },
    );
  }
});

test('fused depthwise conv (bias + relu6, bias + relu) matches cpu, and its gradients too', async (t) => {
  if (!family('conv')) return t.skip('the conv family did not load');
  for (const [i, activation] of (['relu6', 'relu', 'linear'] as const).entries()) {
    for (const stride of [1, 2]) {
      await expectSameOnBackends(
        `fused depthwise ${activation} s${stride}`,
        () => {
          const x = randomTensor([2, 9, 8, 16], 10 + i, -4, 8) as tf.Tensor4D;
          const f = randomTensor([3, 3, 16, 1], 20 + i) as tf.Tensor4D;
          const bias = randomTensor([16], 30 + i);
          const y = tf.fused.depthwiseConv2d({ x, filter: f, bias, strides: stride, pad: 'same', activation });
          const run = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
            tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, bias: c, strides: stride, pad: 'same', activation });
          const grads = tf.grads(run)([x, f, bias], randomTensor(y.shape, 40 + i));
          return [y, ...grads];
        },
        { expectNative: ['FusedDepthwiseConv2D'] },
      );
    }
  }
});

test('depthwise conv: NCHW goes to the cpu kernel, with its result', async (t) => {
  if (!family('conv')) return t.skip('the conv family did not load');
  const fn = () => tf.depthwiseConv2d(randomTensor([2, 3, 5, 6], 1) as tf.Tensor4D, randomTensor([3, 3, 3, 1], 2) as tf.Tensor4D, 1, 'same', 'NCHW');
  const cpu = await runOn('cpu', fn);
  const native = await runOn('native', fn);
  assert.deepEqual(native.outputs[0].values, cpu.outputs[0].values);
  assert.deepEqual(
    native.kernels.filter((k) => k.kernel === 'DepthwiseConv2dNative').map((k) => k.native),
    [false],
  );
});
