// The layout family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { concatKernel, splitVKernel } from './concat.js';
import { padV2Kernel } from './pad.js';
import { poolKernels } from './pool.js';
import { resizeKernels } from './resize.js';
import { reverseKernel } from './reverse.js';
import { sliceKernel } from './slice.js';
import { tileKernel } from './tile.js';
import { transposeKernel } from './transpose.js';

export const layoutKernels: (KernelConfig | null)[] = [
  concatKernel,
  splitVKernel,
  sliceKernel,
  transposeKernel,
  padV2Kernel,
  tileKernel,
  reverseKernel,
  ...poolKernels,
  ...resizeKernels,
];
