// The conv family's kernel configs (one file per kernel or kernel group in this folder).
import type { KernelConfig } from '@tensorflow/tfjs-core';

import { backpropKernels } from './backprop.js';
import { conv2dKernels } from './conv2d.js';
import { convBiasReluKernels } from './conv_bias_relu.js';
import { depthwiseKernels } from './depthwise.js';

export const convKernels: (KernelConfig | null)[] = [...conv2dKernels, ...backpropKernels, ...convBiasReluKernels, ...depthwiseKernels];
