// Training-time kernels of a Conv2D layer with bias and ReLU (see ../../ops/conv_bias_relu.ts):
// - UnetConv2DBiasRelu: the forward pass, i.e. FusedConv2D with bias and relu or no activation (one oneDNN primitive);
// - UnetReluBiasGrad: dz = dy * (y > 0) and dbias = sum of dz over N,H,W, in one pass (relu_bias_grad.cc).
// Both also have a JavaScript version for `cpu` (and for `native` without the conv family).
import * as tf from '@tensorflow/tfjs-core';

import { registerCpuKernel } from '../train/cpu.js';
import { allFloat32, f32, nativeKernel, output, type Backend } from '../util.js';

export const CONV_BIAS_RELU = 'UnetConv2DBiasRelu';
export const RELU_BIAS_GRAD = 'UnetReluBiasGrad';

/** The forward pass on any backend is that backend's FusedConv2D (attrs.activation: relu or linear). */
const forward: tf.KernelFunc = (args) => {
  const fused = tf.getKernel(tf.FusedConv2D, tf.getBackend());
  if (!fused) throw new Error(`${CONV_BIAS_RELU}: backend ${tf.getBackend()} has no FusedConv2D kernel`);
  return fused.kernelFunc(args);
};

function reluBiasGradJs({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const b = backend as Backend;
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const c = dy.shape[dy.shape.length - 1];
  const dyv = b.data.get(dy.dataId).values as Float32Array;
  const yv = b.data.get(y.dataId).values as Float32Array;
  const dz = new Float32Array(dyv.length);
  const db = new Float64Array(c);
  for (let i = 0; i < dyv.length; i++) {
    const g = yv[i] > 0 ? dyv[i] : 0;
    dz[i] = g;
    db[i % c] += g;
  }
  return [b.makeTensorInfo(dy.shape, 'float32', dz), b.makeTensorInfo([c], 'float32', Float32Array.from(db))];
}

registerCpuKernel(CONV_BIAS_RELU, forward);
registerCpuKernel(RELU_BIAS_GRAD, reluBiasGradJs);

export const convBiasReluKernels = [
  { kernelName: CONV_BIAS_RELU, backendName: 'native', kernelFunc: forward } as tf.KernelConfig,
  nativeKernel(RELU_BIAS_GRAD, 'conv', ({ inputs }, native, backend) => {
    const { dy, y } = inputs;
    if (!allFloat32(dy, y)) return null;
    const c = dy.shape[dy.shape.length - 1];
    const dz = output(backend, dy.shape);
    const db = output(backend, [c]);
    native.reluBiasGrad(f32(backend, dy), f32(backend, y), dz.values, db.values, c);
    return [dz.info, db.info];
  }),
];
