// What each policy costs per training step, by measurement on the machine at hand (a few timed steps each,
// src/train/step_timer.ts, with the activation cache where the policy has one), as a share of full
// fine-tuning's step measured in the same rounds. FLOPs (src/train/cost.ts) are the fallback and are kept
// beside. Measurements are cached in a JSON file (default ~/.cache/unet-transfer/step-times.json, or
// $XDG_CACHE_HOME/unet-transfer/), keyed by the model's architecture (its topology, not its weights), input
// size, batch size, backend and CPU: the advisor times a model once per machine.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import type { Precision } from '../engine/precision.js';
import { loadModelFolder, trainingStepFlops, type UNet } from '../model/index.js';
import { policyCost } from '../train/cost.js';
import { resolveTrainSpec } from '../train/freeze_spec.js';
import { timePolicySteps } from '../train/step_timer.js';
import { writeFileAtomic } from '../util/atomic.js';

export const STEP_TIMES_FORMAT = 'unet-transfer/step-times';
// Version 2 stores each policy's share of full's step measured in the same rounds (version 1: seconds only).

export interface StepPrice {
  policy: string;
  /** Measured seconds per training step (null when not measured: FLOPs only). */
  seconds: number | null;
  /** seconds over full fine-tuning's, measured in the same rounds. */
  time_share: number | null;
  /** Convolution FLOPs per step over full fine-tuning's (the frozen prefix cached). */
  flops_share: number;
  params_share: number;
  /** Whether the policy trained from the activation cache while timed. */
  cache: boolean | null;
  source: 'measured' | 'cached' | 'flops';
}

export interface StepPrices {
  /** The cache file read and written (null: none). */
  file: string | null;
  machine: string;
  full_seconds: number | null;
  prices: StepPrice[];
  /** Wall seconds spent timing (0 when everything came from the cache). */
  timing_seconds: number;
}

export function defaultStepTimesFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'unet-transfer', 'step-times.json');
}

interface CacheEntry {
  model: string;
  machine: string;
  input: number[];
  batch: number;
  /** Per policy: its share of full fine-tuning's step (the median over rounds of its time over full's in the same round), and seconds. */
  policies: Record<string, { spec: string; share: number; seconds: number; rounds: number[]; cache: boolean; measuredAt: string }>;
}

interface CacheFile {
  format: typeof STEP_TIMES_FORMAT;
  version: 2;
  entries: Record<string, CacheEntry>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

function readCache(file: string): CacheFile {
  const empty: CacheFile = { format: STEP_TIMES_FORMAT, version: 2, entries: {} };
  if (!existsSync(file)) return empty;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    return j.format === STEP_TIMES_FORMAT && j.version === 2 && j.entries && typeof j.entries === 'object' ? j : empty;
  } catch {
    return empty; // a damaged cache is only a cache: measure again and overwrite it
  }
}

/**
 * Prices `policies` (freeze specs; `full` is always added as the reference) on the model in `modelDir`.
 * `measure: false` prices by FLOPs alone; `cacheFile: false` measures without reading or writing a cache.
 */
export async function priceSteps(
  modelDir: string,
  unet: Pick<UNet, 'model' | 'layerMap'> & { options: { input: [number, number, number]; classes: number } },
  policies: string[],
  o: { batch: number; precision?: Precision; measure?: boolean; cacheFile?: string | false; log?: (line: string) => void },
): Promise<StepPrices> {
  const all = [...new Set(['full', ...policies])];
  const total = unet.layerMap.trainableParameters;
  const fullFlops = trainingStepFlops(unet, o.batch).total;
  const resolved = new Map(all.map((p) => [p, resolveTrainSpec(p, unet.layerMap)]));
  // Two specs naming the same layers cost the same: one measurement.
  const layersKey = (p: string) => sha(resolved.get(p)!.trainable.join(','));
  const base = (p: string) => {
    const r = resolved.get(p)!;
    const params = r.trainable.reduce((s, n) => s + (unet.layerMap.layer(n)?.trainableParameters ?? 0), 0);
    return {
      policy: p,
      flops_share: fullFlops > 0 ? policyCost(unet, o.batch, r.trainable).total / fullFlops : 0,
      params_share: total > 0 ? params / total : 0,
    };
  };
  // bf16 steps are priced apart from fp32 ones (the caller runs this under withPrecision).
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${tf.getBackend()}${o.precision === 'bf16' ? ', bf16' : ''}`;
  if (o.measure === false)
    return {
      file: null,
      machine,
      full_seconds: null,
      timing_seconds: 0,
      prices: all.map((p) => ({ ...base(p), seconds: null, time_share: null, cache: null, source: 'flops' })),
    };

  const file = o.cacheFile === false ? null : (o.cacheFile ?? defaultStepTimesFile());
  const topology = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')).modelTopology ?? null;
  const key = sha(JSON.stringify([topology, unet.options.input, o.batch, machine]));
  const cache = file ? readCache(file) : null;
  const entry: CacheEntry = cache?.entries[key] ?? { model: modelDir, machine, input: [...unet.options.input], batch: o.batch, policies: {} };
  const missing = [...new Set(all.filter((p) => !entry.policies[layersKey(p)]).map(layersKey))];
  let timing = 0;
  if (missing.length > 0) {
    // The reference is timed again with the others, so that every share compares rounds of the same load.
    const specs = [...new Set(['full', ...all.filter((p) => missing.includes(layersKey(p)))])].filter(
      (p, i, a) => a.findIndex((q) => layersKey(q) === layersKey(p)) === i,
    );
    o.log?.(`timing ${specs.length} policies on this machine (${machine}): a few training steps each`);
    const t0 = performance.now();
    // Timing trains the weights: on a copy of the model, loaded for it.
    const copy = await loadModelFolder(modelDir);
    try {
      const timed = await timePolicySteps(copy, specs, { batch: o.batch, rounds: 3, log: o.log });
      const now = new Date().toISOString();
      // Shares from rounds of the same moment: the machine's speed drifts (shared cores), a ratio much less.
      const fullRounds = timed.find((t) => t.policy === 'full')!.rounds;
      for (const t of timed) {
        const share = median(t.rounds.map((x, r) => x / fullRounds[r]!));
        entry.policies[layersKey(t.policy)] = { spec: t.policy, share, seconds: t.seconds, rounds: t.rounds, cache: t.cache, measuredAt: now };
      }
    } finally {
      copy.model.dispose();
    }
    timing = (performance.now() - t0) / 1000;
    if (file && cache) {
      cache.entries[key] = entry;
      mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, `${JSON.stringify(cache, null, 1)}\n`);
    }
  }
  const full = entry.policies[layersKey('full')]!.seconds;
  // An entry from before shares were stored has seconds only.
  const shareOf = (m: CacheEntry['policies'][string]) => (typeof m.share === 'number' ? m.share : m.seconds / full);
  return {
    file,
    machine,
    full_seconds: full,
    timing_seconds: timing,
    prices: all.map((p) => {
      const m = entry.policies[layersKey(p)]!;
      // Seconds from the share and full's latest time: every policy priced at the same moment's speed.
      return { ...base(p), seconds: shareOf(m) * full, time_share: shareOf(m), cache: m.cache, source: missing.includes(layersKey(p)) ? 'measured' : 'cached' };
    }),
  };
}
