// torchvision state dicts (written by torch.save from torchvision's own classes, narrow so the fixtures
// stay small; see bench/torch_import/make_encoder_fixture.py) imported into the encoder U-Nets: 0 missed
// encoder tensors, the classifier skipped, and the encoder's five feature maps equal torchvision's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { encoderFeatureLayers, loadModelFolder } from '../../src/model/index.js';
import { importModel } from '../../src/model/import/import.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, useCpu } from '../model/helpers.js';

before(useCpu);

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'import');

function expected(name: string): { input: tf.Tensor4D; features: Float32Array[]; shapes: number[][] } {
  const meta = JSON.parse(readFileSync(join(FIXTURES, `${name}.features.json`), 'utf8')) as { input_nhwc: number[]; features_nhwc: number[][] };
  const raw = readFileSync(join(FIXTURES, `${name}.features.f32`));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let at = 0;
  const take = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = all.slice(at, at + n);
    at += n;
    return out;
  };
  const input = tf.tensor4d(take(meta.input_nhwc), meta.input_nhwc as [number, number, number, number]);
  const features = meta.features_nhwc.map(take);
  assert.equal(at, all.length);
  return { input, features, shapes: meta.features_nhwc };
}

for (const [fixture, arch, skippedRe] of [
  ['tv_resnet34', 'resnet34', /^fc\.(weight|bias)$/],
  ['tv_mobilenet_v2', 'mobilenetv2', /^(classifier\.1\.|features\.18\.|features\.17\.conv\.3\.)/],
] as const) {
  test(`a torchvision ${arch} state dict imports with 0 missed encoder tensors; its five feature maps match torchvision's to 1e-4`, async (t) => {
    const out = join(tempDir(t), 'm');
    const r = await importModel({ file: join(FIXTURES, `${fixture}.pth`), arch, out, classes: 5, inputSize: [64, 64] });
    assert.deepEqual(r.missed, []);
    assert.ok(r.options.arch !== 'adopted');
    assert.equal(r.options.flavour, 'torchvision');
    assert.equal(r.options.inputNormalization?.name, 'imagenet');
    const skippedTensors = r.skipped.filter((s) => !/num_batches_tracked/.test(s.name));
    assert.ok(skippedTensors.length > 0 && skippedTensors.every((s) => skippedRe.test(s.name)), `skipped: ${skippedTensors.map((s) => s.name).join(', ')}`);
    assert.ok(r.notes.some((n) => /decoder and head: \d+ weights keep their seeded fresh initialisation/.test(n)));

    const f = await loadModelFolder(out);
    const taps = encoderFeatureLayers(f.layerMap);
    const enc = tfl.model({ inputs: f.model.inputs, outputs: taps.map((n) => f.model.getLayer(n).output as tfl.SymbolicTensor) });
    const want = expected(fixture);
    const got = enc.predict(want.input) as tf.Tensor[];
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(got[i]!.shape, want.shapes[i], taps[i]);
      const g = got[i]!.dataSync() as Float32Array;
      const w = want.features[i]!;
      let scale = 0;
      let diff = 0;
      for (let k = 0; k < w.length; k++) {
        scale = Math.max(scale, Math.abs(w[k]!));
        diff = Math.max(diff, Math.abs(g[k]! - w[k]!));
      }
      assert.ok(scale > 1e-3, `${taps[i]}: torchvision's feature is all but zero`);
      assert.ok(diff <= 1e-4 * scale, `${arch} ${taps[i]}: max |diff| ${diff} > 1e-4 * ${scale}`);
    }
    // Every encoder layer with weights came pretrained; no decoder or head layer did.
    for (const l of f.layerMap.layers) {
      const enc = l.region === 'encoder' || l.region === 'bottleneck';
      if (l.parameters > 0) assert.equal(l.pretrained === true, enc, l.name);
    }
    tf.dispose([want.input, ...got]);
    f.model.dispose();
  });
}

test('a resnet18/34 mix-up and a wrong family are refused, naming the arch to use', async (t) => {
  const out = join(tempDir(t), 'm');
  await assert.rejects(
    importModel({ file: join(FIXTURES, 'tv_resnet34.pth'), arch: 'resnet18', out }),
    (e: Error) => e instanceof UserError && /a resnet34 state dict.*arch resnet34/.test(e.message),
  );
  await assert.rejects(
    importModel({ file: join(FIXTURES, 'tv_mobilenet_v2.pth'), arch: 'resnet34', out }),
    (e: Error) => e instanceof UserError && /not a torchvision resnet34 state dict: expected one tensor named conv1\.weight/.test(e.message),
  );
  await assert.rejects(
    importModel({ file: join(FIXTURES, 'milesial_f2_bilinear.pth'), arch: 'mobilenetv2', out }),
    (e: Error) => e instanceof UserError && /not a torchvision mobilenetv2 state dict/.test(e.message),
  );
});
