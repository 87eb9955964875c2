// The reduce family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { argKernelConfigs } from './arg.js';
import { cumsumKernelConfig } from './cumsum.js';
import { oneHotKernelConfig } from './one_hot.js';
import { reduceKernelConfigs } from './reduce.js';
import { softmaxKernelConfig } from './softmax.js';

export const reduceKernels: (KernelConfig | null)[] = [
  ...reduceKernelConfigs,
  ...argKernelConfigs,
  softmaxKernelConfig,
  oneHotKernelConfig,
  cumsumKernelConfig,
];
