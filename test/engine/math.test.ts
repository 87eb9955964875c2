// The math family beyond the unary kernels: native vs cpu for binary ops with every broadcasting
// pattern U-Net training uses, int32 and bool kernels, Select, Cast, fills, activations, AddN,
// FusedBatchNorm, and the gradients that run through them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers TF.js's gradients (tfjs-core alone has none)

import { profiler } from '../../src/engine/index.js';

import { expectSameOnBackends, randomTensor, randomValues, runOn } from './harness.js';

/** Deterministic integers in [lo, hi). */
function randomInts(shape: number[], seed: number, lo: number, hi: number): tf.Tensor {
  const v = randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  );
  return tf.tensor(Int32Array.from(v, Math.floor), shape, 'int32');
}

function randomBools(shape: number[], seed: number): tf.Tensor {
  return tf.greater(randomTensor(shape, seed), 0);
}

/** Asserts bit-for-bit equal outputs (NaN equals NaN, infinities compared exactly) on both backends. */
async function expectExact(label: string, fn: () => tf.Tensor | tf.Tensor[], expectNative: string[] = []): Promise<void> {
  const cpu = await runOn('cpu', fn);
  const native = await runOn('native', fn);
  native.outputs.forEach((o, i) => {
    const ref = cpu.outputs[i];
    assert.deepEqual(o.shape, ref.shape, `${label}: output ${i} shape`);
    assert.equal(o.dtype, ref.dtype, `${label}: output ${i} dtype`);
    const bad = Array.from(ref.values).findIndex((r, k) => !(r === o.values[k] || (Number.isNaN(r) && Number.isNaN(o.values[k]))));
    assert.equal(bad, -1, `${label}: output ${i} element ${bad}: native ${o.values[bad]}, cpu ${ref.values[bad]}`);
  });
  for (const k of expectNative) {
    const ran = native.kernels.filter((r) => r.kernel === k);
    assert.ok(ran.length > 0 && ran.every((r) => r.native), `${label}: kernel ${k} did not run natively`);
  }
}

// [a shape, b shape]: every broadcast U-Net training and TF.js optimizers produce, both orders of
// the asymmetric ones, a doubly broadcast general case, and one case per fast path that crosses
// the OpenMP threshold (the last with rows that do not divide evenly among the threads).
const PATTERNS: [number[], number[]][] = [
  [
    [2, 5, 3, 16],
    [2, 5, 3, 16],
  ], // same shape
  [[2, 5, 3, 16], [16]], // bias [C] on [N,H,W,C]
  [[16], [2, 5, 3, 16]],
  [
    [2, 5, 3, 16],
    [1, 1, 1, 16],
  ],
  [[2, 5, 3, 16], []], // scalar on either side
  [[], [2, 5, 3, 16]],
  [
    [2, 5, 3, 16],
    [2, 5, 3, 1],
  ], // per-pixel value over channels
  [
    [5, 3],
    [2, 5, 3],
  ], // [H,W] vs [N,H,W]
  [[7], []], // rank-1 vs scalar
  [[], []],
  [
    [2, 1, 3, 1],
    [1, 5, 1, 4],
  ], // both operands broadcast
  [
    [3, 1, 2, 1, 2, 3],
    [1, 2, 1, 2, 1, 3],
  ], // rank 6
];
const BIG = [2, 32, 32, 17]; // 34816 elements, just over the threshold, with an odd channel count
const BIG_PATTERNS: [number[], number[]][] = [
  [BIG, BIG],
  [BIG, [17]],
  [[1], BIG],
  [
    [3, 97, 113],
    [97, 1],
  ],
];

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
// [kernel, op, a range, b range]: ranges keep divisors away from 0 and Pow's base positive.
const FLOAT_OPS: [string, Binary, [number, number], [number, number]][] = [
  ['Add', tf.add, [-2, 2], [-2, 2]],
  ['Sub', tf.sub, [-2, 2], [-2, 2]],
  ['Multiply', tf.mul, [-2, 2], [-2, 2]],
  ['RealDiv', tf.div, [-2, 2], [0.25, 2]],
  ['Maximum', tf.maximum, [-2, 2], [-2, 2]],
  ['Minimum', tf.minimum, [-2, 2], [-2, 2]],
  ['SquaredDifference', tf.squaredDifference, [-2, 2], [-2, 2]],
  ['Pow', tf.pow, [0.1, 3], [-2, 2]],
  ['FloorDiv', tf.floorDiv, [-20, 20], [0.5, 3]],
  ['Prelu', (x, a) => tf.prelu(x, a), [-2, 2], [0, 1]],
];

for (const [kernel, op, [alo, ahi], [blo, bhi]] of FLOAT_OPS) {
  test(`${kernel} float32 matches cpu on every broadcasting pattern`, async () => {
    const patterns = kernel === 'Add' || kernel === 'Multiply' || kernel === 'SquaredDifference' ? [...PATTERNS, ...BIG_PATTERNS] : PATTERNS;
    for (const [i, [as, bs]] of patterns.entries()) {
      // Prelu's alpha broadcasts onto x, never the other way round.
      if (kernel === 'Prelu' && as.length < bs.length) continue;
      await expectSameOnBackends(
        `${kernel} ${JSON.stringify(as)} ${JSON.stringify(bs)}`,
        () => op(randomTensor(as, 11 + i, alo, ahi), randomTensor(bs, 41 + i, blo, bhi)),
        {
          expectNative: [kernel],
        },
      );
    }
  });
}

test('float32 special values: NaN in Maximum/Minimum, Pow of negatives and of +-1, FloorDiv by 0', async () => {
  const a = [NaN, 1, -2, -8, -1, 1, 0, 2, -7, 7, 1e30, -0.5];
  const b = [1, NaN, 3, 1 / 3, Infinity, -Infinity, -1, 0, 2, -2, 1e-30, 0.5];
  for (const [kernel, op] of [
    ['Maximum', tf.maximum],
    ['Minimum', tf.minimum],
    ['Pow', tf.pow],
    ['FloorDiv', tf.floorDiv],
    ['RealDiv', tf.div],
    ['SquaredDifference', tf.squaredDifference],
  ] as [string, Binary][]) {
    await expectExact(`${kernel} specials`, () => op(tf.tensor(a), tf.tensor(b)), [kernel]);
  }
});

test('int32 Add/Sub/Multiply/Maximum/Minimum/FloorDiv match cpu, including wrap-around', async () => {
  const ops: [string, Binary][] = [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['Maximum', tf.maximum],
    ['Minimum', tf.minimum],
    ['FloorDiv', tf.floorDiv],
  ];
  for (const [kernel, op] of ops) {
    for (const [i, [as, bs]] of [...PATTERNS, [[64, 32, 17], [17]] as [number[], number[]]].entries()) {
      await expectExact(`${kernel} int32 ${JSON.stringify(as)} ${JSON.stringify(bs)}`, () => op(randomInts(as, 3 + i, -50, 50), randomInts(bs, 5 + i, 1, 9)), [
        kernel,
      ]);
    }
    // Extremes: overflow wraps like an Int32Array store, x / 0 is 0, INT_MIN / -1 wraps.
    const big = [2147483647, -2147483648, 123456789, -7, 7, 0, 65536, -2147483648];
    const other = [1, -1, 987654321, 2, -2, 0, 65536, 0];
    await expectExact(`${kernel} int32 extremes`, () => op(tf.tensor(big, [8], 'int32'), tf.tensor(other, [8], 'int32')), [kernel]);
  }
  // Division of int32 tensors is FloorDiv in TF.js; RealDiv on int32 goes to the cpu kernel.
  await expectExact('div int32', () => tf.div(tf.tensor([7, -7, 9], [3], 'int32'), tf.tensor([2, 2, 0], [3], 'int32')), ['FloorDiv']);
});

test('comparisons give bool on float32 (with NaN) and int32, with broadcasting', async () => {
  const ops: [string, Binary][] = [
    ['Equal', tf.equal],
    ['NotEqual', tf.notEqual],
    ['Greater', tf.greater],
    ['GreaterEqual', tf.greaterEqual],
    ['Less', tf.less],
    ['LessEqual', tf.lessEqual],
  ];
  // Rounded values so that ties (equal elements) actually occur.
  const rounded = (shape: number[], seed: number) => tf.round(randomTensor(shape, seed, -2, 2));
  for (const [kernel, op] of ops) {
    for (const [i, [as, bs]] of PATTERNS.entries()) {
      await expectExact(`${kernel} f32 ${JSON.stringify(as)} ${JSON.stringify(bs)}`, () => op(rounded(as, 7 + i), rounded(bs, 9 + i)), [kernel]);
      await expectExact(`${kernel} i32 ${JSON.stringify(as)} ${JSON.stringify(bs)}`, () => op(randomInts(as, 7 + i, -3, 3), randomInts(bs, 9 + i, -3, 3)), [
        kernel,
      ]);
    }
    await expectExact(`${kernel} NaN`, () => op(tf.tensor([NaN, 1, NaN, -Infinity]), tf.tensor([NaN, NaN, 0, -Infinity])), [kernel]);
    await expectExact(`${kernel} big`, () => op(rounded(BIG, 1), rounded([17], 2)), [kernel]);
  }
});

test('LogicalAnd/LogicalOr/LogicalNot and IsNan', async () => {
  for (const [kernel, op] of [
    ['LogicalAnd', tf.logicalAnd],
    ['LogicalOr', tf.logicalOr],
  ] as [string, Binary][]) {
    for (const [i, [as, bs]] of [...PATTERNS, BIG_PATTERNS[1]].entries()) {
      await expectExact(`${kernel} ${JSON.stringify(as)} ${JSON.stringify(bs)}`, () => op(randomBools(as, 21 + i), randomBools(bs, 23 + i)), [kernel]);
    }
  }
  await expectExact('LogicalNot', () => tf.logicalNot(randomBools(BIG, 5)), ['LogicalNot']);
  await expectExact('IsNan', () => tf.isNaN(tf.div(randomTensor([3, 40], 6), tf.round(randomTensor([3, 40], 8)))), ['IsNan']);
});

test('Select: float32, int32 and bool values, broadcast condition through tf.where', async () => {
  const t = (shape: number[], dtype: string, seed: number): tf.Tensor =>
    dtype === 'bool' ? randomBools(shape, seed) : dtype === 'int32' ? randomInts(shape, seed, -9, 9) : randomTensor(shape, seed);
  for (const dtype of ['float32', 'int32', 'bool']) {
    for (const [cs, s] of [
      [
        [2, 5, 3, 16],
        [2, 5, 3, 16],
      ],
      [[16], [2, 5, 3, 16]], // tf.where broadcasts the condition before the kernel
      [BIG, BIG],
      [[], [3]],
    ] as [number[], number[]][]) {
      await expectExact(`Select ${dtype} ${JSON.stringify(cs)}`, () => tf.where(randomBools(cs, 1), t(s, dtype, 2), t(s, dtype, 3)), ['Select']);
    }
  }
});

test('Select with a rank-1 condition over the first axis picks whole rows (TF semantics)', async () => {
  await tf.setBackend('native');
  tf.tidy(() => {
    const condition = tf.tensor([1, 0, 1], [3], 'bool');
    const t = randomTensor([3, 4, 5], 1);
    const e = randomTensor([3, 4, 5], 2);
    const { result, kernels } = profiler.capture(() => tf.engine().runKernel(tf.Select, { condition, t, e }) as tf.Tensor);
    assert.ok(kernels.some((k) => k.kernel === 'Select' && k.native));
    const expected = tf.where(tf.broadcastTo(tf.reshape(condition, [3, 1, 1]), [3, 4, 5]), t, e);
    assert.deepEqual(Array.from(result.dataSync()), Array.from(expected.dataSync()));
  });
});

test('Cast between float32, int32 and bool matches cpu', async () => {
  const floats = [0, -0.5, 0.5, -1.5, 2.7, NaN, Infinity, -Infinity, 3e9, -3e9, 2147483647.5, 1e20];
  for (const to of ['int32', 'bool'] as tf.DataType[]) {
    await expectExact(`Cast float32 -> ${to}`, () => tf.cast(tf.tensor(floats), to), ['Cast']);
    await expectExact(`Cast float32 -> ${to} big`, () => tf.cast(randomTensor(BIG, 3, -100, 100), to), ['Cast']);
  }
  for (const to of ['float32', 'bool'] as tf.DataType[]) {
    await expectExact(`Cast int32 -> ${to}`, () => tf.cast(randomInts([5, 7], 4, -3, 3), to), ['Cast']);
  }
  for (const to of ['float32', 'int32'] as tf.DataType[]) {
    await expectExact(`Cast bool -> ${to}`, () => tf.cast(randomBools([5, 7], 4), to), ['Cast']);
  }
});

test('a widening Cast writes a buffer of the target kind, so the next kernel stays native', async () => {
  await tf.setBackend('native');
  const backend = tf.backend() as unknown as { data: { get(id: object): { values: unknown } } };
  tf.tidy(() => {
    const x = tf.cast(tf.tensor([1, 2, 3], [3], 'int32'), 'float32');
    assert.ok(backend.data.get(x.dataId).values instanceof Float32Array);
    const { kernels } = profiler.capture(() => tf.add(x, x));
    assert.ok(kernels.some((k) => k.kernel === 'Add' && k.native));
  });
});

test('a float32 tensor stored in an Int32Array (a CPU-backend cast) falls back to the cpu kernel', async () => {
  await tf.setBackend('cpu');
  const shared = tf.cast(tf.tensor([1, 2, 3], [3], 'int32'), 'float32'); // shares the Int32Array
  await tf.setBackend('native'); // moves the tensor with its Int32Array storage
  tf.tidy(() => {
    const { result, kernels } = profiler.capture(() => tf.mul(shared, tf.scalar(2)));
    assert.deepEqual(Array.from(result.dataSync()), [2, 4, 6]);
    assert.ok(kernels.some((k) => k.kernel === 'Multiply' && !k.native));
  });
  shared.dispose();
});

test('Fill, ZerosLike and OnesLike for float32, int32 and bool', async () => {
  await expectExact('Fill float32', () => tf.fill(BIG, 2.5), ['Fill']);
  await expectExact('Fill int32', () => tf.fill([3, 5], 7, 'int32'), ['Fill']);
  await expectExact('Fill float32 0.1', () => tf.fill([3], 0.1, 'float32'), ['Fill']);
  for (const [dtype, make] of [
    ['float32', (s: number[]) => randomTensor(s, 1)],
    ['int32', (s: number[]) => randomInts(s, 1, -5, 5)],
    ['bool', (s: number[]) => randomBools(s, 1)],
  ] as [string, (s: number[]) => tf.Tensor][]) {
    await expectExact(`ZerosLike ${dtype}`, () => tf.zerosLike(make(BIG)), ['ZerosLike']);
    await expectExact(`OnesLike ${dtype}`, () => tf.onesLike(make(BIG)), ['OnesLike']);
  }
});

test('ClipByValue, LeakyRelu, Elu and EluGrad match cpu', async () => {
  for (const shape of [[7], BIG]) {
    await expectExact(`ClipByValue ${shape}`, () => tf.clipByValue(randomTensor(shape, 1, -2, 2), -0.3, 0.7), ['ClipByValue']);
    await expectSameOnBackends(`LeakyRelu ${shape}`, () => tf.leakyRelu(randomTensor(shape, 2, -2, 2), 0.2), { expectNative: ['LeakyRelu'] });
    await expectSameOnBackends(`Elu ${shape}`, () => tf.elu(randomTensor(shape, 3, -3, 3)), { expectNative: ['Elu'] });
    await expectSameOnBackends(`EluGrad ${shape}`, () => tf.grad((x: tf.Tensor) => tf.elu(x))(randomTensor(shape, 4, -3, 3)), { expectNative: ['EluGrad'] });
  }
  await expectExact('ClipByValue NaN', () => tf.clipByValue(tf.tensor([NaN, -5, 5, 0.1]), -1, 0.1), ['ClipByValue']);
});

test('AddN sums float32 and int32 tensors', async () => {
  for (const shape of [[3, 5], BIG]) {
    await expectExact(`AddN float32 ${shape}`, () => tf.addN([0, 1, 2, 3].map((s) => randomTensor(shape, s))), ['AddN']);
    await expectExact(`AddN int32 ${shape}`, () => tf.addN([0, 1, 2].map((s) => randomInts(shape, s, -1e9, 1e9))), ['AddN']);
  }
});

test('FusedBatchNorm with and without offset/scale, [C], [1,1,1,C] and full-shape parameters', async () => {
  const C = 8;
  const cases: [string, number[], number[], boolean][] = [
    ['[C]', [2, 5, 3, C], [C], true],
    ['[C] no offset/scale', [2, 5, 3, C], [C], false],
    ['[1,1,1,C]', [2, 5, 3, C], [1, 1, 1, C], true],
    ['full shape', [2, 5, 3, C], [2, 5, 3, C], true],
    ['rank-2 x', [6, C], [C], true],
    ['big [C]', [2, 48, 64, C], [C], true],
    ['big full shape', [1, 64, 64, 16], [1, 64, 64, 16], true],
  ];
  for (const [label, xs, ps, affine] of cases) {
    await expectSameOnBackends(
      `FusedBatchNorm ${label}`,
      () =>
        tf.batchNorm(
          randomTensor(xs, 1, -3, 3),
          randomTensor(ps, 2),
          randomTensor(ps, 3, 0.1, 2),
          affine ? randomTensor(ps, 4) : undefined,
          affine ? randomTensor(ps, 5, 0.5, 1.5) : undefined,
          1e-3,
        ),
      { expectNative: ['FusedBatchNorm'] },
    );
  }
  // Only offset, only scale, and a parameter length that does not divide the others (cpu kernel).
  await expectSameOnBackends(
    'FusedBatchNorm offset only',
    () => tf.batchNorm(randomTensor([2, 3, C], 1), randomTensor([C], 2), randomTensor([C], 3, 0.1, 2), randomTensor([C], 4)),
    {
      expectNative: ['FusedBatchNorm'],
    },
  );
  await expectSameOnBackends(
    'FusedBatchNorm scale only',
    () => tf.batchNorm(randomTensor([2, 3, C], 1), randomTensor([C], 2), randomTensor([C], 3, 0.1, 2), undefined, randomTensor([C], 4)),
    {
      expectNative: ['FusedBatchNorm'],
    },
  );
  await expectSameOnBackends('FusedBatchNorm odd lengths', () =>
    tf.batchNorm(randomTensor([2, 3, 12], 1), randomTensor([3], 2), randomTensor([12], 3, 0.1, 2)),
  );
});

test('gradients of x*y, x/y, maximum, squaredDifference and batchNorm', async () => {
  const x = () => randomTensor([2, 5, 3, 16], 1, -2, 2);
  const c = () => randomTensor([16], 2, 0.5, 2);
  // TF.js's Maximum and SquaredDifference gradients do not reduce a broadcast operand: full shapes.
  const full = () => randomTensor([2, 5, 3, 16], 3, -2, 2);
  const cases: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, () => tf.Tensor, string[]][] = [
    ['x*y', tf.mul, c, ['Multiply']],
    ['x/y', tf.div, c, ['RealDiv', 'Multiply']],
    ['maximum', tf.maximum, full, ['Maximum', 'GreaterEqual', 'Multiply']],
    ['squaredDifference', tf.squaredDifference, full, ['SquaredDifference', 'Sub', 'Multiply']],
  ];
  for (const [label, op, y, kernels] of cases) {
    await expectSameOnBackends(
      `grad ${label}`,
      () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), randomTensor([2, 5, 3, 16], 9))))([x(), y()]),
      {
        expectNative: kernels,
      },
    );
  }
  await expectSameOnBackends(
    'grad batchNorm',
    () =>
      tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), randomTensor([2, 5, 3, 16], 9))),
      )([x(), randomTensor([16], 3), randomTensor([16], 4, 0.1, 2), randomTensor([16], 5), c()]),
    { expectNative: ['FusedBatchNorm'] },
  );
});
