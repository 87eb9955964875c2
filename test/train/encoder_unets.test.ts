// Fine-tuning policies on tiny encoder U-Nets (mobilenetv2, resnet18): the layer map's regions drive
// freezing exactly as on the course U-Net, frozen BatchNorm runs in inference mode (its statistics do
// not move), the frozen encoder is cached, and the data reach the model normalised as it expects.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { buildUNet, type UNet, type UNetOptionsInput } from '../../src/model/index.js';
import { openTrainingData } from '../../src/train/training_data.js';
import { loadSample } from '../../src/data/index.js';
import { sampleNormalizationOf } from '../../src/model/index.js';
import { digitSet, sameBits, snapshot, tempDir, trainTiny, useNative } from './helpers.js';

let data = '';
before(async () => {
  await useNative();
  data = await digitSet(join(tempDir({ after: () => {} }, 'unet-enc-data-'), 'digits'), { count: 12 });
});

const TINY: Record<'mobilenetv2' | 'resnet18', UNetOptionsInput> = {
  mobilenetv2: { arch: 'mobilenetv2', alpha: 0.35, filters: 4, classes: 4, input: [32, 32, 3], seed: 5 },
  resnet18: { arch: 'resnet18', alpha: 0.125, filters: 2, classes: 4, input: [32, 32, 3], seed: 5 },
};

function partition(unet: UNet, weights: Map<string, Float32Array>) {
  const encoder = (k: string) => {
    const r = unet.layerMap.layer(k.split('/')[0]!)?.region;
    return r === 'encoder' || r === 'bottleneck';
  };
  return { enc: [...weights.keys()].filter(encoder), rest: [...weights.keys()].filter((k) => !encoder(k)) };
}

for (const arch of ['mobilenetv2', 'resnet18'] as const) {
  test(`${arch}: --train decoder+head keeps the encoder (and its BN statistics) bitwise, caches it, trains the rest`, { timeout: 120_000 }, async (t) => {
    const unet = buildUNet(TINY[arch]);
    const before = snapshot(unet.model);
    const log: string[] = [];
    await trainTiny(unet, data, tempDir(t), { train: 'decoder+head', epochs: 2, batch: 4 }, { log: (l) => log.push(l) });
    const after = snapshot(unet.model);
    const { enc, rest } = partition(unet, after);
    assert.ok(enc.some((k) => /moving_mean/.test(k)) && enc.length > 10);
    for (const k of enc) assert.ok(sameBits(before.get(k)!, after.get(k)!), `${k} changed`);
    const changed = rest.filter((k) => !sameBits(before.get(k)!, after.get(k)!));
    assert.ok(changed.includes('head_logits/kernel') && changed.some((k) => k.startsWith('dec4_')), `changed: ${changed.join(', ')}`);
    assert.match(log.join('\n'), /activation cache: on, frozen prefix enc1, enc2, enc3, enc4, bottleneck/);
    unet.model.dispose();
  });

  test(`${arch}: --train encoder moves the encoder and its BN statistics, leaves decoder and head bitwise`, { timeout: 120_000 }, async (t) => {
    const unet = buildUNet(TINY[arch]);
    const before = snapshot(unet.model);
    await trainTiny(unet, data, tempDir(t), { train: 'encoder', epochs: 1, batch: 4 });
    const after = snapshot(unet.model);
    const { enc, rest } = partition(unet, after);
    for (const k of rest) assert.ok(sameBits(before.get(k)!, after.get(k)!), `${k} changed`);
    // `encoder` is enc1..enc4 (the bottleneck is its own region, as on the course U-Net).
    const movedEnc = enc.filter((k) => unet.layerMap.layer(k.split('/')[0]!)?.region === 'encoder' && !sameBits(before.get(k)!, after.get(k)!));
    assert.ok(movedEnc.some((k) => /kernel/.test(k)) && movedEnc.some((k) => /moving_mean/.test(k)), `moved: ${movedEnc.slice(0, 5).join(', ')}`);
    const bottleneck = enc.filter((k) => unet.layerMap.layer(k.split('/')[0]!)?.region === 'bottleneck');
    for (const k of bottleneck) assert.ok(sameBits(before.get(k)!, after.get(k)!), `${k} (bottleneck) changed`);
    unet.model.dispose();
  });
}

test('--train-bn with a frozen encoder trains its BatchNorm scales and statistics only', { timeout: 120_000 }, async (t) => {
  const unet = buildUNet(TINY.mobilenetv2);
  const before = snapshot(unet.model);
  await trainTiny(unet, data, tempDir(t), { train: 'head', trainBn: true, epochs: 1, batch: 4 });
  const after = snapshot(unet.model);
  const moved = [...after.keys()].filter((k) => unet.layerMap.layer(k.split('/')[0]!)?.block === 'enc2' && !sameBits(before.get(k)!, after.get(k)!));
  assert.ok(moved.length > 0 && moved.every((k) => /_BN\/|bn_Conv1\//.test(k)), `moved in enc2: ${moved.join(', ')}`);
  unet.model.dispose();
});

test("training data reach mobilenetv2 in [-1, 1] and resnet in ImageNet's normalisation", async () => {
  for (const [arch, lo, hi] of [
    ['mobilenetv2', -1, 1],
    ['resnet18', -0.485 / 0.229, (1 - 0.406) / 0.225],
  ] as const) {
    const unet = buildUNet(TINY[arch]);
    const td = openTrainingData(data, {
      valFraction: 0.2,
      seed: 1,
      input: unet.options.input,
      modelClasses: 4,
      normalize: sampleNormalizationOf(unet.options),
    });
    const s = await loadSample(td.ds, td.train[0]!, td.sample);
    const min = s.image.reduce((a, b) => Math.min(a, b), Infinity);
    const max = s.image.reduce((a, b) => Math.max(a, b), -Infinity);
    assert.ok(min >= lo - 1e-6 && max <= hi + 1e-6 && min < lo / 2, `${arch}: [${min}, ${max}]`);
    unet.model.dispose();
  }
  const course = buildUNet({ arch: 'course', depth: 2, filters: 2, input: [32, 32, 3], seed: 1 });
  assert.equal(sampleNormalizationOf(course.options), undefined);
  course.model.dispose();
});

test('a new head for another class count keeps the encoder weights and their pretrained marks', async () => {
  const { withNewHead } = await import('../../src/train/new_head.js');
  const src = buildUNet(TINY.resnet18);
  const marked = { ...src, layerMap: src.layerMap.withPretrained(src.model, ['conv1', 'bn1', 'head_logits']) };
  const u = await withNewHead(marked, 7, 9);
  assert.deepEqual(u.layerMap.pretrainedLayers(), ['conv1', 'bn1']);
  assert.deepEqual(u.model.outputs[0]!.shape, [null, 32, 32, 7]);
  assert.ok(sameBits(snapshot(u.model).get('layer1_0_conv1/kernel')!, snapshot(src.model).get('layer1_0_conv1/kernel')!));
  src.model.dispose();
  u.model.dispose();
});
