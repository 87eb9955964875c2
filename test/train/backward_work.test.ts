// Frozen layers cost no backward work: counted kernel by kernel with the engine's profiler over one training
// step. Weight gradients (Conv2DBackpropFilter) only for trainable convolutions; data gradients only for
// layers with a trainable layer upstream (nothing below the lowest trainable layer); with the activation
// cache, no forward convolution of the frozen prefix at all.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { profiler } from '../../src/engine/index.js';
import type { UNet } from '../../src/model/index.js';
import { applyFreeze } from '../../src/train/freeze.js';
import { resolveTrainSpec } from '../../src/train/freeze_spec.js';
import { makeLoss } from '../../src/train/losses/index.js';
import { buildLrGroups, disposeGroups } from '../../src/train/lr_groups.js';
import { makeOptimizer } from '../../src/train/optimizers/index.js';
import { stepLoss } from '../../src/train/fused_logits.js';
import { graphNodes, runModelTo, splitFrozenPrefix } from '../../src/train/prefix_split.js';
import { trainStep } from '../../src/train/step.js';
import { tinyUNet, useNative } from './helpers.js';

before(useNative);

/** Kernel calls one step should make, from the graph: which convs train, which have a trainable layer upstream. */
function expectedCalls(unet: UNet, trainable: Set<string>, forwardLayers: Set<string>, fusedLayer?: string) {
  const carries = new Set<number>(); // symbolic tensors a gradient flows back into
  const e = { Conv2DBackpropFilter: 0, Conv2DBackpropInput: 0, Conv2D: 0, FusedConv2D: 0 };
  for (const n of graphNodes(unet.model)) {
    const name = n.layer.name;
    const kind = unet.layerMap.layer(name)?.kind;
    const gradIn = n.inputs.some((i) => carries.has(i.id));
    if (gradIn || trainable.has(name)) carries.add(n.output.id);
    // The logits layer fused with the loss runs inside UnetLinearSoftmaxXent (src/train/fused_logits.ts).
    if ((kind !== 'conv' && kind !== 'transpose') || name === fusedLayer) continue;
    // Every conv runs an op with lazy per-input gradients (src/engine/ops/conv_bias_relu.ts).
    if (trainable.has(name)) e.Conv2DBackpropFilter++;
    if (kind === 'conv') {
      if (forwardLayers.has(name)) e.FusedConv2D++;
      if (gradIn) e.Conv2DBackpropInput++;
    } else {
      if (forwardLayers.has(name)) e.Conv2DBackpropInput++; // a transposed conv's forward pass
      if (gradIn) e.Conv2D++; // and its data gradient
    }
  }
  return e;
}

function countStep(spec: string, useCache: boolean, fused = false) {
  const unet = tinyUNet();
  const frozen = applyFreeze(unet.model, unet.layerMap, resolveTrainSpec(spec, unet.layerMap));
  const groups = buildLrGroups(frozen.variables, new Map(), () => makeOptimizer('sgd', 0.01));
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.randomUniform([2, 32, 32], 0, 4, 'int32', 2) as tf.Tensor3D;
  const trainable = new Set(frozen.variables.map((v) => v.layer));
  const split = useCache
    ? splitFrozenPrefix({ model: unet.model, layerMap: unet.layerMap, differentiated: trainable, inferenceLayers: new Set(frozen.inferenceLayers) }).split
    : null;
  if (useCache) assert.ok(split, `${spec}: no frozen prefix to cache`);
  const inputs = split ? split.runPrefix(x) : x;
  // Fused: the step as trainEpoch makes it, the forward pass stopping at the logits layer's input.
  const plan = fused ? stepLoss(unet.model, makeLoss('ce')) : null;
  if (fused) assert.ok(plan?.target, 'the tiny U-Net ends in a fusable logits layer');
  const target = plan?.target ?? undefined;
  const forward = split
    ? (b: tf.Tensor4D | tf.Tensor[]) => split.runRest(b as tf.Tensor[], target)
    : target
      ? (b: tf.Tensor4D | tf.Tensor[]) => runModelTo(unet.model, b as tf.Tensor4D, target)
      : undefined;
  const step = () => trainStep({ model: unet.model, loss: plan?.loss ?? makeLoss('ce'), groups, lr: 0.01, forward }, inputs, y);
  step(); // warm
  const { kernels } = profiler.capture(step);
  const calls = (k: string) => kernels.filter((r) => r.kernel === k).reduce((s, r) => s + r.calls, 0);
  const got = {
    Conv2DBackpropFilter: calls('Conv2DBackpropFilter'),
    Conv2DBackpropInput: calls('Conv2DBackpropInput'),
    Conv2D: calls('Conv2D'),
    FusedConv2D: calls('FusedConv2D'),
  };
  const losses = { UnetLinearSoftmaxXent: calls('UnetLinearSoftmaxXent'), UnetSparseSoftmaxXent: calls('UnetSparseSoftmaxXent') };
  const prefix = new Set(split?.prefixLayers ?? []);
  const forwardLayers = new Set(unet.layerMap.layers.map((l) => l.name).filter((l) => !prefix.has(l)));
  const want = expectedCalls(unet, trainable, forwardLayers, plan ? 'head_logits' : undefined);
  tf.dispose([x, y, ...(Array.isArray(inputs) ? inputs : [])]);
  disposeGroups(groups);
  unet.model.dispose();
  return { got, want, trainable, losses };
}

for (const spec of ['decoder', 'head', 'encoder', 'all']) {
  test(`--train ${spec}: weight gradients only for trainable convs, data gradients only above the lowest trainable layer`, () => {
    const { got, want, trainable } = countStep(spec, false);
    assert.deepEqual(got, want);
    // Spelled out for the tiny U-Net (12 convs + 2 transposed convs).
    const literal: Record<string, typeof got> = {
      all: { Conv2DBackpropFilter: 14, Conv2DBackpropInput: 2 + 11, Conv2D: 2, FusedConv2D: 12 },
      // the 6 decoder layers only (the frozen logits pass the gradient on without a filter gradient);
      // dx for dec2_conv1..head_logits only.
      decoder: { Conv2DBackpropFilter: 6, Conv2DBackpropInput: 2 + 6, Conv2D: 1, FusedConv2D: 12 },
      // dx for head_logits only: nothing is back-propagated below head_conv.
      head: { Conv2DBackpropFilter: 2, Conv2DBackpropInput: 2 + 1, Conv2D: 0, FusedConv2D: 12 },
      encoder: { Conv2DBackpropFilter: 4, Conv2DBackpropInput: 2 + 11, Conv2D: 2, FusedConv2D: 12 },
    };
    assert.deepEqual(got, literal[spec], `${spec} (${[...trainable].join(', ')})`);
  });
}

test('with the activation cache, the frozen prefix runs no convolution in a step (decoder, head)', () => {
  for (const spec of ['decoder', 'head']) {
    const { got, want } = countStep(spec, true);
    assert.deepEqual(got, want, spec);
    // decoder: 6 convs of dec2, dec1 and head run forward; head: head_conv and head_logits only.
    assert.equal(got.FusedConv2D, spec === 'decoder' ? 6 : 2, spec);
  }
});

test('with the logits layer fused into the loss, a step runs one UnetLinearSoftmaxXent and no kernel of that layer', () => {
  for (const [spec, cache] of [
    ['all', false],
    ['decoder', false],
    ['head', true],
    ['decoder', true],
  ] as const) {
    const { got, want, losses } = countStep(spec, cache, true);
    assert.deepEqual(got, want, `${spec}${cache ? ' (cache)' : ''}`);
    assert.deepEqual(losses, { UnetLinearSoftmaxXent: 1, UnetSparseSoftmaxXent: 0 }, spec);
  }
  // Spelled out: the unfused 'all' step less the logits layer's forward, weight and data gradient.
  assert.deepEqual(countStep('all', false, true).got, { Conv2DBackpropFilter: 13, Conv2DBackpropInput: 2 + 10, Conv2D: 2, FusedConv2D: 11 });
});
