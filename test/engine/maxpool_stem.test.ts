// The ResNet stem's max-pool (3x3, stride 2, padding 1: torchvision's; 'same' and 'valid' as TF.js has them)
// and its gradient on native against cpu, even and odd sizes, batch > 1.
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

import { expectSameOnBackends, randomTensor } from './harness.js';

test('maxPool 3x3 stride 2 (padding 1, same, valid) and its gradient match cpu', async () => {
  for (const [batch, h, w, c] of [
    [2, 16, 16, 8],
    [3, 15, 13, 5],
    [1, 8, 10, 16],
  ]) {
    for (const pad of [1, 'same', 'valid'] as const) {
      await expectSameOnBackends(
        `maxPool x[${batch},${h},${w},${c}] 3x3/2 pad ${pad}`,
        () => {
          const x = randomTensor([batch, h, w, c], h * w + c) as tf.Tensor4D;
          const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 3, 2, pad);
          const y = pool(x);
          return [y, tf.grad(pool)(x, randomTensor(y.shape, 5))];
        },
        { expectNative: ['MaxPool', 'MaxPoolGrad'] },
      );
    }
  }
});
