// Benchmark of the analyses (issue 10, item 5): a weight diff of the 8.6M-parameter course U-Net (F=32,
// goal < 1 s) and linear CKA over 256 images for all blocks of the F=16 course U-Net at 96x128 (goal
// < 60 s). The "fine-tuned" models are pretrained copies with every weight perturbed (seeded noise), so
// all measures are non-trivial. Not a test. Usage (after `npx tsc -p .`):
//   node dist/bench/analysis-bench.js [--images 256] [--reps 3] [--skip-cka]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { blockCka, diffModels } from '../src/analysis/index.js';
import { useBestBackend } from '../src/engine/index.js';
import { buildUNet, type UNet } from '../src/model/index.js';

const { values } = parseArgs({
  options: { images: { type: 'string', default: '256' }, reps: { type: 'string', default: '3' }, 'skip-cka': { type: 'boolean' } },
});

/** Adds seeded noise (relative scale `eps` of each weight's std) to every weight of the model. */
function perturb(u: UNet, eps: number, seed: number): void {
  u.model.layers.forEach((layer, li) => {
    for (const w of layer.weights) {
      const v = w.read();
      const next = tf.tidy(() => {
        const std = tf.sqrt(tf.add(tf.moments(v).variance, 1e-12));
        return tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', seed + li), tf.mul(std, eps)));
      });
      w.write(next);
      next.dispose();
    }
  });
}

const backend = await useBestBackend('native');
console.log(`backend ${backend}, ${cpus().length} CPUs (shared machine: other jobs may be running)`);

// 1. Weight diff, F=32.
{
  const before = buildUNet({ arch: 'course', filters: 32, seed: 1 });
  const after = buildUNet({ arch: 'course', filters: 32, seed: 1 });
  perturb(after, 0.05, 7);
  console.log(`diff: course U-Net F=32, ${before.layerMap.parameters.toLocaleString('en')} parameters`);
  const times: number[] = [];
  let report = diffModels(before, after);
  for (let r = 0; r < Number(values.reps); r++) {
    const t0 = performance.now();
    report = diffModels(before, after);
    times.push(performance.now() - t0);
  }
  console.log(`  diffModels: ${times.map((t) => `${(t / 1000).toFixed(3)} s`).join(', ')} (best ${(Math.min(...times) / 1000).toFixed(3)} s; goal < 1 s)`);
  console.log(`  total rel ${report.total.rel?.toFixed(4)}, spectral ${report.total.spectral?.toFixed(4)}, ${report.layers.length} layer rows`);
  before.model.dispose();
  after.model.dispose();
}

// 2. CKA, F=16 at 96x128, all blocks.
if (!values['skip-cka']) {
  const n = Number(values.images);
  const before = buildUNet({ arch: 'course', filters: 16, seed: 1 });
  const after = buildUNet({ arch: 'course', filters: 16, seed: 1 });
  perturb(after, 0.2, 9);
  const images = tf.randomUniform([n, 96, 128, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const t0 = performance.now();
  const r = blockCka(before, after, images, {});
  const t = (performance.now() - t0) / 1000;
  console.log(`cka: course U-Net F=16, 96x128, ${n} images, ${r.blocks.length} blocks, ${r.passes} pass(es): ${t.toFixed(2)} s (goal < 60 s)`);
  console.log(`  ${r.blocks.map((b) => `${b.block} ${b.cka?.toFixed(4)}`).join(', ')}`);
  images.dispose();
}
