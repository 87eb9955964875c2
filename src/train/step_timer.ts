// Measured step time of fine-tuning policies on the machine at hand: for each policy, a few training steps of
// the model with that policy's layers trainable, on random inputs of the model's size (a step's time does not
// depend on the pixel values), with the frozen-prefix activation cache where the policy has one, as a sweep
// trial would train. The first epoch (it fills the cache, and warms the kernels up) is left out; policies are
// timed in alternating rounds (every round's times are returned, so that a caller can compare policies
// within a round), and `seconds` is the fastest round, since a shared machine only ever slows a round down. Training changes the weights: pass a model loaded for timing only.
import type { UNet } from '../model/unet.js';
import { memoryBatchSource } from './batch_source.js';
import { openPolicyTrainer } from './policy_trainer.js';

export interface StepTimingOptions {
  batch: number;
  /** Steps per timed epoch (default 2). */
  steps?: number;
  /** Timed epochs per round, after the warm-up epoch (default 1). */
  epochs?: number;
  /** Rounds over all policies (default 2). */
  rounds?: number;
  log?: (line: string) => void;
}

export interface PolicyStepTime {
  policy: string;
  /** Seconds per training step (the fastest round). */
  seconds: number;
  /** Every round's seconds per step. */
  rounds: number[];
  cache: boolean;
}

/** Seconds per training step of each policy (freeze specs) on `unet`, whose weights it changes. */
export async function timePolicySteps(
  unet: Pick<UNet, 'model' | 'layerMap'> & { options: { input: [number, number, number]; classes: number } },
  policies: string[],
  o: StepTimingOptions,
): Promise<PolicyStepTime[]> {
  const steps = o.steps ?? 2;
  const epochs = o.epochs ?? 1;
  const rounds = o.rounds ?? 2;
  const [H, W, C] = unet.options.input;
  const classes = unet.options.classes;
  const n = o.batch * steps;
  // A fixed pseudo-random picture set: the values do not matter, only the shapes.
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const images = Array.from({ length: n }, () => Float32Array.from({ length: H * W * C }, rand));
  const masks = Array.from({ length: n }, () => Int32Array.from({ length: H * W }, () => Math.floor(rand() * classes)));
  const source = memoryBatchSource(images, masks, [H, W, C], 0);
  const times = new Map<string, number[]>(policies.map((p) => [p, []]));
  const cached = new Map<string, boolean>();
  for (let round = 0; round < rounds; round++) {
    for (const policy of policies) {
      const trainer = openPolicyTrainer(unet.model, unet.layerMap, { policy, source, batch: o.batch, lr: 1e-4 });
      cached.set(policy, trainer.decision.used);
      try {
        let seconds = 0;
        for (let epoch = 0; epoch <= epochs; epoch++) {
          const t0 = performance.now();
          const r = await trainer.epoch(epoch);
          if (epoch > 0) seconds += (performance.now() - t0) / 1000 / Math.max(1, r.steps);
        }
        times.get(policy)!.push(seconds / epochs);
      } finally {
        trainer.close();
      }
    }
    o.log?.(`timed ${policies.length} policies, round ${round + 1}/${rounds}`);
  }
  return policies.map((policy) => ({ policy, seconds: Math.min(...times.get(policy)!), rounds: times.get(policy)!, cache: cached.get(policy) ?? false }));
}
