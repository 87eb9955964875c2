// The gradients of ReLU, ReLU6 and ClipByValue as one kernel each (native/src/math/activation.cc), for
// ops/activation_grads.ts; TF.js's own gradients run 3-5 kernels each (compare, and, select, step, cast, multiply):
// - UnetClipGrad: dx = clipValueMin <= x <= clipValueMax ? dy : 0;
// - UnetRelu6Grad: dx = dy * (0 < x <= 6), NaN where x is NaN;
// - UnetReluGrad: dx = dy * (0 < x), NaN where x is NaN.
import { allFloat32, f32, nativeKernel, output } from '../util.js';

export const CLIP_GRAD = 'UnetClipGrad';
export const RELU6_GRAD = 'UnetRelu6Grad';
export const RELU_GRAD = 'UnetReluGrad';

/** dx = dy * (0 < x <= hi). */
function stepGrad(kernelName: string, hi: number) {
  return nativeKernel(kernelName, 'math', ({ inputs }, native, backend) => {
    const { dy, x } = inputs;
    if (!allFloat32(dy, x)) throw new Error(`${kernelName}: float32 tensors only`);
    const dx = output(backend, x.shape);
    native.step_grad(f32(backend, dy), f32(backend, x), dx.values, hi);
    return dx.info;
  });
}

export const activationGradKernels = [
  nativeKernel(CLIP_GRAD, 'math', ({ inputs, attrs }, native, backend) => {
    const { dy, x } = inputs;
    if (!allFloat32(dy, x)) throw new Error(`${CLIP_GRAD}: float32 tensors only`);
    const dx = output(backend, x.shape);
    native.clip_grad(f32(backend, dy), f32(backend, x), dx.values, attrs.clipValueMin as number, attrs.clipValueMax as number);
    return dx.info;
  }),
  stepGrad(RELU6_GRAD, 6),
  stepGrad(RELU_GRAD, Infinity),
];
