// adamUpdate: one fused Adam / AdamW step of one variable (the UnetAdamUpdate kernel); returns
// the new variable value and moments without touching the inputs.
import * as tf from '@tensorflow/tfjs-core';

import '../backend.js';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../kernels/train/adam_update.js';

export type { AdamUpdateAttrs };

export function adamUpdate(variable: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  for (const [what, t] of [
    ['grad', grad],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!tf.util.arraysEqual(t.shape, variable.shape)) {
      throw new Error(`adamUpdate: ${what} [${t.shape}] does not match the variable [${variable.shape}]`);
    }
  }
  const inputs = { var: variable, grad, m, v };
  return tf.engine().runKernel(ADAM_UPDATE, inputs, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
