// UnetAdamUpdate: one fused Adam / AdamW step of one variable (native/src/train/adam.cc; the same
// math in JavaScript for `cpu`). The variable is updated out of place: its buffer may be shared with other
// tensors (tf.variable(t) and assign() share data), so it is never written. The moments are updated in place
// when nothing else can see their buffers (one reference, a pool array nobody read out): the new m and v are
// the old tensors' data. Out of place, every weight size needed two more buffers at the optimizer step, the
// moments' new values next to the old (resnet34's training peak was 52 MB higher).
//   inputs: var, grad, m, v (float32, one shape)
//   attrs: lr, beta1, beta2, eps, step (1 for the first update), weightDecay (AdamW; 0 for Adam)
//   outputs: [new var, new m, new v]
import type { KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

import { bufferPool } from '../../buffer_pool.js';
import { allFloat32, f32, nativeKernel, output, type Backend } from '../util.js';
import { registerCpuKernel } from './cpu.js';

export const ADAM_UPDATE = 'UnetAdamUpdate';

export interface AdamUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  weightDecay: number;
}

const adamUpdateJs: KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = backend as Backend;
  const t = inputs as Record<string, TensorInfo>;
  const { lr, beta1, beta2, eps, step, weightDecay } = attrs as unknown as AdamUpdateAttrs;
  const [x, g, m, v] = ['var', 'grad', 'm', 'v'].map((k) => cpu.data.get(t[k].dataId).values as TypedArray);
  const [x2, m2, v2] = [0, 1, 2].map(() => output(cpu, t.var.shape));
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const keep = 1 - lr * weightDecay;
  for (let i = 0; i < x.length; i++) {
    const mi = (m2.values[i] = m[i] * beta1 + g[i] * (1 - beta1));
    const vi = (v2.values[i] = v[i] * beta2 + g[i] * g[i] * (1 - beta2));
    x2.values[i] = x[i] * keep - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
  return [x2.info, m2.info, v2.info];
};

registerCpuKernel(ADAM_UPDATE, adamUpdateJs);

export const adamUpdateKernelConfig = nativeKernel(ADAM_UPDATE, 'train', ({ inputs, attrs }, native, backend) => {
  const { var: x, grad, m, v } = inputs;
  if (!allFloat32(x, grad, m, v)) return null;
  const { lr, beta1, beta2, eps, step, weightDecay } = attrs as AdamUpdateAttrs;
  const x2 = output(backend, x.shape);
  const [m2, v2] = [m, v].map((t) => (exclusive(backend, t) ? reuse(backend, t) : output(backend, x.shape)));
  native.adamUpdate(
    f32(backend, x),
    f32(backend, grad),
    f32(backend, m),
    f32(backend, v),
    x2.values,
    m2.values,
    v2.values,
    lr,
    beta1,
    beta2,
    eps,
    step,
    weightDecay,
  );
  return [x2.info, m2.info, v2.info];
});

/** A tensor whose buffer only this tensor refers to, and which nothing outside the engine has read. */
function exclusive(backend: Backend, t: TensorInfo): boolean {
  const entry = backend.data.get(t.dataId);
  return entry !== undefined && entry.refCount === 1 && bufferPool.owns(entry.values);
}

/** t itself as a kernel output (its data, one more reference): the kernel writes its new values over the old. */
function reuse(backend: Backend, t: TensorInfo): { info: TensorInfo; values: Float32Array } {
  backend.incRef(t.dataId);
  return { info: { dataId: t.dataId, shape: t.shape, dtype: t.dtype }, values: f32(backend, t) };
}
