// UnetLinearSoftmaxXent: a pointwise classifier (a 1x1 convolution: logits = features W + b) and the sparse
// softmax cross-entropy of its logits, forward and all gradients in one kernel
// (native/src/train/linear_xent.cc; the same math in JavaScript for `cpu`). The logits are never stored.
//   inputs: features [..., C] float32, kernel [1, 1, C, K] float32, labels [...] int32,
//           bias? [K] float32, classWeights? [K] float32
//   attrs: reluFeatures (boolean): the features are a ReLU's output; dfeatures is then masked by
//          [features > 0] (the gradient at the ReLU's input) and a fifth output holds its sum per channel
//   outputs: [loss [], dfeatures [..., C], dkernel [1, 1, C, K], dbias [K], (dfeatures summed [C])]
import type { KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

import { f32, i32, nativeKernel, output, zeroedOutput, type Backend } from '../util.js';
import { registerCpuKernel } from './cpu.js';
import { badLabelMessage } from './sparse_xent.js';

export const LINEAR_SOFTMAX_XENT = 'UnetLinearSoftmaxXent';

interface Parts {
  features: TensorInfo;
  kernel: TensorInfo;
  labels: TensorInfo;
  bias?: TensorInfo;
  classWeights?: TensorInfo;
}

const channels = (t: TensorInfo) => t.shape[t.shape.length - 1]!;

/** The reference implementation: one row at a time, logits in a scratch row. */
const linearXentJs: KernelFunc = ({ inputs, backend, attrs }) => {
  const relu = (attrs as { reluFeatures?: boolean } | undefined)?.reluFeatures === true;
  const cpu = backend as Backend;
  const { features, kernel, labels, bias, classWeights } = inputs as unknown as Parts;
  const read = (t: TensorInfo) => cpu.data.get(t.dataId).values as TypedArray;
  const h = read(features);
  const W = read(kernel);
  const y = read(labels);
  const b = bias ? read(bias) : null;
  const w = classWeights ? read(classWeights) : null;
  const C = channels(features);
  const K = channels(kernel);
  const rows = y.length;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const c = y[r]!;
    if (!(c >= 0 && c < K) || !Number.isInteger(c)) throw new RangeError(badLabelMessage(c, r, K));
    total += w ? w[c]! : 1;
  }
  const loss = output(cpu, []);
  const dh = output(cpu, features.shape);
  const dW = zeroedOutput(cpu, kernel.shape);
  const db = zeroedOutput(cpu, [K]);
  const dhSum = relu ? zeroedOutput(cpu, [C]) : null;
  const z = new Float64Array(K);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      let v = b ? b[k]! : 0;
      for (let c = 0; c < C; c++) v += h[r * C + c]! * W[c * K + k]!;
      z[k] = v;
    }
    const label = y[r]!;
    let m = z[0]!;
    for (let k = 1; k < K; k++) m = Math.max(m, z[k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[k]! - m);
    const wy = w ? w[label]! : 1;
    sum += wy * (Math.log(s) + m - z[label]!);
    for (let k = 0; k < K; k++) z[k] = (wy * (Math.exp(z[k]! - m) / s - (k === label ? 1 : 0))) / total;
    for (let c = 0; c < C; c++) {
      let d = 0;
      for (let k = 0; k < K; k++) {
        d += W[c * K + k]! * z[k]!;
        dW.values[c * K + k] += h[r * C + c]! * z[k]!;
      }
      dh.values[r * C + c] = relu && !(h[r * C + c]! > 0) ? 0 : d;
      if (dhSum) dhSum.values[c] += dh.values[r * C + c]!;
    }
    for (let k = 0; k < K; k++) db.values[k] += z[k]!;
  }
  loss.values[0] = sum / total;
  return dhSum ? [loss.info, dh.info, dW.info, db.info, dhSum.info] : [loss.info, dh.info, dW.info, db.info];
};

registerCpuKernel(LINEAR_SOFTMAX_XENT, linearXentJs);

export const linearXentKernelConfig = nativeKernel(LINEAR_SOFTMAX_XENT, 'train', ({ inputs, attrs }, native, backend) => {
  const { features, kernel, labels, bias, classWeights } = inputs as unknown as Parts;
  if ([features, kernel, bias, classWeights].some((t) => t && t.dtype !== 'float32') || labels.dtype !== 'int32') return null;
  if (!(backend.data.get(labels.dataId).values instanceof Int32Array)) return null;
  const K = channels(kernel);
  const loss = output(backend, []);
  const dh = output(backend, features.shape);
  const dW = output(backend, kernel.shape);
  const db = output(backend, [K]);
  const dhSum = attrs.reluFeatures === true ? output(backend, [channels(features)]) : null;
  const outputs = dhSum ? [loss, dh, dW, db, dhSum] : [loss, dh, dW, db];
  try {
    native.linearSoftmaxXent(
      f32(backend, features),
      f32(backend, kernel),
      bias ? f32(backend, bias) : null,
      i32(backend, labels),
      classWeights ? f32(backend, classWeights) : null,
      loss.values,
      dh.values,
      dW.values,
      db.values,
      channels(features),
      K,
      dhSum ? dhSum.values : null,
    );
  } catch (e) {
    // A bad label: free the outputs, which no tensor owns yet.
    for (const t of outputs) backend.disposeIntermediateTensorInfo(t.info);
    throw e;
  }
  return outputs.map((t) => t.info);
});
