// Loads the native kernel families (native/build/Release/unet_<family>.node).
// Like sharp's loader: when a family cannot load, say why and what to install, once.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAMILIES = ['conv', 'layout', 'math', 'reduce', 'train'] as const;
export type Family = (typeof FAMILIES)[number];

/** A native family: its kernels are plain functions over typed arrays (see native/src/<family>). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeFamily = { family: string; threads: number } & Record<string, any>;

export interface AddonStatus {
  loaded: Partial<Record<Family, NativeFamily>>;
  errors: Partial<Record<Family, string>>;
  buildDir: string;
}

/** The package root: the folder above dist/ (compiled) or src/ that holds package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'native'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('unet-transfer: cannot find the package root (package.json beside native/)');
    dir = up;
  }
  return dir;
}

export const INSTALL_HINT = 'install oneDNN (as root: apt-get install -y libdnnl-dev) and build the addon (npm run build:native)';

// How long an idle OpenMP thread spins before it sleeps. libgomp's default (300,000 spins, milliseconds)
// collapses when the cores are shared: with other processes busy, a 2-thread training step took 2.5 s
// spinning and 0.33 s sleeping at once (OMP_WAIT_POLICY=passive). But sleeping at once costs a wake-up at
// every parallel region, which small steps feel: the `head` policy's step went from 2.7 to 3.1 ms. A short
// spin (3,000, tens of microseconds) bridges the gaps between the kernels of a step and still gives the
// cores away under load (measured: 0.31 s per step with both cores busy elsewhere, 0.34 s passive, 0.54 s
// at 30,000). libgomp reads these when the first addon loads it, so they are set before that; a user's
// OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
/** Environment variables this module set (not the user): child processes such as the PyTorch peer get them removed. */
export const ENV_SET_HERE: string[] = [];
if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
  process.env.GOMP_SPINCOUNT = '3000';
  ENV_SET_HERE.push('GOMP_SPINCOUNT');
}

function load(): AddonStatus {
  const buildDir = join(packageRoot(), 'native', 'build', 'Release');
  const require = createRequire(import.meta.url);
  const status: AddonStatus = { loaded: {}, errors: {}, buildDir };
  if (process.env.UNET_TRANSFER_NO_NATIVE === '1') {
    for (const f of FAMILIES) status.errors[f] = 'disabled by UNET_TRANSFER_NO_NATIVE=1';
    return status;
  }
  for (const family of FAMILIES) {
    const file = join(buildDir, `unet_${family}.node`);
    if (!existsSync(file)) {
      status.errors[family] = `${file} is missing`;
      continue;
    }
    try {
      status.loaded[family] = require(file) as NativeFamily;
    } catch (e) {
      status.errors[family] = `${file} did not load: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return status;
}

export const addon: AddonStatus = load();

/** The family's functions, or undefined when it did not load (its kernels then stay on the CPU). */
export function family(name: Family): NativeFamily | undefined {
  return addon.loaded[name];
}
