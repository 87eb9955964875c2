// Where a fine-tuning policy's step goes: the epoch loop of `bench --train` taken apart, per step, into the
// batch gather from the activation cache, the forward pass, the loss and backward pass, and the optimizer,
// each with the time its native kernels took (the engine's profiler), so the rest is JavaScript. Not a test.
// Usage (after `npx tsc -p .`):
//   node dist/bench/policy-profile.js [--train head] [--images 400] [--epochs 8] [--height 64] [--width 64]
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { digitScenesInMemory } from './policy_epoch.js';
import { profiler, useBestBackend } from '../src/engine/index.js';
import { buildUNet } from '../src/model/index.js';
import { memoryBatchSource } from '../src/train/batch_source.js';
import { stepLoss } from '../src/train/fused_logits.js';
import { makeLoss } from '../src/train/losses/index.js';
import { setGroupRates } from '../src/train/lr_groups.js';
import { openPolicyTrainer } from '../src/train/policy_trainer.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: 'head' },
    images: { type: 'string', default: '400' },
    epochs: { type: 'string', default: '8' },
    height: { type: 'string', default: '64' },
    width: { type: 'string', default: '64' },
  },
});
const [H, W, N, epochs] = [Number(values.height), Number(values.width), Number(values.images), Number(values.epochs)];
await useBestBackend('native');
const unet = buildUNet({ arch: 'course', filters: 16, classes: 23, input: [H, W, 3], seed: 1 });
const scenes = digitScenesInMemory(N, H, W, 1);
const source = memoryBatchSource(scenes.images, scenes.masks, [H, W, 3], 1);
const trainer = openPolicyTrainer(unet.model, unet.layerMap, { policy: values.train!, source, batch: 8, lr: 1e-3, cacheMb: 2048, seed: 1 });
const { groups, decision } = trainer;
const loss = makeLoss('ce');
const plan = stepLoss(unet.model, loss);
const vars = groups.flatMap((g) => g.variables.map((v) => v.variable));
console.log(`--train ${values.train}, ${N} scenes ${H}x${W}: ${decision.used ? 'cached prefix' : `no cache (${decision.reason})`}; ${plan.description}`);

// The first epoch as training runs it (it fills the cache); then the same steps taken apart.
await trainer.epoch(0);
const cache = trainer.cache;
const kernelMs = () => profiler.snapshot().reduce((s, r) => s + r.ms, 0);
const parts = { gather: 0, forward: 0, forwardKernels: 0, backward: 0, backwardKernels: 0, optimizer: 0, optimizerKernels: 0, steps: 0 };
profiler.active = true;
for (let epoch = 1; epoch < epochs; epoch++) {
  const order = source.order(epoch);
  for (let at = 0; at + 8 <= order.length; at += 8) {
    const t0 = performance.now();
    if (!cache) throw new Error(`--train ${values.train} caches nothing; this profile times steps from the activation cache`);
    const { boundary: inputs, masks } = cache.store.batch(order.slice(at, at + 8));
    profiler.capture(() => 0);
    profiler.active = true;
    const t1 = performance.now();
    let tForward = 0;
    let kForward = 0;
    const { value, grads } = tf.variableGrads(() => {
      const features = cache.split.runRest(inputs, plan.target ?? undefined);
      tForward = performance.now();
      kForward = kernelMs();
      return plan.loss(features, masks);
    }, vars);
    const t2 = performance.now();
    const kBackward = kernelMs();
    setGroupRates(groups, 1e-3);
    for (const g of groups) g.optimizer.applyGradients(g.variables.map((v) => ({ name: v.variable.name, tensor: grads[v.variable.name]! })));
    const t3 = performance.now();
    const kAll = kernelMs();
    value.dataSync();
    tf.dispose([value, ...Object.values(grads), ...inputs, masks]);
    if (epoch > 2) {
      parts.gather += t1 - t0;
      parts.forward += tForward - t1;
      parts.forwardKernels += kForward;
      parts.backward += t2 - tForward;
      parts.backwardKernels += kBackward - kForward;
      parts.optimizer += t3 - t2;
      parts.optimizerKernels += kAll - kBackward;
      parts.steps++;
    }
  }
}
profiler.active = false;
const ms = (v: number) => (v / parts.steps).toFixed(3).padStart(7);
console.log(`per step, epochs 4-${epochs} (${parts.steps} steps), ms:`);
console.log(`  batch gather       ${ms(parts.gather)}`);
console.log(`  forward            ${ms(parts.forward)}  (kernels ${ms(parts.forwardKernels)})`);
console.log(`  loss + backward    ${ms(parts.backward)}  (kernels ${ms(parts.backwardKernels)})`);
console.log(`  optimizer          ${ms(parts.optimizer)}  (kernels ${ms(parts.optimizerKernels)})`);
trainer.close();
