// `diff BEFORE AFTER` (what changed between a pretrained and a fine-tuned model, and what mattered) and
// `probe` (before fine-tuning: where the target data pulls the model, Auto-RGN). The analyses live in
// src/analysis; this file only loads models and data and formats the results (table, JSON, CSV).
import {
  compareModels,
  DEFAULT_SAMPLES,
  MEASURES,
  probeTarget,
  type AggregateDrift,
  type DriftReport,
  type LayerDrift,
  type ProbeReport,
} from '../../analysis/index.js';
import { UsageError } from '../../util/errors.js';
import { intOption, type Command, type ParsedArgs } from '../command.js';

const str = (args: ParsedArgs, name: string): string | null => {
  const v = args.values[name];
  return typeof v === 'string' ? v : null;
};

/** A number for a table: '-' for null, 4 decimals, or 3 significant digits for small values. */
export function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  if (Math.abs(x) >= 1e5) return x.toExponential(3);
  return x.toFixed(4);
}

/** Columns before `left` are left-aligned (names), the rest right-aligned (numbers). */
function table(header: string[], rows: string[][], left = 3): string[] {
  const width = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r.length === header.length ? (r[i] ?? '').length : i === 0 ? (r[0] ?? '').length : 0))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < left || r.length < header.length ? c.padEnd(width[i]!) : c.padStart(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function driftTable(r: DriftReport): string[] {
  const header = ['layer', 'block', 'region', ...MEASURES];
  const rows: string[][] = [];
  const measureCells = (m: LayerDrift | AggregateDrift) => MEASURES.map((k) => fmtNum(m[k]));
  const blocks = [...new Set([...r.layers.map((l) => l.block), ...r.replaced.map((l) => l.block)])];
  for (const block of blocks) {
    for (const l of r.layers.filter((x) => x.block === block))
      rows.push([l.weight === 'kernel' ? l.layer : `${l.layer}/${l.weight}`, l.block, l.region, ...measureCells(l)]);
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

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare a model before and after fine-tuning, layer by layer: weight drift, and with --data what the changes do',
  usage: 'BEFORE AFTER [--json] [--csv FILE] [--data DIR [--samples N]] [--source-data DIR]',
  options: {
    csv: { type: 'string', valueName: 'FILE', description: 'also write every row (layers, blocks, regions) as CSV' },
    data: { type: 'string', valueName: 'DIR', description: 'target data set: adds linear CKA, reset sensitivity and transplant gain per block' },
    samples: { type: 'string', valueName: 'N', description: `images to use from each data set (its val/ split when it has one; default ${DEFAULT_SAMPLES})` },
    'source-data': {
      type: 'string',
      valueName: 'DIR',
      description: "source data set: both models' mIoU there and CKA on source images (what the fine-tune cost the old task)",
    },
    batch: { type: 'string', valueName: 'N', description: 'images per forward pass (default 8)' },
  },
  examples: [
    'unet-transfer diff models/digits runs/full',
    'unet-transfer diff models/digits runs/full --data data/speckle --samples 128 --csv drift.csv',
    'unet-transfer diff models/digits runs/full --data data/speckle --source-data data/source --json',
  ],
  async run(args, io) {
    if (args.positionals.length !== 2)
      throw new UsageError(`diff takes two folders, BEFORE and AFTER (model or run folders), got ${args.positionals.length} (see: unet-transfer diff --help)`);
    const [before, after] = args.positionals as [string, string];
    const samples = args.values.samples === undefined ? undefined : intOption(args, 'samples', 2, 100000);
    const data = str(args, 'data') ?? undefined;
    const sourceData = str(args, 'source-data') ?? undefined;
    if (samples !== undefined && !data && !sourceData) throw new UsageError('--samples needs --data DIR or --source-data DIR');
    const csv = str(args, 'csv') ?? undefined;
    const r = await compareModels({
      before,
      after,
      data,
      sourceData,
      samples,
      csv,
      batch: args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096),
      log: !io.json && !io.quiet ? io.err : (l) => (l.startsWith('warning:') ? io.err(l) : undefined),
    });
    if (io.json) {
      io.out(JSON.stringify(r));
      return 0;
    }
    io.out(`BEFORE ${r.before}`);
    io.out(`AFTER  ${r.after}`);
    io.out('');
    io.out('Weight drift per layer (kernels; "= block" rows aggregate by sum of squares):');
    for (const line of driftTable(r)) io.out(line);
    if (r.target) {
      const t = r.target;
      io.out('');
      io.out(
        `Target ${data} (${t.samples} images): mIoU fine-tuned ${fmtNum(t.after_miou)}, pretrained ${fmtNum(t.before_miou)}${t.before_uses_new_head ? ' (pretrained weights with the new head)' : ''}`,
      );
      const rows = t.blocks.map((b) => [
        b.block,
        fmtNum(b.cka),
        fmtNum(b.reset_miou),
        fmtNum(b.reset_sensitivity),
        fmtNum(b.transplant_miou),
        fmtNum(b.transplant_gain),
      ]);
      for (const line of table(['block', 'cka', 'reset_miou', 'reset_sensitivity', 'transplant_miou', 'transplant_gain'], rows, 1)) io.out(line);
    }
    if (r.source) {
      const s = r.source;
      io.out('');
      io.out(
        `Source ${sourceData} (${s.samples} images): mIoU pretrained ${fmtNum(s.before_miou)}, fine-tuned ${s.after_miou === null ? '- (another class count)' : fmtNum(s.after_miou)}`,
      );
      for (const line of table(
        ['block', 'cka_source'],
        s.blocks.map((b) => [b.block, fmtNum(b.cka)]),
        1,
      ))
        io.out(line);
    }
    if (csv) io.out(`\nwrote ${csv}`);
    return 0;
  },
};

function probeTable(r: ProbeReport): string[] {
  const rows: string[][] = [];
  for (const b of r.blocks) {
    for (const l of r.layers.filter((x) => x.block === b.block))
      rows.push([l.layer, l.block, l.region, String(l.parameters), fmtNum(l.rgn), fmtNum(l.rgn_kernel), String(l.rank)]);
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
    const r = await probeTarget({
      model: m,
      data: d,
      samples: args.values.samples === undefined ? undefined : intOption(args, 'samples', 1, 100000),
      batch: args.values.batch === undefined ? undefined : intOption(args, 'batch', 1, 4096),
      seed: args.values.seed === undefined ? undefined : intOption(args, 'seed', 0, 2 ** 31 - 1),
      log: !io.json && !io.quiet ? io.err : (l) => (l.startsWith('warning:') ? io.err(l) : undefined),
    });
    if (io.json) {
      const { target_classes: _t, ...rest } = r;
      io.out(JSON.stringify(rest));
      return 0;
    }
    io.out(
      `Model ${r.model}, target ${d} (${r.samples} images, ${r.batches} batches${r.new_head ? `, new ${r.target_classes}-class head (seed ${args.values.seed ?? 0})` : ''}); mean loss ${fmtNum(r.loss)}`,
    );
    io.out('Relative gradient norm ||grad W|| / ||W|| at the pretrained weights (rank 1 = pulled hardest):');
    for (const line of probeTable(r)) io.out(line);
    return 0;
  },
};

export const ANALYSIS_COMMANDS: Command[] = [diffCommand, probeCommand];
