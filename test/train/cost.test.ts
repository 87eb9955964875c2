// The cost model that sweeps and the advisor use: a policy's FLOPs per step with its frozen prefix cached.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { layerFlops, trainingStepFlops } from '../../src/model/index.js';
import { candidates } from '../../src/sweep/advise.js';
import { policyCosts } from '../../src/sweep/plan.js';
import { cachedPrefixLayers, policyCost, policyStepFlops } from '../../src/train/cost.js';
import { resolveTrainSpec } from '../../src/train/freeze_spec.js';
import { tinyUNet, useNative } from './helpers.js';

before(useNative);

test('cachedPrefixLayers: everything below the lowest trainable layer, nothing when the first layer trains', () => {
  const unet = tinyUNet();
  const layersOf = (spec: string) => resolveTrainSpec(spec, unet.layerMap).trainable;
  const inBlocks = (...blocks: string[]) => unet.layerMap.layers.filter((l) => blocks.includes(l.block)).map((l) => l.name);
  assert.deepEqual(cachedPrefixLayers(unet, layersOf('all')), []);
  assert.deepEqual(cachedPrefixLayers(unet, layersOf('encoder')), []);
  // `decoder`: the encoder and the bottleneck (the skips and the deepest features) are the prefix.
  const decoder = new Set(cachedPrefixLayers(unet, layersOf('decoder')));
  for (const l of inBlocks(...unet.layerMap.blocksIn('encoder').map((b) => b.name), 'bottleneck')) assert.ok(decoder.has(l), `decoder: ${l} cached`);
  assert.ok(![...decoder].some((l) => unet.layerMap.layer(l)?.region === 'decoder'), 'decoder: no decoder layer cached');
  // `head`: every layer but the head's.
  const head = new Set(cachedPrefixLayers(unet, layersOf('head')));
  for (const l of unet.layerMap.layers) assert.equal(head.has(l.name), l.block !== 'head', `head: ${l.name}`);
  unet.model.dispose();
});

test('sweeps and the advisor price a policy without the forward pass of its cached prefix', () => {
  const unet = tinyUNet();
  const batch = 4;
  const all = trainingStepFlops(unet, batch).total;
  const head = resolveTrainSpec('head', unet.layerMap).trainable;
  const cached =
    layerFlops(unet)
      .filter((l) => unet.layerMap.layer(l.layer)?.block !== 'head')
      .reduce((s, l) => s + l.forward, 0) * batch;
  const uncached = policyStepFlops(unet, batch, head);
  const withCache = policyCost(unet, batch, head);
  assert.ok(cached > 0);
  assert.equal(withCache.total, uncached.total - cached);
  assert.equal(policyCost(unet, batch, head, false).total, uncached.total);

  const [cost] = policyCosts(unet, ['head'], batch);
  assert.equal(cost!.flops_per_step, withCache.total);
  assert.equal(cost!.flops_share, withCache.total / all);

  // The advisor's candidate made of the head block alone carries the same share.
  const evidence = unet.layerMap.blocks.map((b) => ({ block: b.name, score: b.name === 'head' ? 1 : 0 }));
  const found = candidates(unet, evidence as Parameters<typeof candidates>[1], { kind: 'time', limit: 0.5, text: '50%time' }, batch).find(
    (c) => c.blocks.length === 1 && c.blocks[0] === 'head',
  );
  assert.ok(found, 'head is a candidate within half the time');
  assert.ok(Math.abs(found.flops_share - withCache.total / all) < 1e-12);
  unet.model.dispose();
});
