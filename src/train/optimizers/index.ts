// The optimizers by name: `adam` and `adamw` (FusedAdam, one fused kernel per variable; AdamW with
// decoupled weight decay, default 0.01 as PyTorch), `sgd` (SGD with momentum 0.9, tf.train.momentum).
// The learning rate is set before every step (schedules, per-group multipliers) with setLearningRate.
import * as tf from '@tensorflow/tfjs-core';

import { invalidOption } from '../../util/errors.js';
import { FusedAdam } from './fused_adam.js';

export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  /** AdamW's decoupled weight decay (default 0.01); ignored by adam and sgd. */
  weightDecay?: number;
  /** SGD's momentum (default 0.9). */
  momentum?: number;
}

export function parseOptimizerName(text: string): OptimizerName {
  if (!(OPTIMIZERS as readonly string[]).includes(text)) throw invalidOption('optimizer', `one of ${OPTIMIZERS.join(', ')}`, text);
  return text as OptimizerName;
}

export function makeOptimizer(name: OptimizerName, learningRate: number, o: OptimizerOptions = {}): tf.Optimizer {
  switch (name) {
    case 'adam':
      return new FusedAdam(learningRate);
    case 'adamw':
      return FusedAdam.adamw(learningRate, o.weightDecay ?? 0.01);
    case 'sgd':
      return tf.train.momentum(learningRate, o.momentum ?? 0.9);
  }
}

export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  if (opt instanceof FusedAdam) opt.learningRate = lr;
  else if (opt instanceof tf.SGDOptimizer) opt.setLearningRate(lr);
  else throw new Error(`setLearningRate: unsupported optimizer ${opt.getClassName()}`);
}

export { FusedAdam } from './fused_adam.js';
