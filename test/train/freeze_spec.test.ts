import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Region } from '../../src/model/layer-map.js';
import { resolveTrainSpec, type SpecTarget } from '../../src/train/freeze_spec.js';

// A depth-2 U-Net's blocks and a few layers per block, as a layer map would give them.
const BLOCKS: [string, Region][] = [
  ['enc1', 'encoder'],
  ['enc2', 'encoder'],
  ['bottleneck', 'bottleneck'],
  ['dec2', 'decoder'],
  ['dec1', 'decoder'],
  ['head', 'head'],
];
const LAYERS: Record<string, string[]> = {
  enc1: ['enc1_conv1', 'enc1_bn1', 'enc1_conv2', 'enc1_pool'],
  enc2: ['enc2_conv1', 'enc2_conv2', 'enc2_pool'],
  bottleneck: ['bottleneck_conv1', 'bottleneck_conv2'],
  dec2: ['dec2_up', 'dec2_concat', 'dec2_conv1', 'dec2_conv2'],
  dec1: ['dec1_up', 'dec1_concat', 'dec1_conv1', 'dec1_bn1', 'dec1_conv2'],
  head: ['head_conv', 'head_logits'],
};
const T: SpecTarget = {
  blocks: BLOCKS.map(([name, region]) => ({ name, region })),
  layers: BLOCKS.flatMap(([b]) => LAYERS[b].map((name) => ({ name, block: b }))),
};
const blocks = (spec: string) => resolveTrainSpec(spec, T).blocks;

test('regions, blocks and named policies select the right blocks', () => {
  assert.deepEqual(blocks('all'), ['enc1', 'enc2', 'bottleneck', 'dec2', 'dec1', 'head']);
  assert.deepEqual(blocks('full'), blocks('all'));
  assert.deepEqual(blocks('encoder'), ['enc1', 'enc2']);
  assert.deepEqual(blocks('decoder+head'), ['dec2', 'dec1', 'head']);
  assert.deepEqual(blocks('encoder+bottleneck'), ['enc1', 'enc2', 'bottleneck']);
  assert.deepEqual(blocks('enc2,head'), ['enc2', 'head']);
  assert.deepEqual(blocks('shallow:2'), ['enc1', 'enc2']);
  assert.deepEqual(blocks('deep:2'), ['dec1', 'head']);
  assert.deepEqual(blocks('dec1-2'), ['dec2', 'dec1']);
  assert.equal(resolveTrainSpec('scratch', T).fromScratch, true);
  assert.equal(resolveTrainSpec('full', T).fromScratch, false);
});

test('globs and removals work on layer names', () => {
  assert.deepEqual(resolveTrainSpec('dec*_up', T).trainable, ['dec2_up', 'dec1_up']);
  assert.deepEqual(resolveTrainSpec('*_bn*', T).trainable, ['enc1_bn1', 'dec1_bn1']);
  assert.deepEqual(blocks('all,!encoder'), ['bottleneck', 'dec2', 'dec1', 'head']);
  assert.deepEqual(blocks('!encoder,!bottleneck'), ['dec2', 'dec1', 'head']);
  assert.deepEqual(
    resolveTrainSpec('decoder,!dec*_up', T).trainable.filter((n) => n.endsWith('_up')),
    [],
  );
});

test('a spec that selects nothing, or names a missing block, is refused with the block list', () => {
  assert.throws(() => resolveTrainSpec('none', T), /selects nothing to train.*enc1, enc2, bottleneck, dec2, dec1, head/);
  assert.throws(() => resolveTrainSpec('encoder,!encoder', T), /selects nothing/);
  assert.throws(() => resolveTrainSpec('enc5', T), /unknown selector "enc5".*enc1, enc2/);
  assert.throws(() => resolveTrainSpec('enc1-4', T), /no block enc3 .*enc1, enc2/);
  assert.throws(() => resolveTrainSpec('xyz*', T), /matches no layer/);
  assert.throws(() => resolveTrainSpec('deep:9', T), /K from 1 to 6/);
  assert.throws(() => resolveTrainSpec('', T), /empty spec/);
});
