// The `native` TF.js backend: the CPU backend's storage and every CPU kernel, with the kernels
// that touch large tensors replaced by native ones (oneDNN and OpenMP loops, see native/).
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';

import { addon, INSTALL_HINT } from './addon.js';
import { bufferPool } from './buffer_pool.js';
import { convKernels } from './kernels/conv/index.js';
import { layoutKernels } from './kernels/layout/index.js';
import { mathKernels } from './kernels/math/index.js';
import { reduceKernels } from './kernels/reduce/index.js';
import { trainKernels } from './kernels/train/index.js';
import { escapeInputs, VIEW_KERNELS } from './kernels/util.js';
import { profiler } from './profiler.js';

export const NATIVE = 'native';

/**
 * Same data store and kernels as `cpu`; a class of its own so that TF.js keeps the two apart. Disposed tensors'
 * arrays go back to the buffer pool; arrays handed to callers (dataSync, data) escape it.
 */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    quietCpuBanner(this);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) bufferPool.release(values);
    return released;
  }

  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    bufferPool.escape(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }
}

const NATIVE_KERNELS = [...convKernels, ...layoutKernels, ...mathKernels, ...reduceKernels, ...trainKernels].filter((k): k is tf.KernelConfig => k !== null);

/** The names of the kernels that run natively on this machine (their family loaded). */
export const nativeKernelNames: ReadonlySet<string> = new Set(NATIVE_KERNELS.map((k) => k.kernelName));

function registerNative(): void {
  if (tf.findBackendFactory(NATIVE)) return;
  // The plain `cpu` backend too, without its banner (it recommends tfjs-node, which cannot be installed here).
  const cpuFactory = tf.findBackendFactory('cpu');
  if (cpuFactory && !tf.engine().registry.cpu) {
    tf.removeBackend('cpu');
    tf.registerBackend(
      'cpu',
      () => {
        const b = cpuFactory();
        quietCpuBanner(b);
        return b;
      },
      1,
    );
  }
  tf.registerBackend(NATIVE, () => new NativeBackend(), 3);
  const native = new Map(NATIVE_KERNELS.map((k) => [k.kernelName, k]));
  for (const cpu of tf.getKernelsForBackend('cpu')) {
    if (native.has(cpu.kernelName)) continue;
    // Inherited kernels are timed here so that `bench --profile` sees the whole step.
    const name = cpu.kernelName;
    const run = cpu.kernelFunc;
    tf.registerKernel({
      ...cpu,
      backendName: NATIVE,
      kernelFunc: (args) => {
        if (VIEW_KERNELS.has(name)) escapeInputs(args);
        if (!profiler.active) return run(args);
        const start = performance.now();
        const out = run(args);
        profiler.record(name, false, performance.now() - start);
        return out;
      },
    });
  }
  for (const k of native.values()) tf.registerKernel(k);
}

registerNative();

/** Why the native engine is incomplete, or null when every family loaded. */
export function nativeProblem(): string | null {
  const errors = Object.entries(addon.errors);
  if (errors.length === 0) return null;
  return errors.map(([f, e]) => `${f}: ${e}`).join('; ');
}

/** The CPU backend prints a banner recommending tfjs-node (which cannot be installed here) on first use. */
function quietCpuBanner(backend: unknown): void {
  if (backend && typeof backend === 'object' && 'firstUse' in backend) (backend as { firstUse: boolean }).firstUse = false;
}

let warned = false;

/**
 * Selects the fastest backend available: `native`, or `cpu` with one loud warning when no native
 * family could load. Returns the name of the backend in use.
 */
export async function useBestBackend(preferred: 'native' | 'cpu' = 'native', warn: (m: string) => void = console.warn): Promise<string> {
  const problem = nativeProblem();
  if (preferred === 'native' && Object.keys(addon.loaded).length === 0) {
    if (!warned)
      warn(`unet-transfer: the native engine is unavailable (${problem}); running on the slow pure-JavaScript cpu backend. To fix: ${INSTALL_HINT}.`);
    warned = true;
    preferred = 'cpu';
  } else if (preferred === 'native' && problem && !warned) {
    warn(`unet-transfer: part of the native engine is unavailable (${problem}); those kernels run in JavaScript. To fix: ${INSTALL_HINT}.`);
    warned = true;
  }
  await tf.setBackend(preferred);
  await tf.ready();
  quietCpuBanner(tf.backend());
  return tf.getBackend();
}
