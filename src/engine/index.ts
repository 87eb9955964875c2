// The engine: importing it registers the `native` backend (see backend.ts), the fused Conv2D and training-mode
// BatchNormalization layer paths, and the one-kernel ReLU6 / ClipByValue gradients on `native`.
import './fused_conv_layer.js';
import './fused_batchnorm_layer.js';
import './ops/activation_grads.js';

export { NATIVE, NativeBackend, nativeKernelNames, nativeProblem, useBestBackend } from './backend.js';
export { addon, INSTALL_HINT } from './addon.js';
export { profiler, type KernelRecord } from './profiler.js';
export { bufferPool } from './buffer_pool.js';
export {
  PRECISION_SETTINGS,
  NO_BF16_ENV,
  cpuCapabilities,
  parsePrecision,
  resolvePrecision,
  setPrecision,
  getPrecision,
  withPrecision,
  convPrecisionCounts,
  convImplementations,
  convPhaseTimes,
  type ConvPhaseTimes,
  type Precision,
  type PrecisionSetting,
  type CpuCapabilities,
  type ConvImplementation,
} from './precision.js';
