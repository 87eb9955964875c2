// UnetSparseSoftmaxXent: the fused sparse softmax cross-entropy forward, which also returns the
// gradient (native/src/train/sparse_xent.cc; the same math in JavaScript for `cpu`).
//   inputs: logits [..., K] float32, labels [...] int32, classWeights? [K] float32
//   outputs: [loss [] (mean, or sum(w_y * nll) / sum(w_y) with weights), dlogits [..., K]]
import type { KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

import { f32, i32, nativeKernel, output, type Backend } from '../util.js';
import { registerCpuKernel } from './cpu.js';

export const SPARSE_SOFTMAX_XENT = 'UnetSparseSoftmaxXent';

export function badLabelMessage(label: number, position: number, classes: number): string {
  return `sparseSoftmaxCrossEntropy: label ${label} at position ${position} is outside [0, ${classes})`;
}

/** The reference implementation: two passes (weights and label checks, then one row at a time). */
const sparseXentJs: KernelFunc = ({ inputs, backend }) => {
  const cpu = backend as Backend;
  const { logits, labels, classWeights } = inputs as Record<string, TensorInfo | undefined>;
  const x = cpu.data.get(logits!.dataId).values as TypedArray;
  const y = cpu.data.get(labels!.dataId).values as TypedArray;
  const w = classWeights ? (cpu.data.get(classWeights.dataId).values as TypedArray) : null;
  const K = logits!.shape[logits!.shape.length - 1];
  const rows = y.length;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const c = y[r];
    if (!(c >= 0 && c < K) || !Number.isInteger(c)) throw new RangeError(badLabelMessage(c, r, K));
    total += w ? w[c] : 1;
  }
  const loss = output(cpu, []);
  const dx = output(cpu, logits!.shape);
  const g = dx.values;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * K;
    const c = y[r];
    let m = x[o];
    for (let k = 1; k < K; k++) m = x[o + k] > m ? x[o + k] : m;
    let s = 0;
    for (let k = 0; k < K; k++) s += g[o + k] = Math.exp(x[o + k] - m);
    const wy = w ? w[c] : 1;
    sum += wy * (Math.log(s) + m - x[o + c]);
    const f = wy / total / s;
    for (let k = 0; k < K; k++) g[o + k] *= f;
    g[o + c] -= wy / total;
  }
  loss.values[0] = sum / total;
  return [loss.info, dx.info];
};

registerCpuKernel(SPARSE_SOFTMAX_XENT, sparseXentJs);

export const sparseXentKernelConfig = nativeKernel(SPARSE_SOFTMAX_XENT, 'train', ({ inputs }, native, backend) => {
  const { logits, labels, classWeights } = inputs as Record<string, TensorInfo | undefined>;
  if (logits!.dtype !== 'float32' || labels!.dtype !== 'int32' || (classWeights && classWeights.dtype !== 'float32')) return null;
  if (!(backend.data.get(labels!.dataId).values instanceof Int32Array)) return null;
  const loss = output(backend, []);
  const dx = output(backend, logits!.shape);
  try {
    native.sparseSoftmaxXent(
      f32(backend, logits!),
      i32(backend, labels!),
      classWeights ? f32(backend, classWeights) : null,
      loss.values,
      dx.values,
      logits!.shape[logits!.shape.length - 1],
    );
  } catch (e) {
    // A bad label: free the outputs, which no tensor owns yet.
    backend.disposeIntermediateTensorInfo(loss.info);
    backend.disposeIntermediateTensorInfo(dx.info);
    throw e;
  }
  return [loss.info, dx.info];
});
