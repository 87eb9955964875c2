// bf16 mixed-precision convolutions (native/src/conv, src/engine/precision.ts): each bf16 kernel against the
// fp32 kernel on the same random inputs. They run only where the CPU has bf16 units that oneDNN uses, and are
// skipped with the reason elsewhere; the precision option's error paths run everywhere.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import {
  convPrecisionCounts,
  cpuCapabilities,
  convImplementations,
  convPhaseTimes,
  parsePrecision,
  resolvePrecision,
  withPrecision,
  type Precision,
} from '../../src/engine/index.js';
import { convBiasRelu } from '../../src/engine/ops/conv_bias_relu.js';
import { OptionError } from '../../src/util/errors.js';
import { maxRelativeError, randomTensor } from './harness.js';

const caps = cpuCapabilities();
const skip = caps.bf16 ? false : `no AVX512-BF16/AMX on this CPU: ${caps.bf16Unavailable}`;
// bf16 keeps 8 significant bits (relative rounding 2^-9 per input); sums of products of random signs stay well inside 1e-2.
const TOL = 1e-2;

type Pad = 'same' | 'valid';
interface Case {
  x: number[];
  w: number[];
  strides: [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 12, 16, 16], w: [3, 3, 16, 32], strides: [1, 1], pad: 'same' },
  { x: [2, 8, 8, 32], w: [1, 1, 32, 24], strides: [1, 1], pad: 'same' },
  { x: [2, 12, 16, 16], w: [3, 3, 16, 32], strides: [2, 2], pad: 'same' },
  { x: [1, 9, 11, 3], w: [3, 3, 3, 16], strides: [1, 1], pad: 'valid' }, // 3 input channels, like an image
  { x: [2, 24, 32, 32], w: [3, 3, 32, 64], strides: [1, 1], pad: 'same' },
  // an odd batch: on 2 threads bf16 backward-weights splits it into shares of 2 and 1 images (backward_weights.cc)
  { x: [3, 10, 12, 16], w: [3, 3, 16, 16], strides: [1, 1], pad: 'same' },
];

/** Runs fn on native with the given precision; returns its outputs' values and how many conv calls ran in bf16. */
async function runIn(precision: Precision, fn: () => tf.Tensor[]): Promise<{ values: Float32Array[]; bf16Calls: number }> {
  await tf.setBackend('native');
  return withPrecision(precision, () => {
    const before = convPrecisionCounts.bf16;
    const outs = tf.tidy(fn);
    const values = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return { values, bf16Calls: convPrecisionCounts.bf16 - before };
  });
}

/** fp32Outputs: outputs that do not go through a convolution and must come out exactly as in fp32. */
async function compare(label: string, fn: () => tf.Tensor[], expectBf16Calls: number, fp32Outputs: number[] = []): Promise<void> {
  const tensorsBefore = tf.memory().numTensors;
  const ref = await runIn('fp32', fn);
  const got = await runIn('bf16', fn);
  assert.equal(ref.bf16Calls, 0, `${label}: fp32 ran a bf16 convolution`);
  assert.equal(got.bf16Calls, expectBf16Calls, `${label}: convolutions that ran in bf16`);
  got.values.forEach((v, i) => {
    if (fp32Outputs.includes(i)) {
      assert.deepEqual(v, ref.values[i], `${label}: output ${i} should be computed in fp32`);
      return;
    }
    const err = maxRelativeError(v, ref.values[i]);
    assert.ok(err <= TOL, `${label}: output ${i} relative error ${err.toExponential(2)} > ${TOL}`);
    // bf16 inputs really were rounded: identical results would mean fp32 ran under a bf16 label.
    assert.ok(err > 0, `${label}: output ${i} identical to fp32`);
  });
  assert.equal(tf.memory().numTensors, tensorsBefore, `${label}: tensors leaked`);
}

for (const c of CASES) {
  const name = `${c.x} * ${c.w} ${c.pad}/${c.strides}`;
  const inputs = () => [randomTensor(c.x, 11) as tf.Tensor4D, randomTensor(c.w, 12) as tf.Tensor4D, randomTensor([c.w[3]], 13) as tf.Tensor1D] as const;
  // The output shape without running a convolution (which would count as one more bf16 call).
  const outShape = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.backend_util.computeConv2DInfo(x.shape, w.shape, c.strides, 1, c.pad).outShape;

  test(`bf16 Conv2D forward ${name} matches fp32`, { skip }, () =>
    compare(
      'forward',
      () => {
        const [x, w] = inputs();
        return [tf.conv2d(x, w, c.strides, c.pad)];
      },
      1,
    ),
  );

  test(`bf16 fused conv + bias + relu ${name} matches fp32`, { skip }, () =>
    compare(
      'conv+bias+relu',
      () => {
        const [x, w, b] = inputs();
        return [convBiasRelu(x, w, b, { strides: c.strides, pad: c.pad })];
      },
      1,
    ),
  );

  test(`bf16 Conv2DBackpropInput ${name} matches fp32`, { skip }, () =>
    compare(
      'backward-data',
      () => {
        const [x, w] = inputs();
        const dy = randomTensor(outShape(x, w), 14);
        const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dx];
      },
      1,
    ),
  );

  test(`bf16 Conv2DBackpropFilter ${name} matches fp32`, { skip }, () =>
    compare(
      'backward-weights',
      () => {
        const [x, w] = inputs();
        const dy = randomTensor(outShape(x, w), 14);
        const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          filterShape: w.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dw];
      },
      1,
    ),
  );
}

// Linear, not relu: with relu, pixels whose pre-activation is near 0 switch sides of the mask between fp32 and
// bf16, which changes dz there by the whole of dy: a difference of the network, not of the kernels.
test('bf16 gradients of the fused conv (dx, dw, dbias) through the tape match fp32', { skip }, () =>
  compare(
    'grads',
    () => {
      const x = randomTensor([2, 16, 16, 16], 21) as tf.Tensor4D;
      const w = randomTensor([3, 3, 16, 16], 22) as tf.Tensor4D;
      const b = randomTensor([16], 23) as tf.Tensor1D;
      const dy = randomTensor([2, 16, 16, 16], 24);
      const f = (a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.mul(convBiasRelu(a as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, { strides: [1, 1], pad: 'same', activation: 'linear' }), dy);
      return tf.grads(f)([x, w, b]);
    },
    3,
    [2],
  ),
); // dbias is a reduction, in fp32; 3 bf16 calls: forward, backward-data (dz converted once, shared with backward-weights), backward-weights

test('bf16 conv2dTranspose (stride 2, same) matches fp32', { skip }, () =>
  compare(
    'transposed',
    () => {
      const x = randomTensor([2, 6, 8, 32], 31) as tf.Tensor4D;
      const w = randomTensor([3, 3, 16, 32], 32) as tf.Tensor4D;
      return [tf.conv2dTranspose(x, w, [2, 12, 16, 16], [2, 2], 'same')];
    },
    1,
  ),
);

test('bf16 weight and activation caches follow the tensors: new weights or inputs of the same shape give new results', { skip }, async () => {
  // The same shapes twice with different values: a cache keyed by shape instead of identity would return the
  // first result for the second call.
  const xs = [randomTensor([2, 8, 8, 16], 41), randomTensor([2, 8, 8, 16], 42)] as tf.Tensor4D[];
  const ws = [randomTensor([3, 3, 16, 16], 43), randomTensor([3, 3, 16, 16], 44)] as tf.Tensor4D[];
  const pairs: [number, number][] = [
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 0],
    [0, 0],
  ];
  const run = async (precision: Precision) => {
    const out: Float32Array[] = [];
    await withPrecision(precision, () => {
      for (const [i, j] of pairs) {
        const y = tf.conv2d(xs[i], ws[j], 1, 'same');
        out.push(y.dataSync() as Float32Array);
        y.dispose();
      }
    });
    return out;
  };
  await tf.setBackend('native');
  const ref = await run('fp32');
  const got = await run('bf16');
  got.forEach((v, k) =>
    assert.ok(maxRelativeError(v, ref[k]) <= TOL, `call ${k} (x${pairs[k][0]}, w${pairs[k][1]}): relative error ${maxRelativeError(v, ref[k])}`),
  );
  // The repeated pair (first and last) gives the very same values: the cached bf16 weights are those weights.
  assert.deepEqual(got[4], got[0]);
  tf.dispose([...xs, ...ws]);
});

// On machines of at most 2 threads the bf16 weight gradient is computed per share of the batch and the shares
// added (backward_weights.cc); the shares must cover the batch exactly once and the sum must not depend on timing.
test('bf16 backward-weights repeats bitwise, and equals the sum of its two halves of the batch', { skip }, async () => {
  const x = randomTensor([8, 12, 16, 16], 61) as tf.Tensor4D;
  const dy = randomTensor([8, 12, 16, 32], 62) as tf.Tensor4D;
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 16, 32] };
  const dw = (a: tf.Tensor4D, b: tf.Tensor4D) =>
    tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: a, dy: b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const [whole, again, halves] = await runIn('bf16', () => {
    const [x0, x1] = tf.split(x, 2);
    const [dy0, dy1] = tf.split(dy, 2);
    return [dw(x, dy), dw(x, dy), tf.add(dw(x0 as tf.Tensor4D, dy0 as tf.Tensor4D), dw(x1 as tf.Tensor4D, dy1 as tf.Tensor4D))];
  }).then((r) => r.values);
  assert.deepEqual(again, whole);
  // the same bf16 products summed in another order: fp32 rounding only
  const err = maxRelativeError(halves, whole);
  assert.ok(err < 1e-4, `halves vs whole batch: relative error ${err.toExponential(2)}`);
  tf.dispose([x, dy]);
});

test('bf16 convolutions run oneDNN bf16 kernels, not its reference code', { skip }, async () => {
  await runIn('bf16', () => [tf.conv2d(randomTensor([1, 8, 8, 16], 51) as tf.Tensor4D, randomTensor([3, 3, 16, 16], 52) as tf.Tensor4D, 1, 'same')]);
  const bf16 = convImplementations().filter((i) => i.bf16);
  assert.ok(bf16.length > 0, 'no bf16 primitive was created');
  for (const i of bf16) assert.match(i.impl, /bf16|amx/, `${i.kernel} [${i.geometry}] ran ${i.impl}`);
});

test('cpuCapabilities reports the oneDNN ISA and whether bf16 convolutions can run', () => {
  assert.equal(typeof caps.onednnIsa, 'string');
  assert.equal(caps.bf16, caps.bf16Unavailable === undefined);
  if (caps.bf16) assert.ok(caps.avx512Bf16 || caps.amx);
  assert.equal(resolvePrecision('auto'), caps.bf16 ? 'bf16' : 'fp32');
  assert.equal(resolvePrecision('fp32'), 'fp32');
});

test('a precision other than fp32|bf16|auto is an error naming the option', () => {
  assert.equal(parsePrecision('bf16'), 'bf16');
  assert.throws(
    () => parsePrecision('fp16'),
    (e: unknown) => e instanceof OptionError && e.option === 'precision' && /^options\.precision must be one of fp32, bf16, auto, got "fp16"$/.test(e.message),
  );
  assert.throws(() => resolvePrecision('half' as never, 'bench.precision'), /options\.bench\.precision/);
});

test('bf16 on a CPU without bf16 units is an error that says so; auto then means fp32 (UNET_TRANSFER_CPU_NO_BF16=1)', () => {
  const precisionModule = fileURLToPath(new URL('../../src/engine/precision.js', import.meta.url));
  const script = `
    const p = await import(${JSON.stringify(precisionModule)});
    const out = { auto: p.resolvePrecision('auto'), caps: p.cpuCapabilities() };
    try { p.resolvePrecision('bf16'); out.error = null; } catch (e) { out.error = e.name + ': ' + e.message; }
    console.log(JSON.stringify(out));`;
  const env = { ...process.env, UNET_TRANSFER_CPU_NO_BF16: '1' };
  const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim().split('\n').pop()!);
  assert.equal(r.auto, 'fp32');
  assert.equal(r.caps.bf16, false);
  assert.match(r.error, /^OptionError: options\.precision: bf16 needs a CPU with AVX512-BF16 or AMX/);
  assert.match(r.error, /use fp32 or auto/);
});

// bench reports where the conv kernels' time goes (bench/train_step.ts): the counters must follow the calls.
async function phasesOfGrads(precision: Precision) {
  await tf.setBackend('native');
  // 16 channels: direct convolution in fp32 (Winograd, which copies activations too, starts at 32: winograd.test.ts)
  const x = randomTensor([2, 16, 16, 16], 71) as tf.Tensor4D;
  const w = randomTensor([3, 3, 16, 16], 72) as tf.Tensor4D;
  const f = (a: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'));
  const phases = await withPrecision(precision, () => {
    convPhaseTimes(true);
    tf.dispose(tf.grads(f)([x, w]));
    return convPhaseTimes(true);
  });
  tf.dispose([x, w]);
  return phases;
}

test('convPhaseTimes counts the primitives, weight layouts and gradient write-back; no activation copies in fp32 direct convolution', async () => {
  const fp32 = await phasesOfGrads('fp32');
  assert.ok(fp32.compute > 0 && fp32.weights > 0 && fp32.gradients > 0, JSON.stringify(fp32));
  assert.equal(fp32.activations, 0);
  assert.deepEqual(convPhaseTimes(), { compute: 0, activations: 0, weights: 0, gradients: 0 }, 'reset');
});

test('convPhaseTimes counts the bf16 activation copies', { skip }, async () => {
  const bf16 = await phasesOfGrads('bf16');
  assert.ok(bf16.compute > 0 && bf16.activations > 0, JSON.stringify(bf16));
});
