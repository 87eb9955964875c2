// Arithmetic binary kernels with broadcasting (native/src/math/binary.cc).
// float32 for all; int32 for the ops TF.js applies to integer tensors (metrics, counters).
import * as tf from '@tensorflow/tfjs-core';

import { binaryKernel, type BinarySpec } from './broadcast.js';

const FLOAT_INT: tf.DataType[] = ['float32', 'int32'];
const FLOAT: tf.DataType[] = ['float32'];

const SPECS: BinarySpec[] = [
  { kernel: tf.Add, fn: 'add', dtypes: FLOAT_INT },
  { kernel: tf.Sub, fn: 'sub', dtypes: FLOAT_INT },
  { kernel: tf.Multiply, fn: 'mul', dtypes: FLOAT_INT },
  { kernel: tf.RealDiv, fn: 'div', dtypes: FLOAT },
  { kernel: tf.Maximum, fn: 'max', dtypes: FLOAT_INT },
  { kernel: tf.Minimum, fn: 'min', dtypes: FLOAT_INT },
  { kernel: tf.SquaredDifference, fn: 'sqdiff', dtypes: FLOAT },
  { kernel: tf.Pow, fn: 'pow', dtypes: FLOAT },
  // The CPU kernel's output is int32 whatever the inputs (Math.floor(a / b) into an Int32Array).
  { kernel: tf.FloorDiv, fn: 'floordiv', dtypes: FLOAT_INT, out: 'int32' },
  { kernel: tf.Prelu, fn: 'prelu', dtypes: FLOAT, inputs: ['x', 'alpha'] },
];

export const binaryKernels = SPECS.map(binaryKernel);
