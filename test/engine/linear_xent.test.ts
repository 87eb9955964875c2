// The fused logits layer + cross-entropy (UnetLinearSoftmaxXent) against the unfused ops it replaces:
// a 1x1 convolution with bias, then sparseSoftmaxCrossEntropy, differentiated by TF.js on `cpu`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

import { profiler } from '../../src/engine/index.js';
import { RELU_BIAS_GRAD } from '../../src/engine/kernels/conv/conv_bias_relu.js';
import { convBiasRelu } from '../../src/engine/ops/conv_bias_relu.js';
import { linearSoftmaxCrossEntropy } from '../../src/engine/ops/linear_softmax_cross_entropy.js';
import { sparseSoftmaxCrossEntropy } from '../../src/engine/ops/sparse_softmax_cross_entropy.js';
import { maxRelativeError, randomTensor, randomValues } from './harness.js';

const EXPECT_NATIVE = process.env.UNET_TRANSFER_NO_NATIVE !== '1';

interface Case {
  /** [N, H, W, C] */
  shape: [number, number, number, number];
  K: number;
  bias: boolean;
  weights: boolean;
}

// Whole 16-row tiles with C a multiple of 16 (the shuffle transposes), ragged tiles, C below and above
// the 8-wide padding, a large enough case for threads, class weights, no bias.
const CASES: Case[] = [
  { shape: [2, 4, 8, 16], K: 23, bias: true, weights: false },
  { shape: [1, 5, 7, 3], K: 2, bias: true, weights: false },
  { shape: [2, 3, 5, 10], K: 9, bias: false, weights: true },
  { shape: [1, 6, 6, 32], K: 17, bias: true, weights: true },
  { shape: [2, 40, 36, 16], K: 23, bias: true, weights: false },
];

function inputs(c: Case) {
  const [N, H, W, C] = c.shape;
  return {
    h: randomTensor(c.shape, 11, -1, 1),
    kernel: randomTensor([1, 1, C, c.K], 12, -0.5, 0.5),
    bias: c.bias ? randomTensor([c.K], 13, -1, 1) : null,
    labels: tf.tensor(Array.from(randomValues(N * H * W, 14, 0, c.K), Math.floor), [N, H, W], 'int32'),
    weights: c.weights ? Array.from(randomValues(c.K, 15, 0.2, 2)) : undefined,
  };
}

/** Loss and gradients [dh, dkernel, dbias?] of the fused op, or of conv + bias + CE. */
async function lossAndGrads(backend: string, c: Case, fused: boolean) {
  await tf.setBackend(backend);
  const { result, kernels } = profiler.capture(() =>
    tf.tidy(() => {
      const x = inputs(c);
      const vars = x.bias ? [x.h, x.kernel, x.bias] : [x.h, x.kernel];
      const f = (...args: tf.Tensor[]) => {
        const [h, k, b] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D | undefined];
        if (fused) return linearSoftmaxCrossEntropy(h, k, b ?? null, x.labels, { classWeights: x.weights });
        const z = tf.conv2d(h, k, 1, 'valid');
        return sparseSoftmaxCrossEntropy(b ? tf.add(z, b) : z, x.labels, x.weights);
      };
      const { value, grads } = tf.valueAndGrads(f)(vars);
      return [value.dataSync()[0]!, grads.map((g) => g.dataSync() as Float32Array)] as const;
    }),
  );
  return { loss: result[0], grads: result[1], kernels };
}

for (const c of CASES) {
  const name = `${c.shape.join('x')}, ${c.K} classes${c.bias ? '' : ', no bias'}${c.weights ? ', class weights' : ''}`;
  test(`linearSoftmaxCrossEntropy (${name}) equals conv 1x1 + cross-entropy in value and gradients`, async () => {
    const ref = await lossAndGrads('cpu', c, false);
    for (const backend of ['cpu', 'native']) {
      const got = await lossAndGrads(backend, c, true);
      assert.ok(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss) <= 1e-5, `${backend}: loss ${got.loss} vs ${ref.loss}`);
      got.grads.forEach((g, i) => {
        const err = maxRelativeError(g, ref.grads[i]!);
        assert.ok(err <= 1e-4, `${backend}: gradient ${['features', 'kernel', 'bias'][i]} error ${err}`);
      });
      // The profiler sees the `native` backend's kernels: one fused call, no convolution, no softmax.
      if (backend === 'native' && EXPECT_NATIVE) {
        const ran = got.kernels.filter((k) => k.kernel === 'UnetLinearSoftmaxXent');
        assert.ok(ran.length === 1 && ran[0]!.native && ran[0]!.calls === 1, 'UnetLinearSoftmaxXent did not run natively, once');
        assert.deepEqual(
          got.kernels.filter((k) => /Conv|Xent|Softmax/.test(k.kernel)).map((k) => k.kernel),
          ['UnetLinearSoftmaxXent'],
        );
      }
    }
  });
}

test('linearSoftmaxCrossEntropy: the same gradients twice (sums made in a fixed order), scaled by the seed', async () => {
  const c = CASES[4]!;
  const a = await lossAndGrads('native', c, true);
  const b = await lossAndGrads('native', c, true);
  a.grads.forEach((g, i) => assert.deepEqual(g, b.grads[i]));
  // Twice the loss: every gradient doubles (the seed is 2, not 1).
  await tf.setBackend('native');
  const twice = tf.tidy(() => {
    const x = inputs(c);
    const f = (h: tf.Tensor, k: tf.Tensor, bias: tf.Tensor) => tf.mul(linearSoftmaxCrossEntropy(h, k, bias, x.labels), 2) as tf.Scalar;
    return tf
      .grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x.h, x.kernel, x.bias!])
      .map((g) => g.dataSync() as Float32Array);
  });
  twice.forEach((g, i) =>
    assert.ok(
      maxRelativeError(
        g,
        a.grads[i]!.map((v) => 2 * v),
      ) <= 1e-6,
    ),
  );
});

test('linearSoftmaxCrossEntropy names a bad label and a wrong kernel, and leaks nothing', async () => {
  for (const backend of ['cpu', 'native']) {
    await tf.setBackend(backend);
    const h = randomTensor([1, 2, 2, 4], 4);
    const kernel = randomTensor([1, 1, 4, 3], 5);
    for (const bad of [3, -1]) {
      const labels = tf.tensor3d([0, 2, bad, 1], [1, 2, 2], 'int32');
      const before = tf.memory().numTensors;
      const dataBefore = tf.engine().backend.numDataIds();
      assert.throws(() => linearSoftmaxCrossEntropy(h, kernel, null, labels), new RegExp(`label ${bad} at position 2 is outside \\[0, 3\\)`), backend);
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      assert.equal(tf.engine().backend.numDataIds(), dataBefore, `${backend}: buffers leaked`);
      labels.dispose();
    }
    const labels = tf.zeros([1, 2, 2], 'int32');
    assert.throws(() => linearSoftmaxCrossEntropy(h, randomTensor([1, 1, 5, 3], 6), null, labels), /kernel must be float32 \[1, 1, 4, classes\]/);
    assert.throws(() => linearSoftmaxCrossEntropy(h, kernel, tf.zeros([2]), labels), /bias must be float32 \[3\]/);
    assert.throws(() => linearSoftmaxCrossEntropy(h, kernel, null, tf.zeros([1, 2, 3], 'int32')), /labels must be int32 \[1,2,2\]/);
    tf.dispose([h, kernel, labels]);
  }
});

// A ReLU conv before the logits layer, as in every U-Net's head: the fused loss with reluFeatures does that
// ReLU's backward pass and its bias sum, and the conv's gradient uses them (relu_grad_hint.ts).
async function headGrads(backend: string, fused: boolean) {
  await tf.setBackend(backend);
  const { result, kernels } = profiler.capture(() =>
    tf.tidy(() => {
      const x = randomTensor([2, 6, 8, 5], 21, -1, 1);
      const filter = randomTensor([3, 3, 5, 16], 22, -0.3, 0.3);
      const convBias = randomTensor([16], 23, -0.2, 0.2);
      const kernel = randomTensor([1, 1, 16, 7], 24, -0.5, 0.5);
      const bias = randomTensor([7], 25, -1, 1);
      const labels = tf.tensor(Array.from(randomValues(2 * 6 * 8, 26, 0, 7), Math.floor), [2, 6, 8], 'int32');
      const f = (...args: tf.Tensor[]) => {
        const [xx, fw, fb, k, b] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D];
        const h = convBiasRelu(xx, fw, fb, { strides: [1, 1], pad: 'same' });
        if (fused) return linearSoftmaxCrossEntropy(h, k, b, labels, { reluFeatures: true });
        return sparseSoftmaxCrossEntropy(tf.add(tf.conv2d(h, k, 1, 'valid'), b), labels);
      };
      const { value, grads } = tf.valueAndGrads(f)([x, filter, convBias, kernel, bias]);
      return [value.dataSync()[0]!, grads.map((g) => g.dataSync() as Float32Array)] as const;
    }),
  );
  return { loss: result[0], grads: result[1], kernels };
}

test('linearSoftmaxCrossEntropy with reluFeatures: the ReLU conv before it gets the same gradients, without its ReLU backward kernel', async () => {
  const ref = await headGrads('cpu', false);
  for (const backend of ['cpu', 'native']) {
    const got = await headGrads(backend, true);
    assert.ok(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss) <= 1e-5, `${backend}: loss`);
    got.grads.forEach((g, i) => {
      const err = maxRelativeError(g, ref.grads[i]!);
      assert.ok(err <= 1e-4, `${backend}: gradient of ${['x', 'conv filter', 'conv bias', 'logits kernel', 'logits bias'][i]}: error ${err}`);
    });
    if (backend === 'native' && EXPECT_NATIVE) {
      assert.ok(!got.kernels.some((k) => k.kernel === RELU_BIAS_GRAD), 'the ReLU + bias backward ran although the loss did it');
      const unfused = await headGrads('native', false);
      assert.ok(
        unfused.kernels.some((k) => k.kernel === RELU_BIAS_GRAD),
        'the unfused head runs the ReLU + bias backward',
      );
    }
  }
});

test('linearSoftmaxCrossEntropy with reluFeatures and a scaled loss: the marked sums are scaled too', async () => {
  await tf.setBackend('native');
  const grads = (scale: number) =>
    tf.tidy(() => {
      const x = randomTensor([1, 4, 4, 3], 31);
      const filter = randomTensor([3, 3, 3, 16], 32, -0.5, 0.5);
      const convBias = randomTensor([16], 33, -0.2, 0.2);
      const kernel = randomTensor([1, 1, 16, 5], 34);
      const labels = tf.tensor(Array.from(randomValues(16, 35, 0, 5), Math.floor), [1, 4, 4], 'int32');
      const f = (fw: tf.Tensor, fb: tf.Tensor) =>
        tf.mul(
          linearSoftmaxCrossEntropy(
            convBiasRelu(x as tf.Tensor4D, fw as tf.Tensor4D, fb as tf.Tensor1D, { strides: [1, 1], pad: 'same' }),
            kernel,
            null,
            labels,
            { reluFeatures: true },
          ),
          scale,
        ) as tf.Scalar;
      return tf
        .grads(f as (...t: tf.Tensor[]) => tf.Tensor)([filter, convBias])
        .map((g) => g.dataSync() as Float32Array);
    });
  const one = grads(1);
  const three = grads(3);
  one.forEach((g, i) =>
    assert.ok(
      maxRelativeError(
        three[i]!,
        g.map((v) => 3 * v),
      ) <= 1e-6,
      `gradient ${i}`,
    ),
  );
});
