// The convolution algorithms the native kernels pick by geometry (native/src/conv): Winograd F(4x4, 3x3) where
// WinogradPays (oneDNN's jit_wino_4x3, AVX-512 only: skipped with the reason elsewhere), and never oneDNN 2.6's GEMM
// convolution, which corrupts the heap (dnnl_conv.h WithoutGemm; conv_heap.test.ts). Each agrees with the cpu
// kernels, and the shapes the rules leave out keep the blocked direct kernels.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle lacks the gradient configs; tfjs-layers' bundle registers them on load.
import '@tensorflow/tfjs-layers';

import { convImplementations, convPhaseTimes, cpuCapabilities } from '../../src/engine/index.js';
import { expectSameOnBackends, randomTensor } from './harness.js';

const isa = cpuCapabilities().onednnIsa;
const skip = isa.startsWith('avx512_core') ? false : `oneDNN's Winograd needs AVX-512 (avx512_core); this CPU's ISA is ${isa}`;
// Winograd's transforms round differently from a direct sum; still far inside the engine's usual 1e-4.
const TOL = 1e-4;

/** The implementation recorded for the last primitive of `kernel` with input [n, h, w, c] and c -> o channels. */
function implOf(kernel: string, n: number, h: number, w: number, c: number, o: number): string | undefined {
  const found = convImplementations().filter(
    (i) => i.kernel === kernel && i.geometry[0] === n && i.geometry[1] === h && i.geometry[2] === w && i.geometry[3] === c && i.geometry[4] === o,
  );
  return found.at(-1)?.impl;
}

function backpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[]): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape }) as tf.Tensor;
}

// batch 2 of 16x16 maps: 2 x 4 x 4 = 32 output tiles, the rule's minimum
test('Winograd forward (with bias and ReLU fused) and backward-data agree with the cpu kernels', { skip }, async () => {
  const [n, h, w, c, o] = [2, 16, 16, 32, 48];
  await expectSameOnBackends(
    'fused conv 32 -> 48',
    () =>
      tf.fused.conv2d({
        x: randomTensor([n, h, w, c], 1) as tf.Tensor4D,
        filter: randomTensor([3, 3, c, o], 2) as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: randomTensor([o], 3),
        activation: 'relu',
      }),
    { tol: TOL, expectNative: ['FusedConv2D'] },
  );
  assert.match(implOf('Conv2D', n, h, w, c, o) ?? 'none', /wino/);
  await expectSameOnBackends(
    'backward data 48 -> 32',
    () => tf.conv2dTranspose(randomTensor([n, h, w, o], 4) as tf.Tensor4D, randomTensor([3, 3, c, o], 5) as tf.Tensor4D, [n, h, w, c], 1, 'same'),
    { tol: TOL, expectNative: ['Conv2DBackpropInput'] },
  );
  assert.match(implOf('Conv2DBackpropInput', n, h, w, c, o) ?? 'none', /wino/);
});

test('Winograd weight gradient agrees with the cpu kernel', { skip }, async () => {
  const [n, h, w, c, o] = [2, 16, 16, 64, 64];
  await expectSameOnBackends('backward weights 64 -> 64', () => backpropFilter(randomTensor([n, h, w, c], 6), randomTensor([n, h, w, o], 7), [3, 3, c, o]), {
    tol: TOL,
    expectNative: ['Conv2DBackpropFilter'],
  });
  assert.match(implOf('Conv2DBackpropFilter', n, h, w, c, o) ?? 'none', /wino/);
});

test('a training step through Winograd layers gives the cpu backend gradients', { skip }, async () => {
  const [n, h, w, c] = [2, 16, 16, 64];
  await expectSameOnBackends(
    'two Winograd convs, their gradients',
    () => {
      const x = randomTensor([n, h, w, c], 8) as tf.Tensor4D;
      const w1 = randomTensor([3, 3, c, c], 9, -0.1, 0.1) as tf.Tensor4D;
      const w2 = randomTensor([3, 3, c, c], 10, -0.1, 0.1) as tf.Tensor4D;
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.mean(tf.square(tf.conv2d(tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, 'same')), b as tf.Tensor4D, 1, 'same')));
      return tf.grads(loss)([w1, w2]);
    },
    { tol: TOL },
  );
});

test('the blocked copies around Winograd primitives count as activation time', { skip }, async () => {
  await tf.setBackend('native');
  const x = randomTensor([2, 16, 16, 32], 17) as tf.Tensor4D;
  const w = randomTensor([3, 3, 32, 32], 18) as tf.Tensor4D;
  convPhaseTimes(true);
  tf.dispose(tf.conv2d(x, w, 1, 'same'));
  const phases = convPhaseTimes(true);
  tf.dispose([x, w]);
  assert.ok(phases.compute > 0 && phases.activations > 0, JSON.stringify(phases));
});

test('shapes the rule leaves out stay direct: 16 channels, a stride, too few tiles', { skip }, async () => {
  tf.dispose([
    tf.conv2d(randomTensor([2, 16, 16, 16], 11) as tf.Tensor4D, randomTensor([3, 3, 16, 32], 12) as tf.Tensor4D, 1, 'same'),
    tf.conv2d(randomTensor([2, 16, 16, 32], 13) as tf.Tensor4D, randomTensor([3, 3, 32, 32], 14) as tf.Tensor4D, 2, 'same'),
    tf.conv2d(randomTensor([1, 8, 8, 32], 15) as tf.Tensor4D, randomTensor([3, 3, 32, 32], 16) as tf.Tensor4D, 1, 'same'),
  ]);
  for (const [h, c, o, n] of [
    [16, 16, 32, 2],
    [16, 32, 32, 2],
    [8, 32, 32, 1],
  ]) {
    const impl = implOf('Conv2D', n, h, h, c, o);
    assert.ok(impl && !/wino/.test(impl), `[${n},${h},${h},${c}] -> ${o}: ${impl}`);
  }
});

test('small output maps (the 4x4 and 2x2 stages of a ResNet) run no GEMM convolution in any pass, and agree with the cpu kernel', async () => {
  const cases: [number, number, number, number, number][] = [
    [2, 4, 64, 64, 1], // 4x4 -> 4x4
    [3, 8, 32, 48, 2], // 8x8 stride 2 -> 4x4
    [2, 2, 32, 32, 1], // 2x2
  ];
  for (const [n, h, c, o, stride] of cases) {
    await expectSameOnBackends(
      `[${n},${h},${h},${c}] -> ${o} stride ${stride}`,
      () => {
        const f = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, stride, 'same')));
        const [dx, dw] = tf.grads(f)([randomTensor([n, h, h, c], 20 + h), randomTensor([3, 3, c, o], 30 + h)]);
        return [dx, dw];
      },
      { expectNative: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] },
    );
    for (const kernel of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'])
      assert.doesNotMatch(implOf(kernel, n, h, h, c, o) ?? 'none', /^(?!brg).*gemm/, `${kernel} [${n},${h},${h},${c}] -> ${o}`);
  }
});

test('output maps of at most 4x4 run as im2col + oneDNN matmul in all three passes, with the HWIO filter as it is', { skip }, async () => {
  const cases: [number, number, number, number, number, number][] = [
    [2, 4, 64, 64, 3, 1], // 4x4, 3x3
    [2, 2, 32, 32, 3, 1], // 2x2
    [2, 8, 32, 48, 3, 2], // 8x8 stride 2 -> 4x4
    [3, 4, 40, 24, 1, 1], // pointwise: x itself is the column matrix
    [2, 8, 16, 32, 1, 2], // 1x1 stride 2 (a ResNet's downsample)
  ];
  for (const [n, h, c, o, k, stride] of cases) {
    const name = `[${n},${h},${h},${c}] -> ${o} ${k}x${k} stride ${stride}`;
    await expectSameOnBackends(
      name,
      () => {
        const f = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, stride, 'same')));
        const [dx, dw] = tf.grads(f)([randomTensor([n, h, h, c], 40 + h + k), randomTensor([k, k, c, o], 50 + h + k)]);
        return [dx, dw];
      },
      { expectNative: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] },
    );
    for (const kernel of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'])
      assert.match(implOf(kernel, n, h, h, c, o) ?? 'none', /^im2col\+matmul:brg/, `${kernel} ${name}`);
  }
  // bias and ReLU6 as the matmul's post-ops
  await expectSameOnBackends(
    'fused 4x4 conv with bias and relu6',
    () =>
      tf.fused.conv2d({
        x: randomTensor([2, 4, 4, 32], 61) as tf.Tensor4D,
        filter: randomTensor([3, 3, 32, 16], 62) as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: randomTensor([16], 63),
        activation: 'relu6',
      }),
    { expectNative: ['FusedConv2D'] },
  );
});

test('maps above 4x4 keep the convolution primitives; a column matrix above 16 MB keeps the jit direct forward', { skip }, () => {
  tf.dispose(tf.conv2d(randomTensor([2, 8, 8, 64], 70) as tf.Tensor4D, randomTensor([3, 3, 64, 64], 71) as tf.Tensor4D, 1, 'same'));
  assert.doesNotMatch(implOf('Conv2D', 2, 8, 8, 64, 64) ?? 'none', /matmul|^jit:avx512_core$/, '8x8 keeps the first choice of oneDNN');
  // batch 64 of 4x4 output maps (stride 2: no Winograd), 3x3 over 512 channels: 64 * 16 * 4608 floats = 19 MB
  tf.dispose(tf.conv2d(randomTensor([64, 8, 8, 512], 72) as tf.Tensor4D, randomTensor([3, 3, 512, 64], 73) as tf.Tensor4D, 2, 'same'));
  assert.match(implOf('Conv2D', 64, 8, 8, 512, 64) ?? 'none', /^jit:avx512/);
});

test('a filter that comes back keeps its blocked copy (no reorder); a new filter at every call is converted each time', async () => {
  await tf.setBackend('native');
  // 8x8 maps and 32 -> 48 channels: a direct primitive with blocked weights, not Winograd's shared copies.
  const x = randomTensor([2, 8, 8, 32], 1);
  const conv = (w: tf.Tensor) => tf.tidy(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync());
  const frozen = randomTensor([3, 3, 32, 48], 2);
  const first = conv(frozen);
  conv(frozen); // the second call with the same tensor makes the copy its own
  convPhaseTimes(true);
  const again = conv(frozen);
  assert.equal(convPhaseTimes(true).weights, 0, 'the frozen filter is not reordered again');
  assert.deepEqual(Array.from(again), Array.from(first), 'and the kept copy is the same filter');
  const trained = [3, 4, 5].map((seed) => randomTensor([3, 3, 32, 48], seed));
  const outputs = trained.map((w) => {
    convPhaseTimes(true);
    const y = conv(w);
    assert.ok(convPhaseTimes(true).weights > 0, 'a new filter is reordered');
    return y;
  });
  // every call converted its own filter: the outputs differ as the filters do, and match a fresh run
  assert.notDeepEqual(Array.from(outputs[1]), Array.from(outputs[2]));
  assert.deepEqual(Array.from(conv(trained[1])), Array.from(outputs[1]));
  tf.dispose([x, frozen, ...trained]);
});
