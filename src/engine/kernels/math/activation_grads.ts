// The gradients of ReLU6 and ClipByValue as one kernel each (native/src/math/activation.cc), for
// ops/activation_grads.ts; TF.js's own gradients run 4-5 kernels each (compare, and, select, cast, multiply):
// - UnetClipGrad: dx = clipValueMin <= x <= clipValueMax ? dy : 0;
// - UnetRelu6Grad: dx = dy * (0 < x <= 6), NaN where x is NaN.
import { allFloat32, f32, nativeKernel, output } from '../util.js';

export const CLIP_GRAD = 'UnetClipGrad';
export const RELU6_GRAD = 'UnetRelu6Grad';

export const activationGradKernels = [
  nativeKernel(CLIP_GRAD, 'math', ({ inputs, attrs }, native, backend) => {
    const { dy, x } = inputs;
    if (!allFloat32(dy, x)) throw new Error(`${CLIP_GRAD}: float32 tensors only`);
    const dx = output(backend, x.shape);
    native.clip_grad(f32(backend, dy), f32(backend, x), dx.values, attrs.clipValueMin as number, attrs.clipValueMax as number);
    return dx.info;
  }),
  nativeKernel(RELU6_GRAD, 'math', ({ inputs }, native, backend) => {
    const { dy, x } = inputs;
    if (!allFloat32(dy, x)) throw new Error(`${RELU6_GRAD}: float32 tensors only`);
    const dx = output(backend, x.shape);
    native.relu6_grad(f32(backend, dy), f32(backend, x), dx.values);
    return dx.info;
  }),
];
