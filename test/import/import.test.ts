// End-to-end imports (the `model import` pipeline): a milesial/Pytorch-UNet checkpoint saved by PyTorch
// must give our bn U-Net the same outputs; a course-style Keras .h5 and a user mapping file must carry
// every weight over unchanged; hostile .h5 files (Lambda layers, non-HDF5, truncated) are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';

import { loadModelFolder } from '../../src/model/folder.js';
import { importModel } from '../../src/model/import/import.js';
import { readKerasH5 } from '../../src/model/import/keras_h5.js';
import { buildUNet } from '../../src/model/unet.js';
import { UserError } from '../../src/util/errors.js';
import { makeSafetensors } from './helpers.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'import');
let dir: string;

before(async () => {
  await tf.setBackend('cpu');
  await h5wasm.ready;
  dir = mkdtempSync(join(tmpdir(), 'unet-import-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error).stack}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('a milesial/Pytorch-UNet checkpoint (transposed up-sampling) imports into bn and matches PyTorch to 1e-4', async () => {
  const out = join(dir, 'milesial');
  const r = await importModel({ file: join(FIXTURES, 'milesial_f2_transpose.pth'), out, inputSize: [16, 16] });
  assert.equal(r.mapping, 'milesial');
  assert.deepEqual(
    [r.options.arch, r.options.depth, r.options.filters, r.options.classes, 'upsample' in r.options ? r.options.upsample : null],
    ['bn', 4, 2, 2, 'transpose'],
  );
  assert.deepEqual(r.options.input, [16, 16, 1]);
  assert.equal(r.missed.length, 0);
  assert.equal(r.mapped.length, 100);
  assert.equal(r.skipped.filter((s) => /num_batches_tracked/.test(s.name)).length, 18);
  assert.ok(r.skipped.some((s) => s.name === 'mask_values'));
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'milesial_f2_transpose.expected.json'), 'utf8'));
  const folder = await loadModelFolder(out);
  const before = tf.memory().numTensors;
  const y = tf.tidy(() => folder.model.predict(tf.tensor4d(expected.input_nhwc, expected.shape_in)) as tf.Tensor);
  const got = await y.data();
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected.output_nhwc[i]));
  assert.ok(maxDiff < 1e-4, `max |ours - torch| = ${maxDiff}`);
  assert.equal((folder.provenance.importedFrom as { mapping: string }).mapping, 'milesial');
  folder.model.dispose();
});

/** Largest |a - b| over two equally long arrays. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('a milesial/Pytorch-UNet checkpoint with bilinear up-sampling imports as upsample milesial-bilinear and matches PyTorch to 1e-4', async () => {
  // The fixture: bench/torch_import/make_fixture.py bilinear (nn.Upsample(align_corners=True), halved channels).
  const out = join(dir, 'milesial-bilinear');
  const r = await importModel({ file: join(FIXTURES, 'milesial_f2_bilinear.pth'), out, inputSize: [16, 16] });
  assert.equal(r.mapping, 'milesial');
  assert.deepEqual(
    [r.options.arch, r.options.depth, r.options.filters, r.options.classes, 'upsample' in r.options ? r.options.upsample : null],
    ['bn', 4, 2, 2, 'milesial-bilinear'],
  );
  assert.equal(r.missed.length, 0);
  assert.equal(r.mapped.length, 92); // 9 double convs x (2 kernels + 2 x 4 BatchNorm tensors) + outc's kernel and bias
  assert.equal(r.skipped.filter((s) => /num_batches_tracked/.test(s.name)).length, 18);
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'milesial_f2_bilinear.expected.json'), 'utf8'));
  const folder = await loadModelFolder(out);
  assert.equal(folder.layerMap.trainableParameters, expected.parameters);
  assert.equal(folder.model.getLayer('dec2_up').getClassName(), 'ResizeBilinear2x');
  const x = tf.tensor4d(expected.input_nhwc, expected.shape_in);
  const before = tf.memory().numTensors;
  const y = tf.tidy(() => folder.model.predict(x) as tf.Tensor);
  const got = await y.data();
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  const diff = maxAbsDiff(got, expected.output_nhwc);
  assert.ok(diff < 1e-4, `max |ours - torch| = ${diff}`);
  folder.model.dispose();

  // The check can fail: the same weights with TF.js's resize (corners not aligned) are far off.
  const modelJson = join(out, 'model.json');
  writeFileSync(modelJson, readFileSync(modelJson, 'utf8').replaceAll('"align_corners":true', '"align_corners":false'));
  const shifted = await loadModelFolder(out);
  const z = tf.tidy(() => shifted.model.predict(x) as tf.Tensor);
  const wrong = maxAbsDiff(await z.data(), expected.output_nhwc);
  assert.ok(wrong > 1e-2, `unaligned resize differs by only ${wrong}`);
  tf.dispose([x, z]);
  shifted.model.dispose();
});

test('the milesial mapping refuses another arch, and a too-small --input names the fix', async () => {
  await rejectsWith(importModel({ file: join(FIXTURES, 'milesial_f2_transpose.pth'), out: join(dir, 'x'), arch: 'course' }), /fit options\.arch bn/);
  await rejectsWith(importModel({ file: join(FIXTURES, 'milesial_f2_transpose.pth'), out: join(dir, 'x'), inputSize: [20, 20] }), /multiples of 2\^4/);
});

/** Writes a Keras-2-style .h5 (as model.save would) holding the course U-Net's weights under Keras names. */
function writeCourseH5(path: string, unet: ReturnType<typeof buildUNet>, opts: { lambda?: boolean } = {}): Map<string, Float32Array> {
  const convs = unet.model.layers.filter((l) => l.getClassName() === 'Conv2D');
  const ups = unet.model.layers.filter((l) => l.getClassName() === 'Conv2DTranspose');
  const f = new h5wasm.File(path, 'w');
  const configLayers: unknown[] = [];
  const layerNames: string[] = [];
  const expected = new Map<string, Float32Array>();
  // Keras order: the graph's order, each decoder block's transposed conv before its convs.
  let c = 0;
  let u = 0;
  const mw = f.create_group('model_weights');
  for (const layer of unet.model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'Conv2DTranspose') continue;
    const kname = cls === 'Conv2D' ? (c === 0 ? 'conv2d' : `conv2d_${c}`) : u === 0 ? 'conv2d_transpose' : `conv2d_transpose_${u}`;
    if (cls === 'Conv2D') c++;
    else u++;
    layerNames.push(kname);
    configLayers.push({ class_name: cls, config: { name: kname } });
    const g = mw.create_group(kname);
    const inner = g.create_group(kname);
    const names: string[] = [];
    for (const v of layer.weights) {
      const wn = v.originalName.split('/').pop()!;
      const data = v.read().dataSync() as Float32Array;
      inner.create_dataset({ name: `${wn}:0`, data: Float32Array.from(data), shape: v.shape as number[] });
      names.push(`${kname}/${wn}:0`);
      expected.set(v.originalName, Float32Array.from(data));
    }
    g.create_attribute('weight_names', names, null, `S${Math.max(...names.map((n) => n.length))}`);
  }
  if (opts.lambda) {
    configLayers.unshift({ class_name: 'Lambda', config: { name: 'normalise', function: ['4wEAAAAAAAAA...base64 bytecode...', null, null] } });
    layerNames.unshift('normalise');
    mw.create_group('normalise').create_attribute('weight_names', [], [0], 'S1');
  }
  assert.equal(convs.length, c);
  assert.equal(ups.length, u);
  mw.create_attribute('layer_names', layerNames, null, `S${Math.max(...layerNames.map((n) => n.length))}`);
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('model_config', JSON.stringify({ class_name: 'Functional', config: { name: 'model', layers: configLayers } }));
  f.close();
  return expected;
}

test('a course Keras .h5 imports into course with every weight unchanged', async () => {
  const src = buildUNet({ arch: 'course', depth: 2, filters: 2, classes: 3, input: [16, 16, 3], seed: 5 });
  const h5 = join(dir, 'course.h5');
  const expected = writeCourseH5(h5, src);
  src.model.dispose();
  const out = join(dir, 'course');
  const r = await importModel({ file: h5, out, inputSize: [16, 16] });
  assert.equal(r.mapping, 'keras-course');
  assert.deepEqual([r.options.arch, r.options.depth, r.options.filters, r.options.classes], ['course', 2, 2, 3]);
  assert.equal(r.missed.length, 0);
  assert.equal(r.mapped.length, expected.size);
  const folder = await loadModelFolder(out);
  for (const layer of folder.model.layers) {
    for (const v of layer.weights) assert.deepEqual(v.read().dataSync(), expected.get(v.originalName), v.originalName);
  }
  folder.model.dispose();
});

test('an .h5 with a Lambda layer is refused by name unless allowed; its code is never run', async () => {
  const src = buildUNet({ arch: 'course', depth: 2, filters: 2, classes: 3, input: [16, 16, 3], seed: 5 });
  const h5 = join(dir, 'lambda.h5');
  writeCourseH5(h5, src, { lambda: true });
  src.model.dispose();
  await rejectsWith(readKerasH5(h5), /Lambda layer \(normalise\).*never run.*options\.allowLambda/);
  const w = await readKerasH5(h5, { allowLambda: true });
  assert.match(w.notes.join('\n'), /normalise not imported/);
  const r = await importModel({ file: h5, out: join(dir, 'lambda'), inputSize: [16, 16], allowLambda: true });
  assert.equal(r.missed.length, 0);
});

test('non-HDF5, truncated and weightless .h5 files are refused with clear errors', async () => {
  const src = buildUNet({ arch: 'course', depth: 2, filters: 2, classes: 3, input: [16, 16, 3], seed: 5 });
  const h5 = join(dir, 'full.h5');
  writeCourseH5(h5, src);
  src.model.dispose();
  const bytes = readFileSync(h5);
  const bad = join(dir, 'bad.h5');
  writeFileSync(bad, 'this is not hdf5');
  await rejectsWith(readKerasH5(bad), /not an HDF5 file/);
  for (const cut of [100, 1000, Math.floor(bytes.length / 2), bytes.length - 10]) {
    writeFileSync(bad, bytes.subarray(0, cut));
    await assert.rejects(readKerasH5(bad), UserError, `cut at ${cut}`);
  }
  const empty = join(dir, 'empty.h5');
  const f = new h5wasm.File(empty, 'w');
  f.create_group('model_weights');
  f.close();
  await rejectsWith(readKerasH5(empty), /layer_names attribute is missing/);
  writeFileSync(bad, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]));
  await rejectsWith(readKerasH5(bad), /Keras 3/);
  await rejectsWith(readKerasH5(join(dir, 'nope.h5')), /file not found/);
});

test('a user mapping file maps a safetensors file onto bn, and bad mapping files are refused', async () => {
  const src = buildUNet({ arch: 'bn', depth: 2, filters: 2, classes: 2, input: [8, 8, 1], seed: 9 });
  const header: Record<string, unknown> = {};
  const map: Record<string, string> = {};
  const chunks: Uint8Array[] = [];
  const expected = new Map<string, Float32Array>();
  let offset = 0;
  let i = 0;
  for (const layer of src.model.layers) {
    for (const v of layer.weights) {
      const data = Float32Array.from(v.read().dataSync() as Float32Array);
      const name = `net.p${i++}`;
      header[name] = { dtype: 'F32', shape: v.shape, data_offsets: [offset, offset + data.byteLength] };
      offset += data.byteLength;
      chunks.push(new Uint8Array(data.buffer));
      map[name] = v.originalName;
      expected.set(v.originalName, data);
    }
  }
  src.model.dispose();
  const file = join(dir, 'other.safetensors');
  writeFileSync(file, makeSafetensors(header, Buffer.concat(chunks)));
  const mapFile = join(dir, 'map.json');
  writeFileSync(mapFile, JSON.stringify({ layout: 'keras', tensors: map }));
  const out = join(dir, 'user');
  const r = await importModel({ file, out, arch: 'bn', mapping: mapFile, inputSize: [8, 8] });
  assert.equal(r.missed.length, 0);
  const folder = await loadModelFolder(out);
  for (const layer of folder.model.layers) for (const v of layer.weights) assert.deepEqual(v.read().dataSync(), expected.get(v.originalName));
  folder.model.dispose();

  writeFileSync(mapFile, JSON.stringify({ 'net.p0': 'rm -rf /' }));
  await rejectsWith(importModel({ file, out: join(dir, 'u2'), arch: 'bn', mapping: mapFile }), /must look like "enc1_conv1\/kernel"/);
  writeFileSync(mapFile, JSON.stringify({ 'net.nope': 'enc1_conv1/kernel' }));
  await rejectsWith(importModel({ file, out: join(dir, 'u2'), arch: 'bn', mapping: mapFile }), /net\.nope.*not in the weights file/);
  const partial = Object.fromEntries(Object.entries(map).slice(0, -2));
  writeFileSync(mapFile, JSON.stringify({ layout: 'keras', tensors: partial }));
  await rejectsWith(importModel({ file, out: join(dir, 'u2'), arch: 'bn', mapping: mapFile, inputSize: [8, 8] }), /no source tensor|no head_logits/);
  await rejectsWith(importModel({ file, out: join(dir, 'u2'), arch: 'bn', inputSize: [8, 8] }), /match no built-in mapping/);
});
