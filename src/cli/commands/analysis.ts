// `diff BEFORE AFTER` (what changed between a pretrained and a fine-tuned model, and what mattered) and
// `probe` (before fine-tuning: where the target data pulls the model, Auto-RGN). The analyses live in
// src/analysis; this file only loads models and data and formats the results (table, JSON, CSV).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import {
  blockCka,
  diffModels,
  disposeData,
  evaluateOn,
  loadAnalysisData,
  probe,
  resetSensitivity,
  type AggregateDrift,
  type AnalysisData,
  type CkaReport,
  type DriftReport,
  type LayerDrift,
  type ProbeReport,
  type ResetReport,
} from '../../analysis/index.js';
import { openFolderDataset } from '../../data/index.js';
import { useBestBackend } from '../../engine/index.js';
import { loadModelFolder, type ModelFolder } from '../../model/index.js';
import { withNewHead } from '../../train/new_head.js';
import { headChannels, headClasses } from '../../model/head_mode.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UsageError, UserError } from '../../util/errors.js';
import { intOption, type CommandIO, type Command, type ParsedArgs } from '../command.js';

const DEFAULT_SAMPLES = 256;

const str = (args: ParsedArgs, name: string): string | null => {
  const v = args.values[name];
  return typeof v === 'string' ? v : null;
};

/** A model folder, or a run folder's model/ (a folder without model.json that has one). */
export function modelDirOf(dir: string, what: string): string {
  if (existsSync(join(dir, 'model.json'))) return dir;
  if (existsSync(join(dir, 'model', 'model.json'))) return join(dir, 'model');
  if (!existsSync(dir)) throw new UserError(`${dir}: no such folder (${what}: expected a model folder or a run folder)`);
  throw new UserError(`${dir}: has no model.json, nor model/model.json (${what}: expected a model folder or a run folder)`);
}

async function loadModel(dir: string, what: string, io: CommandIO): Promise<ModelFolder> {
  const folder = await loadModelFolder(modelDirOf(dir, what));
  for (const w of folder.warnings) io.err(`warning: ${w}`);
  return folder;
}

/** A number for a table: '-' for null, 4 decimals, or 3 significant digits for small values. */
export function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  if (Math.abs(x) >= 1e5) return x.toExponential(3);
  return x.toFixed(4);
}

/** Columns before `left` are left-aligned (names), the rest right-aligned (numbers). */
function table(header: string[], rows: string[][], left = 3): string[] {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r.length === header.length ? (r[i] ?? '').length : i === 0 ? (r[0] ?? '').length : 0))));
  const line = (r: string[]) => r.map((c, i) => (i < left || r.length < header.length ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const MEASURES = ['abs', 'rel', 'rms', 'cos', 'filter_max', 'filter_median', 'spectral', 'bias_abs', 'bias_rel'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface FunctionalBlock {
  cka: number | null;
  reset_sensitivity: number | null;
  transplant_gain: number | null;
  source_cka?: number | null;
}

/** Every row (layers, replaced layers, blocks, regions, total) as CSV, with the block's functional measures. */
export function driftCsv(r: DriftReport, functional: Map<string, FunctionalBlock>): string {
  const cols = ['level', 'name', 'layer', 'block', 'region', 'weight', 'n', ...MEASURES, 'moving_mean_rel', 'moving_variance_rel', 'replaced', 'cka', 'reset_sensitivity', 'transplant_gain', 'source_cka'];
  const out = [cols.join(',')];
  const row = (o: Record<string, unknown>) => out.push(cols.map((c) => csvCell(o[c])).join(','));
  for (const l of r.layers) row({ level: 'layer', name: l.layer, ...l });
  for (const l of r.replaced) row({ level: 'layer', name: l.layer, ...l });
  for (const b of r.blocks) row({ level: 'block', ...b, block: b.name, ...(functional.get(b.name) ?? {}) });
  for (const g of r.regions) row({ level: 'region', ...g });
  row({ level: 'total', ...r.total });
  return `${out.join('\n')}\n`;
}

function driftTable(r: DriftReport): string[] {
  const header = ['layer', 'block', 'region', ...MEASURES];
  const rows: string[][] = [];
  const measureCells = (m: LayerDrift | AggregateDrift) => MEASURES.map((k) => fmtNum(m[k]));
  const blocks = [...new Set([...r.layers.map((l) => l.block), ...r.replaced.map((l) => l.block)])];
  for (const block of blocks) {
    for (const l of r.layers.filter((x) => x.block === block)) rows.push([l.weight === 'kernel' ? l.layer : `${l.layer}/${l.weight}`, l.block, l.region, ...measureCells(l)]);
    for (const l of r.replaced.filter((x) => x.block === block)) {
      rows.push([l.layer, l.block, l.region, `replaced: new head, ${l.shape_before.at(-1)} -> ${l.shape_after.at(-1)} classes (not compared)`]);
    }
    const agg = r.blocks.find((b) => b.name === block);
    if (agg) rows.push([`= ${block}`, block, agg.region, ...measureCells(agg)]);
  }
  for (const g of r.regions) rows.push([`= ${g.name}`, '', g.name, ...measureCells(g)]);
  rows.push(['= total', '', '', ...measureCells(r.total)]);
  return table(header, rows);
}

async function loadTargetData(dir: string, folder: ModelFolder, samples: number | undefined): Promise<AnalysisData> {
  return loadAnalysisData(dir, { input: folder.options.input, classes: folder.options.classes, headMode: folder.headMode, samples: samples ?? DEFAULT_SAMPLES });
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare a model before and after fine-tuning, layer by layer: weight drift, and with --data what the changes do',
  usage: 'BEFORE AFTER [--json] [--csv FILE] [--data DIR [--samples N]] [--source-data DIR]',
  options: {
    csv: { type: 'string', valueName: 'FILE', description: 'also write every row (layers, blocks, regions) as CSV' },
    data: { type: 'string', valueName: 'DIR', description: 'target data set: adds linear CKA, reset sensitivity and transplant gain per block' },
    samples: { type: 'string', valueName: 'N', description: `images to use from each data set (its val/ split when it has one; default ${DEFAULT_SAMPLES})` },
    'source-data': { type: 'string', valueName: 'DIR', description: 'source data set: both models\' mIoU there and CKA on source images (what the fine-tune cost the old task)' },
    batch: { type: 'string', valueName: 'N', description: 'images per forward pass (default 8)' },
  },
  examples: [
    'unet-transfer diff models/digits runs/full',
    'unet-transfer diff models/digits runs/full --data data/speckle --samples 128 --csv drift.csv',
    'unet-transfer diff models/digits runs/full --data data/speckle --source-data data/source --json',
  ],
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError(`diff takes two folders, BEFORE and AFTER (model or run folders), got ${args.positionals.length} (see: unet-transfer diff --help)`);
    const [beforeDir, afterDir] = args.positionals as [string, string];
    const samples = args.values.samples === undefined ? undefined : intOption(args, 'samples', 2, 100000);
    const batch = args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096);
    const dataDir = str(args, 'data');
    const sourceDir = str(args, 'source-data');
    if (samples !== undefined && !dataDir && !sourceDir) throw new UsageError('--samples needs --data DIR or --source-data DIR');
    const csvFile = str(args, 'csv');
    const names = { before: beforeDir, after: afterDir };
    const progress = !io.json && !io.quiet;
    await useBestBackend('native', io.err);
    const owned: tfl.LayersModel[] = [];
    const data: AnalysisData[] = [];
    try {
      const before = await loadModel(beforeDir, 'BEFORE', io);
      owned.push(before.model);
      const after = await loadModel(afterDir, 'AFTER', io);
      owned.push(after.model);
      const drift = diffModels(before, after, { names });
      const result: Record<string, unknown> = { before: before.dir, after: after.dir, ...drift };
      const functional = new Map<string, FunctionalBlock>();
      let target: { data: AnalysisData; cka: CkaReport; reset: ResetReport } | null = null;
      if (dataDir) {
        const d = await loadTargetData(dataDir, after, samples);
        data.push(d);
        if (progress) io.err(`target: ${d.images.shape[0]} images of ${dataDir} (${d.split === 'val' ? 'val/ split' : 'all pairs'})`);
        const cka = blockCka(before, after, d.images, { batchSize: batch, names, onProgress: progress ? (i, n) => io.err(`  CKA: group ${i}/${n}`) : undefined });
        const reset = resetSensitivity(before, after, d, { classes: after.options.classes, batchSize: batch, names, onProgress: progress ? (i, n) => io.err(`  reset/transplant: ${i}/${n}`) : undefined });
        target = { data: d, cka, reset };
        for (const b of reset.blocks) {
          functional.set(b.block, { cka: cka.blocks.find((c) => c.block === b.block)?.cka ?? null, reset_sensitivity: b.reset_sensitivity, transplant_gain: b.transplant_gain });
        }
        result.target = {
          data: dataDir,
          split: d.split,
          samples: d.images.shape[0],
          after_miou: reset.after_miou,
          before_miou: reset.before_miou,
          before_uses_new_head: reset.before_uses_new_head,
          cka_passes: cka.passes,
          blocks: reset.blocks.map((b) => ({ ...b, layer: cka.blocks.find((c) => c.block === b.block)?.layer ?? null, cka: functional.get(b.block)!.cka })),
        };
      }
      let source: Record<string, unknown> | null = null;
      if (sourceDir) {
        const d = await loadTargetData(sourceDir, before, samples);
        data.push(d);
        if (progress) io.err(`source: ${d.images.shape[0]} images of ${sourceDir} (${d.split === 'val' ? 'val/ split' : 'all pairs'})`);
        const beforeMiou = evaluateOn(before.model, before.options.classes, d, batch).miou;
        const sameHead = after.options.classes === before.options.classes;
        const afterMiou = sameHead ? evaluateOn(after.model, after.options.classes, d, batch).miou : null;
        const cka = blockCka(before, after, d.images, { batchSize: batch, names, onProgress: progress ? (i, n) => io.err(`  source CKA: group ${i}/${n}`) : undefined });
        for (const c of cka.blocks) {
          const f = functional.get(c.block) ?? { cka: null, reset_sensitivity: null, transplant_gain: null };
          f.source_cka = c.cka;
          functional.set(c.block, f);
        }
        source = {
          data: sourceDir,
          split: d.split,
          samples: d.images.shape[0],
          before_miou: beforeMiou,
          after_miou: afterMiou,
          ...(sameHead ? {} : { note: `AFTER predicts ${after.options.classes} classes, the source ${before.options.classes}: its source mIoU is undefined` }),
          cka_passes: cka.passes,
          blocks: cka.blocks.map((c) => ({ block: c.block, layer: c.layer, cka: c.cka })),
        };
        result.source = source;
      }
      if (csvFile) writeFileAtomic(csvFile, driftCsv(drift, functional));
      if (io.json) {
        io.out(JSON.stringify(result));
        return 0;
      }
      io.out(`BEFORE ${before.dir}`);
      io.out(`AFTER  ${after.dir}`);
      io.out('');
      io.out('Weight drift per layer (kernels; "= block" rows aggregate by sum of squares):');
      for (const line of driftTable(drift)) io.out(line);
      if (target) {
        const r = target.reset;
        io.out('');
        io.out(`Target ${dataDir} (${r.samples} images): mIoU fine-tuned ${fmtNum(r.after_miou)}, pretrained ${fmtNum(r.before_miou)}${r.before_uses_new_head ? ' (pretrained weights with the new head)' : ''}`);
        const rows = r.blocks.map((b) => [b.block, fmtNum(functional.get(b.block)?.cka), fmtNum(b.reset_miou), fmtNum(b.reset_sensitivity), fmtNum(b.transplant_miou), fmtNum(b.transplant_gain)]);
        for (const line of table(['block', 'cka', 'reset_miou', 'reset_sensitivity', 'transplant_miou', 'transplant_gain'], rows, 1)) io.out(line);
      }
      if (source) {
        const s = source as { samples: number; before_miou: number; after_miou: number | null; blocks: { block: string; cka: number | null }[] };
        io.out('');
        io.out(`Source ${sourceDir} (${s.samples} images): mIoU pretrained ${fmtNum(s.before_miou)}, fine-tuned ${s.after_miou === null ? '- (another class count)' : fmtNum(s.after_miou)}`);
        for (const line of table(['block', 'cka_source'], s.blocks.map((b) => [b.block, fmtNum(b.cka)]), 1)) io.out(line);
      }
      if (csvFile) io.out(`\nwrote ${csvFile}`);
      return 0;
    } finally {
      for (const d of data) disposeData(d);
      for (const m of owned) m.dispose();
    }
  },
};

function probeTable(r: ProbeReport): string[] {
  const rows: string[][] = [];
  for (const b of r.blocks) {
    for (const l of r.layers.filter((x) => x.block === b.block)) rows.push([l.layer, l.block, l.region, String(l.parameters), fmtNum(l.rgn), fmtNum(l.rgn_kernel), String(l.rank)]);
    rows.push([`= ${b.block}`, b.block, b.region, String(b.parameters), fmtNum(b.rgn), '', String(b.rank)]);
  }
  return table(['layer', 'block', 'region', 'parameters', 'rgn', 'rgn_kernel', 'rank'], rows);
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'before fine-tuning: relative gradient norm per layer and block on target batches (Auto-RGN), where the target pulls',
  usage: '--model M --data DIR [--samples N] [--json]',
  options: {
    model: { type: 'string', valueName: 'M', description: 'the pretrained model: a model folder, or a run folder (its model/)' },
    data: { type: 'string', valueName: 'DIR', description: 'the target data set (its val/ split when it has one)' },
    samples: { type: 'string', valueName: 'N', description: 'target images to average over (default 64)' },
    batch: { type: 'string', valueName: 'N', description: 'images per batch (default 8)' },
    seed: { type: 'string', valueName: 'S', description: 'seed of the new head when the target has another class count (default 0, as finetune)' },
  },
  examples: ['unet-transfer probe --model models/digits --data data/speckle', 'unet-transfer probe --model models/digits --data data/newdigits --json'],
  async run(args, io) {
    const m = str(args, 'model');
    const d = str(args, 'data');
    if (!m) throw new UsageError('--model M is required (a model folder or a run folder)');
    if (!d) throw new UsageError('--data DIR is required');
    if (args.positionals.length > 0) throw new UsageError(`probe takes no positional arguments, got ${args.positionals.join(' ')}`);
    const samples = args.values.samples === undefined ? 64 : intOption(args, 'samples', 1, 100000);
    const batch = args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096);
    const seed = args.values.seed === undefined ? 0 : intOption(args, 'seed', 0, 2 ** 31 - 1);
    await useBestBackend('native', io.err);
    const folder = await loadModel(m, '--model', io);
    const owned: tfl.LayersModel[] = [folder.model];
    let data: AnalysisData | null = null;
    try {
      const modelClasses = headClasses(folder.headMode, folder.options.classes);
      const targetClasses = folder.headMode === 'binary' ? 2 : (openFolderDataset(d).classes?.numClasses ?? modelClasses);
      let model = { model: folder.model, layerMap: folder.layerMap };
      const newHead = targetClasses !== modelClasses;
      if (newHead) {
        const u = await withNewHead(folder, targetClasses, seed);
        owned.push(u.model);
        model = u;
      }
      data = await loadAnalysisData(d, { input: folder.options.input, classes: headChannels(folder.headMode, targetClasses), headMode: folder.headMode, samples });
      const r = probe(model, data, { batchSize: batch, onProgress: !io.json && !io.quiet ? (i, n) => io.err(`  batch ${i}/${n}`) : undefined });
      if (io.json) {
        io.out(JSON.stringify({ model: folder.dir, data: d, split: data.split, new_head: newHead, ...r }));
        return 0;
      }
      io.out(`Model ${folder.dir}, target ${d} (${r.samples} images, ${r.batches} batches${newHead ? `, new ${targetClasses}-class head (seed ${seed})` : ''}); mean loss ${fmtNum(r.loss)}`);
      io.out('Relative gradient norm ||grad W|| / ||W|| at the pretrained weights (rank 1 = pulled hardest):');
      for (const line of probeTable(r)) io.out(line);
      return 0;
    } finally {
      disposeData(data);
      for (const x of owned) x.dispose();
    }
  },
};

export const ANALYSIS_COMMANDS: Command[] = [diffCommand, probeCommand];
