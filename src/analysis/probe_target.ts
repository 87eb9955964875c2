// The gradient probe from folders: load the pretrained model (with a fresh head when the target has another
// class count, as finetune would make it) and the target images, and measure where the target pulls.
import type * as tfl from '@tensorflow/tfjs-layers';

import { useBestBackend } from '../engine/index.js';
import { headChannels, loadModelFolder, sampleNormalizationOf } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { modelForTarget } from '../train/new_head.js';
import { checkInt } from '../util/check_options.js';
import { disposeData, loadAnalysisData, type AnalysisData } from './data.js';
import { probe, type ProbeReport } from './probe.js';

export interface ProbeTargetOptions {
  /** The pretrained model (a model folder, or a run folder: its model/). */
  model: string;
  /** The target data set (its val/ split when it has one). */
  data: string;
  /** Target images to average over (default 64). */
  samples?: number;
  /** Images per batch (default 8). */
  batch?: number;
  /** Seed of the new head when the target has another class count (default 0, as finetune). */
  seed?: number;
  log?: (line: string) => void;
}

export interface ProbeTargetReport extends ProbeReport {
  model: string;
  data: string;
  split: AnalysisData['split'];
  /** The target has another class count: the probe ran with a fresh head. */
  new_head: boolean;
  target_classes: number;
}

/** Relative gradient norm per layer and block at the pretrained weights on target batches (Auto-RGN). */
export async function probeTarget(o: ProbeTargetOptions): Promise<ProbeTargetReport> {
  checkInt(o, 'samples', 1);
  checkInt(o, 'batch', 1);
  checkInt(o, 'seed', 0);
  await useBestBackend('native', o.log);
  const folder = await loadModelFolder(resolveModelDir(o.model, 'model'));
  for (const w of folder.warnings) o.log?.(`warning: ${w}`);
  const owned: tfl.LayersModel[] = [folder.model];
  let data: AnalysisData | null = null;
  try {
    const { newHead, targetClasses, ...model } = await modelForTarget(folder, o.data, o.seed ?? 0);
    if (newHead) owned.push(model.model);
    data = await loadAnalysisData(o.data, {
      input: folder.options.input,
      classes: headChannels(folder.headMode, targetClasses),
      headMode: folder.headMode,
      normalize: sampleNormalizationOf(folder.options),
      samples: o.samples ?? 64,
    });
    const r = probe(model, data, { batchSize: o.batch ?? 8, onProgress: o.log ? (i, n) => o.log!(`  batch ${i}/${n}`) : undefined });
    return { model: folder.dir, data: o.data, split: data.split, new_head: newHead, target_classes: targetClasses, ...r };
  } finally {
    disposeData(data);
    for (const x of owned) x.dispose();
  }
}
