// The engine: importing it registers the `native` backend (see backend.ts) and the fused Conv2D layer path.
import './fused_conv_layer.js';

export { NATIVE, NativeBackend, nativeKernelNames, nativeProblem, useBestBackend } from './backend.js';
export { addon, INSTALL_HINT } from './addon.js';
export { profiler, type KernelRecord } from './profiler.js';
export { bufferPool } from './buffer_pool.js';
export {
  PRECISION_SETTINGS, NO_BF16_ENV, cpuCapabilities, parsePrecision, resolvePrecision, setPrecision, getPrecision, withPrecision,
  convPrecisionCounts, convImplementations,
  type Precision, type PrecisionSetting, type CpuCapabilities, type ConvImplementation,
} from './precision.js';
