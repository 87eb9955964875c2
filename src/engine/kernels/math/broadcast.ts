// The factory of broadcasting binary kernels (native/src/math/elementwise.h): y = op(a, b) with
// numpy broadcasting, rank <= 6. The native side collapses the broadcast and picks a vectorised
// loop per pattern (same shape, scalar on either side, [C] along the last axis, general strides).
import { backend_util, type DataType, type KernelConfig } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../util.js';

import { allocate, denseAll, SUFFIX } from './values.js';

export const MAX_RANK = 6;

export interface BinarySpec {
  /** TF.js kernel name. */
  kernel: string;
  /** Native function prefix: the function called is `${fn}_${suffix of the input dtype}`. */
  fn: string;
  /** Input dtypes computed natively (both inputs share it); others go to the CPU kernel. */
  dtypes: DataType[];
  /** The output dtype when it is not the inputs' (bool for comparisons, int32 for FloorDiv). */
  out?: DataType;
  /** The kernel's input names, when not `a` and `b`. */
  inputs?: [string, string];
  /** Call `${fn}` itself, without a dtype suffix (ops defined for one dtype only). */
  bare?: boolean;
}

export function binaryKernel(spec: BinarySpec): KernelConfig | null {
  const [aName, bName] = spec.inputs ?? ['a', 'b'];
  return nativeKernel(spec.kernel, 'math', ({ inputs }, native, backend) => {
    const a = inputs[aName];
    const b = inputs[bName];
    if (a.dtype !== b.dtype || !spec.dtypes.includes(a.dtype)) return null;
    if (a.shape.length > MAX_RANK || b.shape.length > MAX_RANK) return null;
    const values = denseAll(backend, a, b);
    if (values === null) return null;
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const y = allocate(backend, shape, spec.out ?? a.dtype);
    native[spec.bare ? spec.fn : `${spec.fn}_${SUFFIX[a.dtype]}`](values[0], a.shape, values[1], b.shape, y.values, shape);
    return y.info;
  });
}
