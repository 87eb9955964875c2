// The training step, the one place that changes weights: forward in training mode, gradients of the
// loss with respect to the trainable variables only (passed explicitly, never the engine's global
// trainable set), each multiplier group's optimizer applies its gradients, everything temporary is
// disposed. TF.js differentiates only along paths from the listed variables to the loss, so frozen
// weights get no gradient and nothing is back-propagated below the lowest trainable layer.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { hashKeys } from '../data/random.js';
import type { LossFn } from './losses/index.js';
import { setGroupRates, type LrGroup } from './lr_groups.js';

/** The Dropout layers of a model and their indices in model.layers (the key of their seeds). */
export function dropoutLayers(model: tfl.LayersModel): { layer: tfl.layers.Layer; index: number }[] {
  return model.layers.map((layer, index) => ({ layer, index })).filter(({ layer }) => layer.getClassName() === 'Dropout');
}

/**
 * Seeds every Dropout layer for one step from (seed, epoch, step, layer index): tfjs-layers' Dropout reads
 * `this.seed` when called, so the masks of a step are the same in a resumed run as in an uninterrupted one.
 */
export function seedDropouts(dropouts: { layer: tfl.layers.Layer; index: number }[], seed: number, epoch: number, step: number): void {
  for (const { layer, index } of dropouts) (layer as unknown as { seed: number }).seed = hashKeys(seed, 'dropout', epoch, step, index);
}

export interface StepInput {
  model: tfl.LayersModel;
  loss: LossFn;
  groups: LrGroup[];
  /** The base rate for this step (schedule included); each group uses it times its multiplier. */
  lr: number;
  /** The forward pass in training mode; default the whole model on the images (the activation cache passes the part after its frozen prefix). */
  forward?: (inputs: tf.Tensor4D | tf.Tensor[]) => tf.Tensor4D;
}

/** One optimisation step on a batch (images, or what `forward` takes); returns the batch loss (before the update). */
export function trainStep(s: StepInput, inputs: tf.Tensor4D | tf.Tensor[], masks: tf.Tensor3D): number {
  const vars = s.groups.flatMap((g) => g.variables.map((v) => v.variable));
  setGroupRates(s.groups, s.lr);
  const forward = s.forward ?? ((x: tf.Tensor4D | tf.Tensor[]) => s.model.apply(x, { training: true }) as tf.Tensor4D);
  const { value, grads } = tf.variableGrads(() => s.loss(forward(inputs), masks), vars);
  try {
    for (const g of s.groups) {
      g.optimizer.applyGradients(g.variables.map((v) => ({ name: v.variable.name, tensor: grads[v.variable.name]! })));
    }
    return value.dataSync()[0]!;
  } finally {
    tf.dispose(value);
    tf.dispose(grads);
  }
}
