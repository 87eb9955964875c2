// What a report shows, gathered from a folder: a sweep (plan.json), a run (run.json) or a diff (diff.json,
// the output of `unet-transfer diff --json`). Run and sweep folders get weight drift computed from the
// pretrained and fine-tuned models, and a grid of sample predictions.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { diffModels, type DriftReport } from '../analysis/index.js';
import { loadModelFolder } from '../model/index.js';
import { isRunFolder, readMetrics, readRunJson } from '../train/run_folder.js';
import { UserError } from '../util/errors.js';
import { collectSweep, type SweepSummary } from '../sweep/collect.js';
import { planPath, readPlan } from '../sweep/plan.js';
import { trialPaths } from '../sweep/run.js';
import type { CurvePoint, LayerBar } from './charts.js';
import { sampleGrid, type SampleGrid } from './samples.js';
import type { BlockMeasure, DiagramBlock } from './u_diagram.js';

export interface AdviceFile {
  spec: string;
  blocks: string[];
  budget: { kind: string; limit: number; text: string };
  evidence: { block: string; rgn: number | null; drift?: number | null; score: number }[];
  explanation: string[];
  verify?: Record<string, unknown> | null;
  /** The short trials of strategy halving (older advice files have none). */
  halving?: {
    rungs: {
      rung: number;
      candidates: number;
      epochs: number;
      trainSamples: number;
      seeds: number;
      kept: string[];
      policies: { policy: string; val_miou_mean: number | null; val_miou_ci95: { low: number; high: number; half: number | null } | null }[];
    }[];
    spent_seconds: number;
    plan: { cap_seconds: number };
    dirs: string[];
  } | null;
}

export interface ReportData {
  kind: 'sweep' | 'run' | 'diff';
  dir: string;
  title: string;
  blocks: DiagramBlock[];
  measures: BlockMeasure[];
  marked: string[];
  layerBars: LayerBar[];
  curves: CurvePoint[];
  classIou: { name: string; iou: number }[];
  sweep: SweepSummary | null;
  advice: AdviceFile | null;
  featured: string | null;
  samples: SampleGrid | null;
  notes: string[];
}

function readJsonIf(file: string): unknown {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

interface UnetJsonLite {
  classes?: { id: number; name: string }[];
  layerMap?: { blocks?: { name: string; region: string; level: number; parameters: number }[] };
}

function blocksFrom(modelDir: string): DiagramBlock[] {
  const u = readJsonIf(join(modelDir, 'unet.json')) as UnetJsonLite | null;
  return (u?.layerMap?.blocks ?? []).map((b) => ({ name: String(b.name), region: String(b.region), level: Number(b.level), parameters: Number(b.parameters) }));
}

type DiffJson = Partial<DriftReport> & { target?: { blocks?: { block: string; cka?: number | null; reset_sensitivity?: number | null }[] } };

/** Block and layer measures of a drift report (and CKA / reset sensitivity when it has a target). */
function measuresFromDiff(d: DiffJson, out: ReportData): void {
  const rel: Record<string, number | null> = {};
  for (const b of d.blocks ?? []) rel[b.name] = b.rel ?? null;
  if (Object.keys(rel).length) out.measures.push({ key: 'drift', label: 'drift', meaning: 'relative weight drift ||ΔW|| / ||W|| of the block', values: rel });
  const t = d.target?.blocks ?? [];
  if (t.length) {
    out.measures.push({
      key: 'cka',
      label: 'CKA',
      meaning: "linear CKA of the block's outputs before vs after (low = representation changed)",
      values: Object.fromEntries(t.map((b) => [b.block, b.cka ?? null])),
      invert: true,
    });
    out.measures.push({
      key: 'reset',
      label: 'reset sensitivity',
      meaning: 'target mIoU lost when the block is put back to its pretrained weights',
      values: Object.fromEntries(t.map((b) => [b.block, b.reset_sensitivity ?? null])),
    });
  }
  out.layerBars = (d.layers ?? [])
    .filter((l) => typeof l.rel === 'number')
    .map((l, i) => ({ layer: l.layer, block: l.block, region: l.region, value: l.rel!, order: i }));
}

async function runParts(
  runDir: string,
  pretrainedDir: string | null,
  dataDir: string | null,
  label: string,
  out: ReportData,
  withCurves: boolean,
): Promise<void> {
  const modelDir = join(runDir, 'model');
  const lines = readMetrics(runDir);
  if (withCurves) {
    for (const l of lines) {
      for (const k of ['val_miou', 'train_loss'])
        if (typeof l[k] === 'number') out.curves.push({ run: label, epoch: Number(l.epoch), metric: k, value: l[k] as number });
    }
  }
  const u = readJsonIf(join(modelDir, 'unet.json')) as UnetJsonLite | null;
  const last = lines[lines.length - 1];
  if (last && Array.isArray(last.val_iou)) {
    const names = u?.classes ?? [];
    out.classIou = (last.val_iou as (number | null)[])
      .map((v, i) => ({ name: names.find((c) => c.id === i)?.name ?? `class${i}`, iou: v ?? NaN }))
      .filter((r) => Number.isFinite(r.iou));
  }
  if (!existsSync(join(modelDir, 'model.json'))) {
    out.notes.push(`${modelDir}: no fine-tuned model yet (the run has not finished): no drift or samples`);
    return;
  }
  out.blocks = blocksFrom(modelDir);
  const diff = readJsonIf(join(runDir, 'diff.json')) as DiffJson | null;
  if (diff) {
    measuresFromDiff(diff, out);
  } else if (pretrainedDir && existsSync(join(pretrainedDir, 'model.json'))) {
    const before = await loadModelFolder(pretrainedDir);
    try {
      const after = await loadModelFolder(modelDir);
      try {
        measuresFromDiff(diffModels(before, after, { names: { before: pretrainedDir, after: modelDir } }), out);
      } finally {
        after.model.dispose();
      }
    } finally {
      before.model.dispose();
    }
  }
  if (pretrainedDir && dataDir && existsSync(dataDir)) {
    try {
      out.samples = await sampleGrid(pretrainedDir, modelDir, dataDir);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      out.notes.push(`no sample predictions: ${e.message}`);
    }
  }
}

export async function gatherReport(dir: string): Promise<ReportData> {
  const out: ReportData = {
    kind: 'run',
    dir,
    title: '',
    blocks: [],
    measures: [],
    marked: [],
    layerBars: [],
    curves: [],
    classIou: [],
    sweep: null,
    advice: null,
    featured: null,
    samples: null,
    notes: [],
  };
  if (existsSync(planPath(dir))) {
    out.kind = 'sweep';
    const plan = readPlan(dir);
    const s = collectSweep(dir);
    out.sweep = s;
    out.advice = readJsonIf(join(dir, 'advice.json')) as AdviceFile | null;
    out.title = `Sweep: ${s.policies.length} policies x ${s.settings.seeds.length} seed(s), ${s.settings.epochs} epoch(s)`;
    for (const r of s.results)
      for (const c of r.curve)
        for (const k of ['val_miou', 'train_loss'] as const)
          if (c[k] !== null) out.curves.push({ run: `${r.policy} s${r.seed}`, epoch: c.epoch, metric: k, value: c[k]! });
    // The run shown in detail: the recommendation when it was swept, else the best policy by mean mIoU.
    const ranked = [...s.policies].filter((p) => p.val_miou_mean !== null).sort((a, b) => b.val_miou_mean! - a.val_miou_mean!);
    const featured = (out.advice && s.policies.find((p) => p.policy === out.advice!.spec && p.seeds_done > 0)) || ranked[0];
    if (featured) {
      out.featured = featured.policy;
      out.marked = featured.blocks;
      const r = s.results.find((x) => x.policy === featured.policy)!;
      const t = plan.trials[r.index]!;
      await runParts(trialPaths(dir, t).run, plan.model, plan.data, `${r.policy} s${r.seed}`, out, false);
    } else {
      out.notes.push('no trial has finished yet');
    }
    if (out.advice?.evidence?.length)
      out.measures.push({
        key: 'rgn',
        label: 'gradient probe',
        meaning: 'relative gradient norm ||∇W L|| / ||W|| at the pretrained weights (Auto-RGN)',
        values: Object.fromEntries(out.advice.evidence.map((e) => [e.block, e.rgn])),
      });
  } else if (isRunFolder(dir)) {
    const run = readRunJson(dir);
    const c = run.config as { model?: string | null; data?: string; train?: string | null };
    out.title = `Run: ${run.command}${c.train ? ` --train ${c.train}` : ''}`;
    await runParts(dir, c.model ?? null, c.data ?? null, 'run', out, true);
    out.marked = (readMetrics(dir)[0]?.trainable as string[] | undefined) ?? [];
  } else if (existsSync(join(dir, 'diff.json')) || existsSync(join(dir, 'drift.json'))) {
    out.kind = 'diff';
    const file = existsSync(join(dir, 'diff.json')) ? join(dir, 'diff.json') : join(dir, 'drift.json');
    const d = readJsonIf(file) as DiffJson & { after?: string };
    if (!d || !Array.isArray(d.blocks) || !Array.isArray(d.layers))
      throw new UserError(`${file}: not a drift report (expected "layers" and "blocks", as compareModels writes it)`);
    out.title = `Diff: ${d.after ?? file}`;
    measuresFromDiff(d, out);
    if (typeof d.after === 'string') out.blocks = blocksFrom(d.after);
    if (!out.blocks.length) {
      const seen = new Map<string, DiagramBlock>();
      for (const b of d.blocks) {
        const m = /^(enc|dec)(\d+)$/.exec(b.name);
        seen.set(b.name, { name: b.name, region: b.region, level: m ? Number(m[2]) : b.name === 'bottleneck' ? 99 : 1, parameters: b.n });
      }
      const depth = Math.max(0, ...[...seen.values()].filter((b) => b.level < 99).map((b) => b.level));
      out.blocks = [...seen.values()].map((b) => (b.level === 99 ? { ...b, level: depth + 1 } : b));
    }
  } else {
    throw new UserError(`${dir}: not a run (run.json), sweep (plan.json) or diff folder (diff.json, as compareModels writes it)`);
  }
  return out;
}
