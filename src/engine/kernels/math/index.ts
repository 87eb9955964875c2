// The math family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { activationKernels } from './activation.js';
import { activationGradKernels } from './activation_grads.js';
import { addNKernel } from './addn.js';
import { batchNormKernel } from './batchnorm.js';
import { batchNormTrainingKernels } from './batchnorm_training.js';
import { binaryKernels } from './binary.js';
import { castKernel } from './cast.js';
import { compareKernels } from './compare.js';
import { fillKernels } from './fill.js';
import { selectKernel } from './select.js';
import { unaryKernels } from './unary.js';

export const mathKernels: (KernelConfig | null)[] = [
  ...unaryKernels,
  ...binaryKernels,
  ...compareKernels,
  selectKernel,
  castKernel,
  ...fillKernels,
  ...activationKernels,
  addNKernel,
  batchNormKernel,
  ...batchNormTrainingKernels,
  ...activationGradKernels,
];
