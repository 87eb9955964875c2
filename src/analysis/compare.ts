// What a fine-tune changed and what mattered, in one call: weight drift per layer, block and region; with
// target data, linear CKA, reset sensitivity and transplant gain per block; with source data, what the
// fine-tune cost the old task (both models' mIoU there, CKA on source images). `unet-transfer diff` prints it.
import type * as tfl from '@tensorflow/tfjs-layers';

import { useBestBackend } from '../engine/index.js';
import { headClasses, loadModelFolder, sampleNormalizationOf, type ModelFolder } from '../model/index.js';
import { resolveModelDir } from '../model/resolve.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkInt } from '../util/check_options.js';
import { invalidOption } from '../util/errors.js';
import { blockCka } from './cka.js';
import { disposeData, evaluateOn, loadAnalysisData, type AnalysisData } from './data.js';
import { driftCsv, type FunctionalBlock } from './drift_csv.js';
import { resetSensitivity, type BlockReset } from './reset.js';
import { diffModels, type DriftReport } from './weight_drift.js';

export const DEFAULT_SAMPLES = 256;

export interface CompareOptions {
  /** The pretrained model (a model folder, or a run folder: its model/). */
  before: string;
  /** The fine-tuned model (a model folder, or a run folder: its model/). */
  after: string;
  /** Target data set: adds linear CKA, reset sensitivity and transplant gain per block. */
  data?: string;
  /** Source data set: both models' mIoU there and CKA on source images. */
  sourceData?: string;
  /** Images to use from each data set (its val/ split when it has one; default 256). */
  samples?: number;
  /** Images per forward pass (default 8). */
  batch?: number;
  /** Also write every row (layers, blocks, regions) with the functional measures as CSV. */
  csv?: string;
  log?: (line: string) => void;
}

export interface TargetComparison {
  data: string;
  split: AnalysisData['split'];
  samples: number;
  after_miou: number;
  before_miou: number;
  before_uses_new_head: boolean;
  cka_passes: number;
  blocks: (BlockReset & { layer: string | null; cka: number | null })[];
}

export interface SourceComparison {
  data: string;
  split: AnalysisData['split'];
  samples: number;
  before_miou: number;
  after_miou: number | null;
  note?: string;
  cka_passes: number;
  blocks: { block: string; layer: string; cka: number | null }[];
}

export interface Comparison extends DriftReport {
  before: string;
  after: string;
  target?: TargetComparison;
  source?: SourceComparison;
}

/** Compares a pretrained and a fine-tuned model (see CompareOptions); the result is what `diff --json` prints. */
export async function compareModels(o: CompareOptions): Promise<Comparison> {
  checkInt(o, 'samples', 2);
  checkInt(o, 'batch', 1);
  if (o.samples !== undefined && !o.data && !o.sourceData) throw invalidOption('samples', 'given only with options.data or options.sourceData', o.samples);
  const batch = o.batch ?? 8;
  const samples = o.samples ?? DEFAULT_SAMPLES;
  const names = { before: o.before, after: o.after };
  const log = o.log;
  await useBestBackend('native', log);
  const owned: tfl.LayersModel[] = [];
  const data: AnalysisData[] = [];
  const load = async (dir: string, option: string): Promise<ModelFolder> => {
    const folder = await loadModelFolder(resolveModelDir(dir, option));
    owned.push(folder.model);
    for (const w of folder.warnings) log?.(`warning: ${w}`);
    return folder;
  };
  try {
    const before = await load(o.before, 'before');
    const after = await load(o.after, 'after');
    const drift = diffModels(before, after, { names });
    const result: Comparison = { before: before.dir, after: after.dir, ...drift };
    const functional = new Map<string, FunctionalBlock>();
    if (o.data) {
      const d = await loadAnalysisData(o.data, {
        input: after.options.input,
        classes: after.options.classes,
        headMode: after.headMode,
        normalize: sampleNormalizationOf(after.options),
        samples,
      });
      data.push(d);
      log?.(`target: ${d.images.shape[0]} images of ${o.data} (${d.split === 'val' ? 'val/ split' : 'all pairs'})`);
      const cka = blockCka(before, after, d.images, { batchSize: batch, names, onProgress: log ? (i, n) => log(`  CKA: group ${i}/${n}`) : undefined });
      const reset = resetSensitivity(before, after, d, {
        classes: after.options.classes,
        batchSize: batch,
        names,
        onProgress: log ? (i, n) => log(`  reset/transplant: ${i}/${n}`) : undefined,
      });
      for (const b of reset.blocks) {
        functional.set(b.block, {
          cka: cka.blocks.find((c) => c.block === b.block)?.cka ?? null,
          reset_sensitivity: b.reset_sensitivity,
          transplant_gain: b.transplant_gain,
        });
      }
      result.target = {
        data: o.data,
        split: d.split,
        samples: d.images.shape[0],
        after_miou: reset.after_miou,
        before_miou: reset.before_miou,
        before_uses_new_head: reset.before_uses_new_head,
        cka_passes: cka.passes,
        blocks: reset.blocks.map((b) => ({ ...b, layer: cka.blocks.find((c) => c.block === b.block)?.layer ?? null, cka: functional.get(b.block)!.cka })),
      };
    }
    if (o.sourceData) {
      const d = await loadAnalysisData(o.sourceData, {
        input: before.options.input,
        classes: before.options.classes,
        headMode: before.headMode,
        normalize: sampleNormalizationOf(before.options),
        samples,
      });
      data.push(d);
      log?.(`source: ${d.images.shape[0]} images of ${o.sourceData} (${d.split === 'val' ? 'val/ split' : 'all pairs'})`);
      const beforeMiou = evaluateOn(before.model, before.options.classes, d, batch).miou;
      const sameHead = after.options.classes === before.options.classes && after.headMode === before.headMode;
      const afterMiou = sameHead ? evaluateOn(after.model, after.options.classes, d, batch).miou : null;
      const cka = blockCka(before, after, d.images, { batchSize: batch, names, onProgress: log ? (i, n) => log(`  source CKA: group ${i}/${n}`) : undefined });
      for (const c of cka.blocks) {
        const f = functional.get(c.block) ?? { cka: null, reset_sensitivity: null, transplant_gain: null };
        f.source_cka = c.cka;
        functional.set(c.block, f);
      }
      result.source = {
        data: o.sourceData,
        split: d.split,
        samples: d.images.shape[0],
        before_miou: beforeMiou,
        after_miou: afterMiou,
        ...(sameHead
          ? {}
          : {
              note: `AFTER predicts ${headClasses(after.headMode, after.options.classes)} classes (${after.headMode} head), the source ${headClasses(before.headMode, before.options.classes)} (${before.headMode}): its source mIoU is undefined`,
            }),
        cka_passes: cka.passes,
        blocks: cka.blocks.map((c) => ({ block: c.block, layer: c.layer, cka: c.cka })),
      };
    }
    if (o.csv) writeFileAtomic(o.csv, driftCsv(drift, functional));
    return result;
  } finally {
    for (const d of data) disposeData(d);
    for (const m of owned) m.dispose();
  }
}
