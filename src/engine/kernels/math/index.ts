// The math family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { unaryKernels } from './unary.js';

export const mathKernels: (KernelConfig | null)[] = [...unaryKernels];
