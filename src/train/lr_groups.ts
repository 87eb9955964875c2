// Per-region learning rates. `--lr-mult encoder=0.1,bottleneck=0.3` multiplies the rate of the layers a
// selector names (any freeze-spec selector: region, block, block range, layer glob; later rules win);
// `--lr-spread LO:HI` spreads rates geometrically over the blocks from the input side (LO, at enc1) to
// the head (HI), as fastai's `slice(lo, hi)`. Both combine by multiplication. Training keeps one
// optimizer per distinct multiplier over the variables of that group and sets each group's rate before
// every step (base rate x schedule factor x multiplier), so optimizer state never mixes groups.
import type * as tf from '@tensorflow/tfjs-core';

import type { LayerMap } from '../model/layer-map.js';
import { invalidOption, OptionError } from '../util/errors.js';
import type { TrainableVariable } from './freeze.js';
import { resolveTrainSpec } from './freeze_spec.js';
import { setLearningRate } from './optimizers/index.js';

export interface LrMultRule {
  selector: string;
  mult: number;
}

export function parseLrMult(text: string | undefined): LrMultRule[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((part) => {
    const m = /^\s*([^=\s]+)\s*=\s*([^\s]+)\s*$/.exec(part);
    const mult = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(mult) || mult < 0) {
      throw new OptionError('lrMult', `: "${part}" must look like SELECTOR=MULT with MULT >= 0, e.g. encoder=0.1,bottleneck=0.3`);
    }
    return { selector: m[1]!, mult };
  });
}

/** `1e-5:1e-3` -> { lo, hi } with 0 < lo <= hi. */
export function parseLrSpread(text: string): { lo: number; hi: number } {
  const m = /^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(lo > 0 && hi >= lo && Number.isFinite(hi))) throw invalidOption('lrSpread', 'LO:HI with 0 < LO <= HI, e.g. 1e-5:1e-3', text);
  return { lo, hi };
}

/**
 * The rate multiplier of every layer: the product of the `rules` that name it (the last rule naming a
 * layer wins) and, with `spreadRatio` = HI/LO > 1, the geometric spread over blocks in U order, 1 at the head.
 */
export function layerMultipliers(layerMap: LayerMap, rules: LrMultRule[], spreadRatio = 1): Map<string, number> {
  const out = new Map<string, number>(layerMap.layers.map((l) => [l.name, 1]));
  for (const rule of rules) {
    let layers: string[];
    try {
      layers = resolveTrainSpec(rule.selector, layerMap).trainable;
    } catch (e) {
      throw new OptionError('lrMult', `${rule.selector}=${rule.mult}: ${(e as Error).message.replace(/^options\.train [^:]*: /, '')}`);
    }
    for (const name of layers) out.set(name, rule.mult);
  }
  if (spreadRatio !== 1) {
    const n = layerMap.blocks.length;
    const spread = new Map(layerMap.blocks.map((b, i) => [b.name, n > 1 ? spreadRatio ** ((i - (n - 1)) / (n - 1)) : 1]));
    for (const l of layerMap.layers) out.set(l.name, out.get(l.name)! * spread.get(l.block)!);
  }
  return out;
}

export interface LrGroup {
  mult: number;
  optimizer: tf.Optimizer;
  /** In model order; the step passes their gradients in this order (SGD-momentum's state is positional). */
  variables: TrainableVariable[];
  /** The blocks with variables in this group (for reports). */
  blocks: string[];
}

/** One group (and optimizer) per distinct multiplier, in order of first appearance; multiplier 0 freezes. */
export function buildLrGroups(vars: TrainableVariable[], multipliers: Map<string, number>, makeOptimizer: () => tf.Optimizer): LrGroup[] {
  const groups: LrGroup[] = [];
  for (const v of vars) {
    const mult = multipliers.get(v.layer) ?? 1;
    if (mult === 0) continue;
    let g = groups.find((x) => x.mult === mult);
    if (!g) {
      g = { mult, optimizer: makeOptimizer(), variables: [], blocks: [] };
      groups.push(g);
    }
    g.variables.push(v);
    if (!g.blocks.includes(v.block)) g.blocks.push(v.block);
  }
  return groups;
}

/** Sets every group's rate to `lr` x its multiplier. */
export function setGroupRates(groups: LrGroup[], lr: number): void {
  for (const g of groups) setLearningRate(g.optimizer, lr * g.mult);
}

export function disposeGroups(groups: LrGroup[]): void {
  for (const g of groups) g.optimizer.dispose();
}
