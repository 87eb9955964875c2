// The train family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { adamUpdateKernelConfig } from './adam_update.js';
import { linearXentKernelConfig } from './linear_xent.js';
import { sparseXentKernelConfig } from './sparse_xent.js';

export const trainKernels: (KernelConfig | null)[] = [sparseXentKernelConfig, linearXentKernelConfig, adamUpdateKernelConfig];
