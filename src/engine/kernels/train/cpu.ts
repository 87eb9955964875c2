// The train family's kernels are the project's own (no TF.js kernel of that name exists), so each
// also has a plain-JavaScript version registered for `cpu`. backend.ts copies that version to
// `native` when the native family did not load, and nativeKernel falls back on it.
import { getKernel, registerKernel, type KernelFunc } from '@tensorflow/tfjs-core';

export function registerCpuKernel(kernelName: string, kernelFunc: KernelFunc): void {
  if (!getKernel(kernelName, 'cpu')) registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
}
