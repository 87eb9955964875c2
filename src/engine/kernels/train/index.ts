// The train family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

export const trainKernels: (KernelConfig | null)[] = [];
