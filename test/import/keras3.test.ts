// Keras 3 U-Nets from .h5 and .keras: converted with every weight mapped, the forward pass equal to an
// independent NumPy forward of the original (sigmoid included) to 1e-5, the blocks inferred, the head mode
// recorded; and the refusals (Lambda, a class TF.js lacks, no skips) naming the layer and its class.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';

import { loadModelFolder } from '../../src/model/folder.js';
import { importModel } from '../../src/model/import/import.js';
import { UserError } from '../../src/util/errors.js';
import { cli } from '../data/cli-run.js';
import { depth1UNet, randomWeights, writeKeras3Archive, writeKeras3H5, type KerasLayerSpec } from './keras3_files.js';

const REFERENCE = join(process.cwd(), 'test', 'import', 'keras_reference.py');
let dir: string;

before(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  await h5wasm.ready;
  dir = mkdtempSync(join(tmpdir(), 'unet-keras3-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The first Python on PATH (or the system's) that has NumPy, for the reference forward pass. */
const PYTHON = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0) ?? null;

function numpyAvailable(): boolean {
  return PYTHON !== null;
}

/** The NumPy forward of the Keras layers on `input`. */
function numpyForward(
  layers: KerasLayerSpec[],
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  input: { shape: number[]; data: Float32Array },
): Float32Array {
  const spec = {
    layers: layers.map((l) => ({ name: l.name, cls: l.cls, config: l.config, inbound: l.inbound })),
    weights: Object.fromEntries([...weights].map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }])),
    input: { shape: input.shape, data: Array.from(input.data) },
  };
  const r = spawnSync(PYTHON!, [REFERENCE], { input: JSON.stringify(spec), maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return Float32Array.from((JSON.parse(r.stdout.toString()) as { data: number[] }).data);
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error).stack}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

const layers = depth1UNet();
const weights = randomWeights(layers);
const input = { shape: [2, 16, 16, 1], data: Float32Array.from({ length: 2 * 16 * 16 }, (_, i) => Math.sin(i * 0.37) * 0.8 + 0.2) };

for (const kind of ['h5', 'keras', 'keras-named', 'keras2-h5', 'keras-bilinear'] as const) {
  const h5 = kind === 'h5' || kind === 'keras2-h5';
  const what =
    kind === 'keras2-h5'
      ? 'A tf.keras 2 depth-1 U-Net (.h5, weights named kernel:0)'
      : `A Keras 3 depth-1 U-Net (.${h5 ? 'h5' : 'keras'}${kind === 'keras-named' ? ', vars groups with owner names' : kind === 'keras-bilinear' ? ', bilinear UpSampling2D' : ''})`;
  const layers = depth1UNet({ bilinear: kind === 'keras-bilinear' });
  test(`${what} imports with every weight mapped and the NumPy forward to 1e-5`, async (t) => {
    const file = join(dir, `unet-${kind}.${h5 ? 'h5' : 'keras'}`);
    if (h5) writeKeras3H5(file, layers, weights, { keras2: kind === 'keras2-h5' });
    else writeKeras3Archive(file, join(dir, `tmp-${kind}.h5`), layers, weights, { withOwnerNames: kind === 'keras-named' });
    const out = join(dir, `model-${kind}`);
    const r = await importModel({ file, out });
    assert.equal(r.mapping, 'keras-config');
    assert.equal(r.format, h5 ? 'keras-h5' : 'keras-archive');
    assert.equal(r.headMode, 'binary');
    assert.equal(r.missed.length, 0);
    assert.equal(r.mapped.length, weights.size, 'every weight mapped');
    assert.deepEqual(new Set(r.mapped.map((m) => m.target)), new Set(weights.keys()));
    if (kind === 'keras2-h5')
      assert.ok(
        r.mapped.every((m) => m.source === m.target),
        'conv2d/kernel:0 is read as conv2d/kernel',
      );
    assert.deepEqual(r.options, { arch: 'adopted', depth: 1, filters: 4, classes: 1, input: [16, 16, 1] });

    const folder = await loadModelFolder(out);
    try {
      assert.equal(folder.headMode, 'binary');
      assert.deepEqual(
        folder.classes.map((c) => c.name),
        ['background', 'class1'],
      );
      const unetJson = JSON.parse(readFileSync(join(out, 'unet.json'), 'utf8')) as { headMode: string };
      assert.equal(unetJson.headMode, 'binary');
      // Blocks inferred as adopt does: the 2x2 up-conv and the skip concatenation in dec1, the 1x1 conv the head.
      const blockOf = (n: string) => folder.layerMap.layer(n)?.block;
      assert.deepEqual(['conv2d', 'conv2d_1', 'max_pooling2d'].map(blockOf), ['enc1', 'enc1', 'enc1']);
      assert.deepEqual(['conv2d_2', 'batch_normalization', 're_lu', 'conv2d_3', 'dropout'].map(blockOf), Array(5).fill('bottleneck'));
      assert.deepEqual(['up_sampling2d', 'conv2d_4', 'concatenate', 'conv2d_5', 'conv2d_6'].map(blockOf), Array(5).fill('dec1'));
      assert.equal(blockOf('conv2d_7'), 'head');
      for (const [name, w] of weights) {
        const [layer, v] = name.split('/');
        const got = folder.model.getLayer(layer!).weights.find((x) => x.originalName === `${layer}/${v}`);
        assert.ok(got, name);
        assert.deepEqual(got.read().dataSync(), w.data, name);
      }
      if (!numpyAvailable()) {
        t.skip('no python3 with numpy (on PATH or /usr/bin) for the reference forward pass');
        return;
      }
      const expected = numpyForward(layers, weights, input);
      const before = tf.memory().numTensors;
      const probs = tf.tidy(() => tf.sigmoid(folder.model.predict(tf.tensor4d(input.data, input.shape as [number, number, number, number])) as tf.Tensor));
      const got = probs.dataSync() as Float32Array;
      probs.dispose();
      assert.equal(tf.memory().numTensors, before);
      assert.equal(got.length, expected.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      assert.ok(worst <= 1e-5, `largest difference from the NumPy forward: ${worst}`);
      assert.ok(Math.max(...expected) - Math.min(...expected) > 0.05, 'the reference output is not constant');
    } finally {
      folder.model.dispose();
    }
  });
}

test('a Keras 3 softmax head over 3 classes imports as multiclass', async () => {
  const l = depth1UNet({ head: 'softmax', classes: 3 });
  const file = join(dir, 'softmax.keras');
  writeKeras3Archive(file, join(dir, 'tmp-softmax.h5'), l, randomWeights(l));
  const r = await importModel({ file, out: join(dir, 'softmax') });
  assert.equal(r.headMode, 'multiclass');
  assert.equal(r.options.classes, 3);
  const multi = await importModel({ file, out: join(dir, 'softmax-ml'), headMode: 'multilabel' });
  assert.equal(multi.headMode, 'multilabel');
});

test('Lambda, a class TF.js lacks and a network without skips are refused by name and class', async () => {
  const cases: Array<[string, KerasLayerSpec[], RegExp]> = [
    [
      'lambda',
      depth1UNet({
        extra: {
          name: 'scale_by_two',
          cls: 'Lambda',
          config: { name: 'scale_by_two', function: { class_name: '__lambda__', config: { code: '4wEAAAAA', defaults: null, closure: null } } },
          inbound: [],
          vars: [],
        },
      }),
      /scale_by_two \(Lambda\).*never run/,
    ],
    [
      'unknown',
      depth1UNet({
        extra: {
          name: 'group_norm',
          cls: 'GroupNormalization',
          config: { name: 'group_norm', groups: 2 },
          inbound: [],
          vars: [
            { name: 'gamma', shape: [4] },
            { name: 'beta', shape: [4] },
          ],
        },
      }),
      /layer group_norm \(GroupNormalization\): not a layer class unet-transfer converts/,
    ],
    ['noskip', depth1UNet({ noSkip: true }), /encoder-decoder without skip connections/],
  ];
  for (const [name, l, pattern] of cases) {
    const w = randomWeights(l);
    const h5 = join(dir, `${name}.h5`);
    writeKeras3H5(h5, l, w);
    // The Lambda is refused by the reader unless allowed, and by the converter even then.
    await rejectsWith(importModel({ file: h5, out: join(dir, `${name}-h5`), allowLambda: true }), pattern);
    const keras = join(dir, `${name}.keras`);
    writeKeras3Archive(keras, join(dir, `tmp-${name}.h5`), l, w);
    await rejectsWith(importModel({ file: keras, out: join(dir, `${name}-keras`), allowLambda: true }), pattern);
    // The command line: exit 1, the message on one line, no stack trace.
    const r = cli('model', 'import', keras, '--out', join(dir, `${name}-cli`));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, name === 'lambda' ? /Lambda layer \(scale_by_two\).*never run.*--allow-lambda/ : pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a weight of the wrong shape is refused before the model is built, naming both sides', async () => {
  const w = randomWeights(layers);
  w.set('conv2d_4/kernel', { shape: [3, 3, 8, 4], data: new Float32Array(3 * 3 * 8 * 4) });
  const file = join(dir, 'badshape.h5');
  writeKeras3H5(file, layers, w);
  await rejectsWith(importModel({ file, out: join(dir, 'badshape') }), /conv2d_4\/kernel has shape \[3, 3, 8, 4\].*conv2d_4 \(Conv2D\).*kernel \[2, 2, 8, 4\]/);
});
