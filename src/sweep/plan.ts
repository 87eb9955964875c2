// A sweep's plan: one fine-tune per (policy, seed), all with the same budget (epochs, batch, rate), written to
// DIR/plan.json so that any array-job runner can run trial i by index (`sweep run --trial i`). The plan also
// records each policy's cost known before training: trainable parameters and convolution FLOPs per step.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { PrecisionSetting } from '../engine/precision.js';
import { trainingStepFlops, type UNet } from '../model/index.js';
import { policyCost } from '../train/cost.js';
import { resolveTrainSpec } from '../train/freeze_spec.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export const PLAN_FORMAT = 'unet-transfer/sweep-plan';
export const MAX_TRIALS = 10_000;

/** What every trial shares: the budget and the data. */
export interface SweepSettings {
  model: string;
  data: string;
  policies: string[];
  seeds: number[];
  epochs: number;
  batch: number;
  lr: number;
  val: number;
  /** Training samples per trial, evenly spaced over the split (short trials of the advisor); absent: all. */
  trainSamples?: number;
  /** The trials' convolution precision (engine/precision.ts); absent: fp32. */
  precision?: PrecisionSetting;
}

export interface PolicyCost {
  policy: string;
  /** The trainable blocks, in U order. */
  blocks: string[];
  trainable_parameters: number;
  /** Share of the model's trainable parameters. */
  params_share: number;
  /** Convolution FLOPs of one training step at the sweep's batch size, the cached frozen prefix left out (src/train/cost.ts). */
  flops_per_step: number;
  /** flops_per_step over that of `full`. */
  flops_share: number;
  from_scratch: boolean;
}

export interface Trial {
  index: number;
  policy: string;
  seed: number;
  /** Folder name under DIR/trials/. */
  name: string;
}

export interface SweepPlan extends SweepSettings {
  format: typeof PLAN_FORMAT;
  version: 1;
  createdAt: string;
  total_parameters: number;
  costs: PolicyCost[];
  trials: Trial[];
}

/** A policy as a folder-name part: `decoder+head` stays, `shallow:2` -> `shallow-2`, anything odd -> `-`. */
export function policySlug(policy: string): string {
  return policy.replace(/[^A-Za-z0-9_+.-]/g, '-').slice(0, 60) || 'policy';
}

export const planPath = (dir: string) => join(dir, 'plan.json');
export const trialsDir = (dir: string) => join(dir, 'trials');

/** `full,decoder , head` -> unique, non-empty policy names (order kept). */
export function parsePolicies(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new UserError('options.policies: name at least one policy, e.g. full,decoder,head');
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p)) throw new UserError(`options.policies: ${p} is listed twice`);
    seen.add(p);
  }
  return list;
}

/** Cost of each policy on this model (the `full` reference is computed even when not swept). */
export function policyCosts(unet: Pick<UNet, 'model' | 'layerMap'>, policies: string[], batch: number): PolicyCost[] {
  const total = unet.layerMap.trainableParameters;
  const fullFlops = trainingStepFlops(unet, batch).total;
  return policies.map((policy) => {
    // A policy is a freeze spec whose items are joined by '+' (so that it fits in a comma-separated list).
    const r = resolveTrainSpec(policy, unet.layerMap);
    const params = r.trainable.reduce((s, n) => s + (unet.layerMap.layer(n)?.trainableParameters ?? 0), 0);
    // As the trial trains it: the frozen prefix's forward pass is cached (sweeps do not augment).
    const flops = policyCost(unet, batch, r.trainable).total;
    return {
      policy,
      blocks: r.blocks,
      trainable_parameters: params,
      params_share: total > 0 ? params / total : 0,
      flops_per_step: flops,
      flops_share: fullFlops > 0 ? flops / fullFlops : 0,
      from_scratch: r.fromScratch,
    };
  });
}

export function makePlan(s: SweepSettings, unet: Pick<UNet, 'model' | 'layerMap'>): SweepPlan {
  if (s.policies.length * s.seeds.length > MAX_TRIALS)
    throw new UserError(`the sweep would have ${s.policies.length * s.seeds.length} trials; at most ${MAX_TRIALS}`);
  const costs = policyCosts(unet, s.policies, s.batch);
  const trials: Trial[] = [];
  // Seed-major order: with fewer workers than trials, every policy gets its first seed early.
  for (const seed of s.seeds) {
    for (const policy of s.policies) {
      const index = trials.length;
      trials.push({ index, policy, seed, name: `${index}-${policySlug(policy)}-s${seed}` });
    }
  }
  return {
    format: PLAN_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    ...s,
    model: resolve(s.model),
    data: resolve(s.data),
    total_parameters: unet.layerMap.trainableParameters,
    costs,
    trials,
  };
}

/** The settings that decide trial results; a plan may be reused only when these are equal. */
function settingsKey(s: SweepSettings): string {
  const key: unknown[] = [resolve(s.model), resolve(s.data), s.policies, s.seeds, s.epochs, s.batch, s.lr, s.val];
  // Plans of full-size fp32 trials keep the key they had before these settings existed.
  if (s.trainSamples !== undefined) key.push({ trainSamples: s.trainSamples });
  if ((s.precision ?? 'fp32') !== 'fp32') key.push(s.precision);
  return JSON.stringify(key);
}

export function readPlan(dir: string): SweepPlan {
  const file = planPath(dir);
  if (!existsSync(file))
    throw new UserError(`${dir}: not a sweep folder (no plan.json); plan one there first (planSweep, or the sweep plan command, with options.out ${dir})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const p = json as Partial<SweepPlan>;
  if (p.format !== PLAN_FORMAT || p.version !== 1 || !Array.isArray(p.trials) || !Array.isArray(p.costs) || !Array.isArray(p.policies)) {
    throw new UserError(`${file}: not a sweep plan (expected format ${PLAN_FORMAT}, version 1, with trials and costs)`);
  }
  for (const [i, t] of p.trials.entries()) {
    if (!t || t.index !== i || typeof t.policy !== 'string' || !Number.isInteger(t.seed) || typeof t.name !== 'string' || !/^[A-Za-z0-9_+.-]+$/.test(t.name)) {
      throw new UserError(`${file}: trial ${i} is malformed (index, policy, seed and a plain folder name expected)`);
    }
  }
  return p as SweepPlan;
}

/**
 * Writes DIR/plan.json, or keeps the one there when it has the same settings (so that `sweep` can be rerun
 * to finish a sweep). A plan with other settings is an error unless `replace` (finished trials stay on disk,
 * but the new plan names its own trials).
 */
export function writePlan(dir: string, plan: SweepPlan, replace = false): { plan: SweepPlan; reused: boolean } {
  mkdirSync(trialsDir(dir), { recursive: true });
  if (existsSync(planPath(dir))) {
    const old = readPlan(dir);
    if (settingsKey(old) === settingsKey(plan)) return { plan: old, reused: true };
    // More policies, same everything else: the old trials keep their indices, the new ones come after.
    const added = plan.policies.filter((p) => !old.policies.includes(p));
    if (
      settingsKey({ ...old, policies: [] }) === settingsKey({ ...plan, policies: [] }) &&
      old.policies.every((p) => plan.policies.includes(p)) &&
      added.length > 0
    ) {
      const trials = [...old.trials];
      for (const seed of old.seeds) {
        for (const policy of added) trials.push({ index: trials.length, policy, seed, name: `${trials.length}-${policySlug(policy)}-s${seed}` });
      }
      const extended: SweepPlan = {
        ...old,
        policies: [...old.policies, ...added],
        costs: [...old.costs, ...plan.costs.filter((c) => added.includes(c.policy))],
        trials,
      };
      writeFileAtomic(planPath(dir), `${JSON.stringify(extended, null, 1)}\n`);
      return { plan: extended, reused: true };
    }
    if (!replace) {
      throw new UserError(
        `${planPath(dir)}: holds a sweep with other settings (model, data, policies, seeds, epochs, batch, lr, val or precision differ); use another options.out, or options.force to replace the plan and its trials`,
      );
    }
    // Trial folders are named by index: results of the old plan must not pass for the new one's.
    rmSync(trialsDir(dir), { recursive: true, force: true });
    mkdirSync(trialsDir(dir), { recursive: true });
  }
  writeFileAtomic(planPath(dir), `${JSON.stringify(plan, null, 1)}\n`);
  return { plan, reused: false };
}
