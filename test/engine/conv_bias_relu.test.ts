import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { convBiasRelu } from '../../src/engine/ops/conv_bias_relu.js';
import { expectSameOnBackends, randomTensor, runOn } from './harness.js';

// The reference: tfjs-core's own unfused ops, whose gradients are TF.js's.
function reference(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  strides: [number, number],
  pad: 'same' | 'valid',
  activation: 'relu' | 'linear',
): tf.Tensor4D {
  const z = tf.add(tf.conv2d(x, w, strides, pad), b) as tf.Tensor4D;
  return activation === 'relu' ? tf.relu(z) : z;
}

const CASES: { x: number[]; w: number[]; strides: [number, number]; pad: 'same' | 'valid'; activation?: 'linear' }[] = [
  { x: [2, 9, 7, 3], w: [1, 1, 3, 5], strides: [1, 1], pad: 'same', activation: 'linear' }, // the logits layer
  { x: [2, 9, 7, 3], w: [3, 3, 3, 5], strides: [1, 1], pad: 'same' },
  { x: [1, 8, 8, 4], w: [3, 3, 4, 16], strides: [2, 2], pad: 'same' },
  { x: [3, 7, 9, 2], w: [1, 1, 2, 3], strides: [1, 1], pad: 'valid' },
  { x: [2, 40, 40, 16], w: [3, 3, 16, 16], strides: [1, 1], pad: 'same' }, // crosses the threading threshold
];

for (const c of CASES) {
  const activation = c.activation ?? 'relu';
  test(`convBiasRelu ${c.x} * ${c.w} ${c.pad}/${c.strides} ${activation}: value and gradients match the unfused ops`, async () => {
    const make = () => [randomTensor(c.x, 1) as tf.Tensor4D, randomTensor(c.w, 2) as tf.Tensor4D, randomTensor([c.w[3]], 3) as tf.Tensor1D] as const;
    const fused = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => convBiasRelu(x, w, b, { strides: c.strides, pad: c.pad, activation });
    const unfused = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => reference(x, w, b, c.strides, c.pad, activation);
    const withGrads = (f: typeof fused) => () => {
      const [x, w, b] = make();
      const dy = randomTensor(c.x.slice(0, 1).concat(f(x, w, b).shape.slice(1)), 4);
      const grads = tf.grads((a: tf.Tensor, bb: tf.Tensor, cc: tf.Tensor) => tf.mul(f(a as tf.Tensor4D, bb as tf.Tensor4D, cc as tf.Tensor1D), dy))([x, w, b]);
      return [f(x, w, b), ...grads];
    };
    // The fused op on native against the unfused reference on cpu.
    const ref = await runOn('cpu', withGrads(unfused));
    for (const backend of ['native', 'cpu']) {
      const got = await runOn(backend, withGrads(fused));
      got.outputs.forEach((o, i) => {
        const r = ref.outputs[i];
        assert.deepEqual(o.shape, r.shape);
        let diff = 0;
        let scale = 0;
        for (let k = 0; k < r.values.length; k++) {
          diff = Math.max(diff, Math.abs(o.values[k] - r.values[k]));
          scale = Math.max(scale, Math.abs(r.values[k]));
        }
        assert.ok(diff / scale <= 1e-4, `${backend} output ${i}: relative error ${diff / scale}`);
      });
      if (backend === 'native') {
        for (const k of [...(activation === 'relu' ? ['UnetReluBiasGrad'] : []), 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) {
          assert.ok(
            got.kernels.some((r) => r.kernel === k && r.native),
            `${k} did not run natively`,
          );
        }
      }
    }
  });
}

test('a Conv2D layer with relu runs the fused op, and only the gradients that are needed', async () => {
  await tf.setBackend('native');
  const layer = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' });
  const x = randomTensor([2, 8, 8, 3], 5);
  layer.apply(x); // builds the layer
  await expectSameOnBackends('layer forward', () => layer.apply(randomTensor([2, 8, 8, 3], 5)) as tf.Tensor, { expectNative: ['FusedConv2D'] });
  await tf.setBackend('native');
  // Only the bias is a variable we ask for: no convolution gradient may run.
  const { profiler } = await import('../../src/engine/index.js');
  const { kernels } = profiler.capture(() => {
    const { grads, value } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, [layer.weights[1].read() as tf.Variable]);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const names = kernels.map((k) => k.kernel);
  assert.ok(names.includes('UnetReluBiasGrad'), names.join(','));
  assert.ok(!names.includes('Conv2DBackpropFilter') && !names.includes('Conv2DBackpropInput'), `unneeded gradients ran: ${names.join(',')}`);
  x.dispose();
  layer.dispose();
});

test('a Conv2D layer without bias or activation (ResNet, MobileNetV2) runs the plain Conv2D kernel, lazy gradients', async () => {
  await tf.setBackend('native');
  const { profiler } = await import('../../src/engine/index.js');
  const first = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'heNormal' });
  const frozen = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'heNormal' });
  const image = randomTensor([2, 8, 8, 3], 6);
  const net = (x: tf.Tensor) => frozen.apply(first.apply(x)) as tf.Tensor;
  net(image); // builds both layers
  await expectSameOnBackends('bias-free layers forward', () => net(randomTensor([2, 8, 8, 3], 6)), { expectNative: ['Conv2D'] });
  await tf.setBackend('native');
  // Only the first layer's filter is asked for: the image's gradient and the second layer's filter gradient are
  // never needed (tfjs-core's FusedConv2D, which tfjs-layers uses here, would compute both).
  const { kernels } = profiler.capture(() => {
    const { grads, value } = tf.variableGrads(() => tf.sum(net(image)) as tf.Scalar, [first.weights[0].read() as tf.Variable]);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const count = (k: string) => kernels.filter((r) => r.kernel === k).length;
  assert.equal(count('FusedConv2D'), 0, kernels.map((k) => k.kernel).join(','));
  assert.equal(count('Conv2DBackpropFilter'), 1, 'only the trainable filter');
  assert.equal(count('Conv2DBackpropInput'), 1, 'only through the second layer, not into the image');
  image.dispose();
  first.dispose();
  frozen.dispose();
});
