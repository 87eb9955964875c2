// Shared fixtures of the training tests: tiny digit-scene data sets, tiny U-Nets, a quick training run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { DEFAULT_DIGIT_SCENES, generateDigitScenes } from '../../src/data/index.js';
import { useBestBackend } from '../../src/engine/index.js';
import { buildUNet, sampleNormalizationOf, type UNet, type UNetOptionsInput } from '../../src/model/index.js';
import { stableWeights } from '../../src/train/freeze.js';
import { makeLoss } from '../../src/train/losses/index.js';
import { planTraining, runTraining, type TrainConfig, type TrainResult } from '../../src/train/trainer.js';
import { modelClassesFrom, openTrainingData } from '../../src/train/training_data.js';
import type { Phase } from '../../src/train/unfreeze.js';

export async function useNative(): Promise<void> {
  // Not IS_TEST: TF.js's per-kernel leak check flags the native cross-entropy kernel (reported to the lead).
  await useBestBackend('native', () => {});
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'unet-train-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 32x32 scenes of digits 0..(classes-2): 16 training and 8 validation scenes. */
export async function digitSet(dir: string, o: { digits?: [number, number]; count?: number; seed?: number } = {}): Promise<string> {
  await generateDigitScenes(dir, { ...DEFAULT_DIGIT_SCENES, size: 32, count: o.count ?? 16, valCount: 8, digits: o.digits ?? [0, 2], seed: o.seed ?? 0 });
  return dir;
}

export const TINY: UNetOptionsInput = { arch: 'course', depth: 2, filters: 4, classes: 4, input: [32, 32, 1], seed: 1 };

export function tinyUNet(o: UNetOptionsInput = {}): UNet {
  return buildUNet({ ...TINY, ...o });
}

export const BASE_CONFIG: TrainConfig = {
  epochs: 1,
  batch: 4,
  lr: 1e-2,
  seed: 3,
  loss: 'ce',
  classWeights: 'none',
  optimizer: 'adam',
  weightDecay: 0.01,
  momentum: 0.9,
  schedule: 'constant',
  train: 'all',
  unfreeze: null,
  trainBn: false,
  lrMult: null,
  lrSpread: null,
  earlyStop: null,
  val: 0.2,
  augment: 'none',
};

/** Trains `unet` in process on `data` into `runDir`; the model's weights change in place. */
export async function trainTiny(
  unet: UNet,
  data: string,
  runDir: string,
  c: Partial<TrainConfig> = {},
  extra: { phases?: Phase[]; onEpoch?: (e: { epoch: number }) => void; cache?: { enabled: boolean; limitMb?: number }; log?: (line: string) => void } = {},
): Promise<TrainResult> {
  const config = { ...BASE_CONFIG, ...c };
  const plan = planTraining(config);
  const td = openTrainingData(data, {
    valFraction: config.val,
    seed: config.seed,
    input: unet.options.input,
    modelClasses: unet.options.classes,
    augment: plan.augment,
    normalize: sampleNormalizationOf(unet.options),
  });
  return runTraining({
    runDir,
    finalModelDir: join(runDir, 'model'),
    config,
    plan: { ...plan, phases: extra.phases ?? plan.phases },
    unet,
    classes: modelClassesFrom(td.ds.classes, td.classes),
    data: td,
    loss: makeLoss('ce'),
    provenance: {},
    log: extra.log ?? (() => {}),
    progress: false,
    logEvery: 0,
    onEpoch: extra.onEpoch,
    cache: extra.cache,
  });
}

/** Every weight of the model by stable name, copied. */
export function snapshot(model: tfl.LayersModel): Map<string, Float32Array> {
  return new Map([...stableWeights(model)].map(([k, w]) => [k, (w.read().dataSync() as Float32Array).slice()]));
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
