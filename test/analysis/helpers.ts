// Fixtures of the analysis tests: tiny U-Nets (32x32, F=4), a tiny digit-scene set, weight edits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { DEFAULT_DIGIT_SCENES, generateDigitScenes } from '../../src/data/index.js';
import { buildUNet, type UNet, type UNetOptionsInput } from '../../src/model/index.js';

export const TINY: UNetOptionsInput = { arch: 'course', depth: 2, filters: 4, classes: 3, input: [32, 32, 1], seed: 1 };

export function tiny(o: UNetOptionsInput = {}): UNet {
  return buildUNet({ ...TINY, ...o });
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'unet-analysis-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 32x32 scenes of digits 0..1 (3 classes with background): 8 training and 8 validation scenes. */
export async function digitSet(dir: string, o: { seed?: number; digits?: [number, number] } = {}): Promise<string> {
  await generateDigitScenes(dir, { ...DEFAULT_DIGIT_SCENES, size: 32, count: 8, valCount: 8, digits: o.digits ?? [0, 1], seed: o.seed ?? 0 });
  return dir;
}

/** Adds `c` to every element of one weight of one layer. */
export function shiftWeight(u: UNet, layer: string, weight: string, c: number): void {
  const w = u.model.getLayer(layer).weights.find((x) => x.originalName.endsWith(`/${weight}`))!;
  const next = tf.tidy(() => tf.add(w.read(), c));
  w.write(next);
  next.dispose();
}

/** Adds seeded noise of scale `eps` to every weight of the model (a stand-in for a fine-tune). */
export function perturb(u: UNet, eps: number, seed = 3): void {
  u.model.layers.forEach((layer, li) => {
    for (const w of layer.weights) {
      if (/moving_variance/.test(w.originalName)) continue;
      const next = tf.tidy(() => tf.add(w.read(), tf.randomNormal(w.shape as number[], 0, eps, 'float32', seed + li)));
      w.write(next);
      next.dispose();
    }
  });
}
