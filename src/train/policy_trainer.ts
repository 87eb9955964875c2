// One fine-tuning policy set up on a model the way a sweep trial trains it, for the tools that time policies
// (step_timer.ts, bench --train, bench/policy-profile.ts): the policy's layers trainable, Adam at a fixed rate,
// cross-entropy, and the frozen prefix's activation cache where the policy has one. `close()` undoes all of it
// (freeze, optimizers, the cache and its spill folder); the model's weights stay as training left them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import type { LayerMap } from '../model/layer-map.js';
import type { BatchSource } from './batch_source.js';
import { planActivationCache, trainEpoch, type CacheDecision, type EpochResult, type PrefixCache } from './epoch.js';
import { applyFreeze, clearFreeze, type FreezeState } from './freeze.js';
import { resolveTrainSpec } from './freeze_spec.js';
import { makeLoss } from './losses/index.js';
import { buildLrGroups, disposeGroups, type LrGroup } from './lr_groups.js';
import { makeOptimizer } from './optimizers/index.js';
import { dropoutLayers } from './step.js';

export interface PolicyTrainerOptions {
  /** The freeze spec of the policy (e.g. head, decoder+head, all). */
  policy: string;
  source: BatchSource;
  batch: number;
  lr: number;
  /** Cache the frozen prefix's activations where the policy has one (default true). */
  cache?: boolean;
  /** Memory for cached activations before they spill to disk (MiB, default 1024). */
  cacheMb?: number;
  /** Seeds the batch order's dropout masks (default 0). */
  seed?: number;
}

export interface PolicyTrainer {
  frozen: FreezeState;
  groups: LrGroup[];
  cache: PrefixCache | null;
  decision: CacheDecision;
  /** Trains epoch `epoch` (0-based; the first fills the cache). */
  epoch(epoch: number): Promise<EpochResult>;
  close(): void;
}

export function openPolicyTrainer(model: tfl.LayersModel, layerMap: LayerMap, o: PolicyTrainerOptions): PolicyTrainer {
  const frozen = applyFreeze(model, layerMap, resolveTrainSpec(o.policy, layerMap));
  const groups = buildLrGroups(frozen.variables, new Map(), () => makeOptimizer('adam', o.lr));
  const spillDir = mkdtempSync(join(tmpdir(), 'unet-policy-'));
  let planned: ReturnType<typeof planActivationCache> | undefined;
  const close = () => {
    planned?.cache?.store.close();
    rmSync(spillDir, { recursive: true, force: true });
    disposeGroups(groups);
    clearFreeze(model);
  };
  try {
    planned = planActivationCache({
      model,
      layerMap,
      freeze: frozen,
      groups,
      source: o.source,
      options: { enabled: o.cache ?? true, limitMb: o.cacheMb ?? 1024, spillDir },
    });
  } catch (e) {
    close();
    throw e;
  }
  const { cache, decision } = planned;
  const loss = makeLoss('ce');
  const dropouts = dropoutLayers(model);
  return {
    frozen,
    groups,
    cache,
    decision,
    epoch: (epoch) => trainEpoch({ model, loss, groups, dropouts, seed: o.seed ?? 0, epoch, batchSize: o.batch, source: o.source, cache, lrAt: () => o.lr }),
    close,
  };
}
