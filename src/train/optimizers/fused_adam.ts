// FusedAdam: Adam (and AdamW) as a tf.Optimizer whose per-variable update is one fused kernel
// (UnetAdamUpdate) instead of tf.train.adam's ~12 element-wise kernels and temporaries. Same math
// as tf.train.adam, bias correction included; `weightDecay` > 0 adds AdamW's decoupled decay.
import * as tf from '@tensorflow/tfjs-core';

import { adamUpdate } from '../../engine/ops/adam_update.js';

export interface FusedAdamOptions {
  beta1?: number;
  beta2?: number;
  /** Default: the backend's epsilon (1e-7 for float32), as tf.train.adam. */
  epsilon?: number;
  /** AdamW's decoupled weight decay: var -= learningRate * weightDecay * var each step. 0: Adam. */
  weightDecay?: number;
}

/** tfjs-core's NamedTensor (not exported from its index). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

export class FusedAdam extends tf.Optimizer {
  static className = 'FusedAdam';

  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** First and second moments by variable name, in the order the variables were first seen. */
  private moments = new Map<string, Moments>();

  constructor(learningRate: number, options: FusedAdamOptions = {}) {
    super();
    this.learningRate = learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? tf.backend().epsilon();
    this.weightDecay = options.weightDecay ?? 0;
  }

  /** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay (PyTorch's default 0.01). */
  static adamw(learningRate: number, weightDecay = 0.01, options: Omit<FusedAdamOptions, 'weightDecay'> = {}): FusedAdam {
    return new FusedAdam(learningRate, { ...options, weightDecay });
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const attrs = {
      lr: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.epsilon,
      step: this.iterations + 1,
      weightDecay: this.weightDecay,
    };
    tf.tidy(() => {
      for (const [name, grad] of grads) {
        if (grad == null) continue;
        const variable = tf.engine().registeredVariables[name];
        if (!variable) throw new Error(`FusedAdam: no variable named ${name} is registered`);
        const state = this.momentsOf(name, variable);
        const [value, m, v] = adamUpdate(variable, grad, state.m, state.v, attrs);
        variable.assign(value);
        state.m.assign(m);
        state.v.assign(v);
      }
    });
    this.incrementIterations();
  }

  private momentsOf(name: string, variable: tf.Variable): Moments {
    let state = this.moments.get(name);
    if (!state) {
      // Unnamed: two optimizers over one model must not collide in the engine's variable registry.
      state = tf.tidy(() => ({ m: tf.zerosLike(variable).variable(false), v: tf.zerosLike(variable).variable(false) }));
      this.moments.set(name, state);
    }
    return state;
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    super.dispose();
  }

  /**
   * [iterations, `${var}/m`..., `${var}/v`...], as tf.train.adam names them, so a checkpoint
   * restores the exact state (and the two optimizers' checkpoints are interchangeable).
   * The iteration scalar is a new tensor that the caller owns; the moments are the live state.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const entries = [...this.moments];
    return [
      await this.saveIterations(),
      ...entries.map(([name, s]) => ({ name: `${name}/m`, tensor: s.m })),
      ...entries.map(([name, s]) => ({ name: `${name}/v`, tensor: s.v })),
    ];
  }

  /** Restores getWeights' output (the optimizer keeps its own references to the tensors). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const found = new Map<string, Partial<Record<'m' | 'v', tf.Tensor>>>();
    for (const { name, tensor } of rest) {
      const match = /^(.*)\/([mv])$/.exec(name);
      if (!match) throw new Error(`FusedAdam.setWeights: ${name} is not a moment (expected <variable>/m or <variable>/v)`);
      const entry = found.get(match[1]) ?? {};
      entry[match[2] as 'm' | 'v'] = tensor;
      found.set(match[1], entry);
    }
    for (const [name, { m, v }] of found) {
      if (!m || !v) throw new Error(`FusedAdam.setWeights: ${name} has only its ${m ? 'first' : 'second'} moment`);
    }
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments = new Map([...found].map(([name, { m, v }]) => [name, { m: m!.variable(false), v: v!.variable(false) }]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { learningRate, ...options } = config as unknown as { learningRate: number } & FusedAdamOptions;
    return new (cls as unknown as new (lr: number, o: FusedAdamOptions) => T)(learningRate, options);
  }
}

tf.serialization.registerClass(FusedAdam);
