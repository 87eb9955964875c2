import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node bundle lacks the gradient configs; tfjs-layers' bundle registers them on load.
import '@tensorflow/tfjs-layers';

import { expectSameOnBackends, randomTensor } from './harness.js';

// Data movement is exact: native must equal cpu bit for bit (tol 0).
const EXACT = { tol: 0 };

/** Integer-valued random int32 tensor in [-50, 50). */
function randomInt(shape: number[], seed: number): tf.Tensor {
  return tf.cast(tf.floor(randomTensor(shape, seed, -50, 50)), 'int32');
}

test('Concat along every axis, 2 and 3 parts, batch 1 and 3, channels 1/3/16', async () => {
  const bases = [
    [1, 5, 7, 1],
    [3, 5, 7, 3],
    [3, 4, 9, 16],
  ];
  for (const [i, base] of bases.entries()) {
    for (let axis = 0; axis < 4; axis++) {
      for (const parts of [2, 3]) {
        // Parts differ in size along the axis: 1, 2, 3 times the base extent... trimmed to >= 1.
        const shapes = Array.from({ length: parts }, (_, p) => base.map((d, k) => (k === axis ? d + p : d)));
        await expectSameOnBackends(
          `concat ${base} axis ${axis} x${parts}`,
          () =>
            tf.concat(
              shapes.map((s, p) => randomTensor(s, 10 * i + p)),
              axis,
            ),
          {
            ...EXACT,
            expectNative: ['Concat'],
          },
        );
      }
    }
  }
  // Negative axis, rank 2, and sizes past the parallel threshold (row and chunked-run paths).
  await expectSameOnBackends('concat rank 2 axis -1', () => tf.concat([randomTensor([4, 3], 1), randomTensor([4, 5], 2)], -1), {
    ...EXACT,
    expectNative: ['Concat'],
  });
  await expectSameOnBackends('concat U-Net skip', () => tf.concat([randomTensor([3, 33, 17, 16], 3), randomTensor([3, 33, 17, 16], 4)], 3), {
    ...EXACT,
    expectNative: ['Concat'],
  });
  await expectSameOnBackends('concat long runs', () => tf.concat([randomTensor([3, 128, 128], 5), randomTensor([2, 128, 128], 6)], 0), {
    ...EXACT,
    expectNative: ['Concat'],
  });
});

test('SplitV along every axis into 2 and 3 parts', async () => {
  const shape = [3, 6, 7, 12];
  for (let axis = 0; axis < 4; axis++) {
    const n = shape[axis];
    for (const sizes of [
      [1, n - 1],
      [Math.floor(n / 3), -1, 1],
    ]) {
      await expectSameOnBackends(`split ${shape} axis ${axis} ${sizes}`, () => tf.split(randomTensor(shape, axis), sizes, axis), {
        ...EXACT,
        expectNative: ['SplitV'],
      });
    }
  }
  await expectSameOnBackends('split even 3', () => tf.split(randomTensor([2, 5, 9], 3), 3, 2), { ...EXACT, expectNative: ['SplitV'] });
  await expectSameOnBackends('split U-Net skip', () => tf.split(randomTensor([3, 33, 17, 32], 4), [16, 16], 3), { ...EXACT, expectNative: ['SplitV'] });
});

test('Slice: contiguous and strided boxes of ranks 1..5', async () => {
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [5]],
    [
      [6, 7],
      [1, 2],
      [4, -1],
    ],
    [
      [3, 5, 7, 16],
      [1, 0, 0, 0],
      [2, -1, -1, -1],
    ],
    [
      [3, 5, 7, 16],
      [0, 1, 2, 3],
      [3, 3, 4, 8],
    ],
    [
      [3, 9, 11, 3],
      [1, 2, 3, 1],
      [2, 5, 7, 1],
    ],
    [
      [2, 3, 4, 5, 6],
      [1, 1, 0, 2, 1],
      [1, 2, 4, 3, 4],
    ],
    [
      [4, 64, 64, 16],
      [0, 3, 5, 0],
      [4, 40, 50, 16],
    ],
  ];
  for (const [shape, begin, size] of cases) {
    await expectSameOnBackends(`slice ${shape} ${begin} ${size}`, () => tf.slice(randomTensor(shape, 7), begin, size), { ...EXACT, expectNative: ['Slice'] });
  }
});

test('Transpose over permutations of ranks 2..5', async () => {
  const cases: [number[], number[]][] = [
    [
      [5, 7],
      [1, 0],
    ],
    [
      [4, 5, 6],
      [0, 2, 1],
    ],
    [
      [4, 5, 6],
      [2, 0, 1],
    ],
    [
      [4, 5, 6],
      [1, 0, 2],
    ],
    [
      [3, 5, 7, 16],
      [0, 3, 1, 2],
    ],
    [
      [3, 16, 5, 7],
      [0, 2, 3, 1],
    ],
    [
      [3, 5, 7, 3],
      [3, 2, 1, 0],
    ],
    [
      [3, 5, 7, 3],
      [0, 1, 2, 3],
    ],
    [
      [2, 3, 4, 5, 6],
      [4, 0, 2, 1, 3],
    ],
    [
      [2, 3, 4, 5, 6],
      [0, 1, 4, 2, 3],
    ],
    [
      [4, 64, 64, 16],
      [0, 3, 1, 2],
    ],
    [
      [1, 3, 96, 128],
      [0, 2, 3, 1],
    ],
  ];
  for (const [shape, perm] of cases) {
    await expectSameOnBackends(`transpose ${shape} ${perm}`, () => tf.transpose(randomTensor(shape, 11), perm), { ...EXACT, expectNative: ['Transpose'] });
  }
});

test('PadV2, Tile and Reverse', async () => {
  await expectSameOnBackends(
    'pad 0',
    () =>
      tf.pad(randomTensor([3, 5, 7, 3], 1), [
        [0, 0],
        [1, 2],
        [2, 1],
        [0, 0],
      ]),
    { ...EXACT, expectNative: ['PadV2'] },
  );
  await expectSameOnBackends(
    'pad 1.5',
    () =>
      tf.pad(
        randomTensor([2, 4, 6], 2),
        [
          [1, 0],
          [0, 3],
          [2, 2],
        ],
        1.5,
      ),
    { ...EXACT, expectNative: ['PadV2'] },
  );
  await expectSameOnBackends(
    'pad large',
    () =>
      tf.pad(
        randomTensor([2, 40, 40, 16], 3),
        [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        -2,
      ),
    { ...EXACT, expectNative: ['PadV2'] },
  );
  for (const [shape, reps] of [
    [[5], [3]],
    [
      [2, 3],
      [2, 1],
    ],
    [
      [3, 5, 7, 3],
      [1, 2, 1, 3],
    ],
    [
      [2, 1, 4, 1],
      [2, 3, 1, 5],
    ],
    [
      [2, 8, 8, 16],
      [2, 2, 3, 1],
    ],
  ] as [number[], number[]][]) {
    await expectSameOnBackends(`tile ${shape} ${reps}`, () => tf.tile(randomTensor(shape, 4), reps), { ...EXACT, expectNative: ['Tile'] });
  }
  for (const [shape, dims] of [
    [[7], [0]],
    [[3, 5, 7, 3], [2]],
    [[3, 5, 7, 3], [1]],
    [[3, 5, 7, 3], [3]],
    [
      [3, 5, 7, 3],
      [0, 1, 2, 3],
    ],
    [[3, 32, 48, 16], [2]],
  ] as [number[], number[]][]) {
    await expectSameOnBackends(`reverse ${shape} ${dims}`, () => tf.reverse(randomTensor(shape, 5), dims), { ...EXACT, expectNative: ['Reverse'] });
  }
});

test('int32 tensors move natively through Concat, Slice, Transpose, Tile, Reverse, PadV2, SplitV', async () => {
  await expectSameOnBackends('int32 concat', () => tf.concat([randomInt([3, 5, 7, 2], 1), randomInt([3, 5, 7, 3], 2)], 3), {
    ...EXACT,
    expectNative: ['Concat'],
  });
  await expectSameOnBackends('int32 slice', () => tf.slice(randomInt([3, 5, 7, 4], 3), [1, 1, 2, 1], [2, 3, 4, 2]), { ...EXACT, expectNative: ['Slice'] });
  await expectSameOnBackends('int32 transpose', () => tf.transpose(randomInt([3, 5, 7, 4], 4), [0, 3, 1, 2]), { ...EXACT, expectNative: ['Transpose'] });
  await expectSameOnBackends('int32 tile', () => tf.tile(randomInt([2, 3], 5), [2, 2]), { ...EXACT, expectNative: ['Tile'] });
  await expectSameOnBackends('int32 reverse', () => tf.reverse(randomInt([4, 5], 6), [1]), { ...EXACT, expectNative: ['Reverse'] });
  await expectSameOnBackends(
    'int32 pad',
    () =>
      tf.pad(
        randomInt([4, 5], 7),
        [
          [1, 1],
          [2, 0],
        ],
        7,
      ),
    { ...EXACT, expectNative: ['PadV2'] },
  );
  await expectSameOnBackends('int32 split', () => tf.split(randomInt([4, 6], 8), [2, 4], 1), { ...EXACT, expectNative: ['SplitV'] });
  // Values past 2^24 would lose bits if anything went through float32.
  await expectSameOnBackends(
    'int32 big values',
    () =>
      tf.transpose(
        tf.tensor2d(
          [
            [16777217, -2147483648],
            [2147483647, 3],
          ],
          [2, 2],
          'int32',
        ),
      ),
    { ...EXACT, expectNative: ['Transpose'] },
  );
});

test('bool tensors fall back to the cpu kernels and still agree', async () => {
  await expectSameOnBackends('bool concat', () => tf.concat([tf.tensor1d([true, false], 'bool'), tf.tensor1d([false], 'bool')]), EXACT);
  await expectSameOnBackends('bool transpose', () => tf.transpose(tf.tensor2d([[true, false, true]], [1, 3], 'bool')), EXACT);
});

const POOL_SHAPES = [
  [1, 9, 11, 1],
  [3, 8, 13, 3],
  [3, 11, 9, 16],
];
const POOL_CONFIGS: [number, number][] = [
  [2, 1],
  [2, 2],
  [3, 1],
  [3, 2],
];

test('MaxPool and AvgPool: pool 2/3, strides 1/2, same/valid', async () => {
  for (const [i, shape] of POOL_SHAPES.entries()) {
    for (const [f, s] of POOL_CONFIGS) {
      for (const pad of ['same', 'valid'] as const) {
        const label = `${shape} pool ${f} stride ${s} ${pad}`;
        const x = () => randomTensor(shape, 20 + i) as tf.Tensor4D;
        await expectSameOnBackends(`maxPool ${label}`, () => tf.maxPool(x(), f, s, pad), { ...EXACT, expectNative: ['MaxPool'] });
        await expectSameOnBackends(`avgPool ${label}`, () => tf.avgPool(x(), f, s, pad), { tol: 1e-6, expectNative: ['AvgPool'] });
      }
    }
  }
  // Non-square pool and strides, explicit padding, and a size past the parallel threshold.
  await expectSameOnBackends(
    'maxPool [2,3] [1,2] explicit',
    () =>
      tf.maxPool(
        randomTensor([2, 7, 9, 3], 1) as tf.Tensor4D,
        [2, 3],
        [1, 2],
        [
          [0, 0],
          [1, 0],
          [0, 2],
          [0, 0],
        ],
      ),
    { ...EXACT, expectNative: ['MaxPool'] },
  );
  await expectSameOnBackends('maxPool large', () => tf.maxPool(randomTensor([2, 32, 48, 16], 2) as tf.Tensor4D, 2, 2, 'valid'), {
    ...EXACT,
    expectNative: ['MaxPool'],
  });
  await expectSameOnBackends('avgPool large', () => tf.avgPool(randomTensor([2, 32, 48, 16], 2) as tf.Tensor4D, 3, 1, 'same'), {
    tol: 1e-6,
    expectNative: ['AvgPool'],
  });
});

test('MaxPoolGrad and AvgPoolGrad via tf.grad', async () => {
  for (const [i, shape] of POOL_SHAPES.entries()) {
    for (const [f, s] of POOL_CONFIGS) {
      for (const pad of ['same', 'valid'] as const) {
        const label = `${shape} pool ${f} stride ${s} ${pad}`;
        const grad = (op: (x: tf.Tensor4D) => tf.Tensor4D, ties: boolean) => () => {
          // Rounded inputs have many ties: the gradient must go to the first maximum of each window.
          const raw = randomTensor(shape, 30 + i, -2, 2) as tf.Tensor4D;
          const x = ties ? tf.round(raw) : raw;
          const y = op(x);
          return tf.grad((v: tf.Tensor) => op(v as tf.Tensor4D))(x, randomTensor(y.shape, 40 + i));
        };
        // Overlapping windows sum several dy: the CPU kernel sums in double, so allow rounding.
        await expectSameOnBackends(
          `maxPoolGrad ${label}`,
          grad((x) => tf.maxPool(x, f, s, pad), false),
          { tol: 1e-6, expectNative: ['MaxPoolGrad'] },
        );
        await expectSameOnBackends(
          `maxPoolGrad ties ${label}`,
          grad((x) => tf.maxPool(x, f, s, pad), true),
          { tol: 1e-6, expectNative: ['MaxPoolGrad'] },
        );
        await expectSameOnBackends(
          `avgPoolGrad ${label}`,
          grad((x) => tf.avgPool(x, f, s, pad), false),
          { tol: 1e-6, expectNative: ['AvgPoolGrad'] },
        );
      }
    }
  }
  await expectSameOnBackends(
    'maxPoolGrad large',
    () => {
      const x = randomTensor([2, 32, 48, 16], 3) as tf.Tensor4D;
      return tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 3, 2, 'same'))(x, randomTensor([2, 16, 24, 16], 4));
    },
    { tol: 1e-6, expectNative: ['MaxPoolGrad'] },
  );
});

const RESIZE_FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
];
const RESIZES: [number[], [number, number]][] = [
  [
    [1, 5, 7, 3],
    [9, 13],
  ],
  [
    [3, 9, 11, 16],
    [4, 6],
  ],
  [
    [2, 6, 6, 1],
    [12, 12],
  ],
  [
    [1, 7, 5, 3],
    [7, 10],
  ],
  [
    [2, 16, 16, 16],
    [32, 32],
  ],
];

test('ResizeBilinear and ResizeNearestNeighbor up and down, alignCorners and halfPixelCenters', async () => {
  for (const [i, [shape, size]] of RESIZES.entries()) {
    for (const [align, half] of RESIZE_FLAGS) {
      const label = `${shape} -> ${size} align ${align} half ${half}`;
      const x = () => randomTensor(shape, 50 + i) as tf.Tensor4D;
      await expectSameOnBackends(`bilinear ${label}`, () => tf.image.resizeBilinear(x(), size, align, half), { tol: 1e-6, expectNative: ['ResizeBilinear'] });
      await expectSameOnBackends(`nearest ${label}`, () => tf.image.resizeNearestNeighbor(x(), size, align, half), {
        ...EXACT,
        expectNative: ['ResizeNearestNeighbor'],
      });
    }
  }
  await expectSameOnBackends('nearest int32', () => tf.image.resizeNearestNeighbor(randomInt([2, 5, 7, 3], 1) as tf.Tensor4D, [9, 4]), {
    ...EXACT,
    expectNative: ['ResizeNearestNeighbor'],
  });
});

/** The gradient of op at x for dy, computed one image at a time and stacked back into a batch. */
function perImage(op: (v: tf.Tensor) => tf.Tensor, x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor {
  const parts = Array.from({ length: x.shape[0] }, (_, b) =>
    tf.grad(op)(tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]), tf.slice(dy, [b, 0, 0, 0], [1, -1, -1, -1])),
  );
  return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
}

test('ResizeBilinearGrad and ResizeNearestNeighborGrad via tf.grad', async () => {
  // Square images: the CPU kernel of ResizeBilinearGrad labels dx [batch, W, H, C] (TF.js bug), so
  // tf.grad on the cpu backend throws for non-square images; the direct test below covers those.
  const cases: [number[], [number, number]][] = [
    [
      [1, 5, 5, 3],
      [9, 13],
    ],
    [
      [3, 9, 9, 16],
      [4, 6],
    ],
    [
      [2, 6, 6, 1],
      [12, 12],
    ],
    [
      [2, 16, 16, 16],
      [32, 32],
    ],
  ];
  for (const [i, [shape, size]] of cases.entries()) {
    for (const [align, half] of RESIZE_FLAGS) {
      const label = `${shape} -> ${size} align ${align} half ${half}`;
      const x = () => randomTensor(shape, 60 + i) as tf.Tensor4D;
      const dy = () => randomTensor([shape[0], ...size, shape[3]], 70 + i) as tf.Tensor4D;
      const bilinear = (v: tf.Tensor) => tf.image.resizeBilinear(v as tf.Tensor4D, size, align, half);
      const nearest = (v: tf.Tensor) => tf.image.resizeNearestNeighbor(v as tf.Tensor4D, size, align, half);
      await expectSameOnBackends(`bilinear grad ${label}`, () => tf.grad(bilinear)(x(), dy()), { tol: 1e-5, expectNative: ['ResizeBilinearGrad'] });
      // The CPU kernel of ResizeNearestNeighborGrad reads dy at the images' batch stride (TF.js bug),
      // so it is only right for batch 1: compare image by image, then check the whole batch natively.
      await expectSameOnBackends(`nearest grad ${label}`, () => perImage(nearest, x(), dy()), { tol: 1e-6, expectNative: ['ResizeNearestNeighborGrad'] });
      await tf.setBackend('native');
      const [whole, split] = tf.tidy(() => [tf.grad(nearest)(x(), dy()), perImage(nearest, x(), dy())]);
      assert.deepEqual(whole.dataSync(), split.dataSync(), `nearest grad ${label}: whole batch vs image by image`);
      tf.dispose([whole, split]);
    }
  }
  for (const align of [false, true]) {
    await expectSameOnBackends(
      `bilinear grad non-square align ${align}`,
      () => {
        const images = randomTensor([2, 5, 8, 3], 80);
        const dy = randomTensor([2, 11, 6, 3], 81);
        const dx = tf.engine().runKernel(tf.ResizeBilinearGrad, { images, dy }, { alignCorners: align }) as tf.Tensor;
        return tf.reshape(dx, images.shape);
      },
      { tol: 1e-5, expectNative: ['ResizeBilinearGrad'] },
    );
  }
});

test('Concat gradient runs SplitV natively; the native grad of a non-square resize has the images shape', async () => {
  await expectSameOnBackends(
    'concat grad',
    () => {
      const a = randomTensor([3, 6, 8, 16], 1);
      const b = randomTensor([3, 6, 8, 8], 2);
      const dy = randomTensor([3, 6, 8, 24], 3);
      return tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.concat([u, v], 3))([a, b], dy);
    },
    { ...EXACT, expectNative: ['SplitV'] },
  );
  await tf.setBackend('native');
  const dx = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [10, 6]))(tf.ones([1, 5, 3, 2])));
  assert.deepEqual(dx.shape, [1, 5, 3, 2]);
  // Every output pixel spreads a total weight of 1 over the input.
  assert.ok(Math.abs((tf.sum(dx).arraySync() as number) - 10 * 6 * 2) < 1e-3);
  dx.dispose();
});
