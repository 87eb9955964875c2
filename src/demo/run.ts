// The demo's orchestration: from a pretrained model that ships in models/ (town16, or digits04 for the digits
// domain) to one report, through the project's own public pieces only: `data world` (or `data digits`) scenes
// for its target sets (input-level and output-level shifts), per shift the advisor's gradient probe, a sweep of freeze policies (with the
// advisor's pick added, so that the sweep checks it), the diff / CKA / reset analysis of the `full`
// fine-tune, then the sweep and run reports and one index page over both shifts.
//
// DIR/demo.json records the settings; rerunning the demo into the same DIR resumes it (finished trials are
// not run again), and a folder with other settings, or one that is not a demo folder, is never overwritten
// without --force.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { compareModels } from '../analysis/compare.js';
import { advise, planSweep } from '../sweep/api.js';
import { DEFAULT_DIGIT_SCENES, generateDigitScenes } from '../data/digit-scenes.js';
import { worldClasses, writeWorldScenes } from '../data/world/index.js';
import { parseShifts } from '../data/shifts.js';
import { packageRoot } from '../engine/addon.js';
import { resolvePrecision, useBestBackend, type Precision, type PrecisionSetting } from '../engine/index.js';
import { loadModelFolder } from '../model/index.js';
import { withTrainedHead } from '../train/new_head.js';
import { gatherReport } from '../report/gather.js';
import { writeReportPage } from '../report/page.js';
import { parseBudget, verdictOf, type Verdict } from '../sweep/advise.js';
import { collectSweep, writeSweepSummary, type SweepSummary } from '../sweep/collect.js';
import { runMissing } from '../sweep/driver.js';
import { readPlan } from '../sweep/plan.js';
import { missingTrials, runTrial, trialPaths } from '../sweep/run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { answerLine, answerOf, type ShiftAnswer } from './findings.js';
import { writeDemoPage } from './page.js';
import { DEMO_DOMAINS, DEMO_FORMAT, presetKey, type DemoDomain, type DemoPreset, type DemoScenes, type DemoShift, type DomainName } from './presets.js';

/** The pretrained model that ships in the package for a demo domain. */
export const shippedModelDir = (domain: DomainName = 'world'): string => join(packageRoot(), 'models', DEMO_DOMAINS[domain].model);

export interface DemoOptions {
  out: string;
  preset: DemoPreset;
  /** Which pretrained model and which shifts (default 'world': town16 on night, indoor rooms and the toon look). */
  domain?: DomainName;
  /** Start over in a demo folder that holds another run of the demo. */
  force?: boolean;
  /** Another pretrained model folder (with the domain's input and classes; default the shipped one). */
  model?: string;
  /** Run each trial in its own process (honest per-trial memory, ~1-2 s more per trial) instead of in this one. */
  trialProcesses?: boolean;
  /** The fine-tunes' convolution precision (TrainingOptions.precision; default 'fp32'); bf16 is part of the demo's settings. */
  precision?: PrecisionSetting;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
  /** Detailed lines of the pieces (trial epochs, analysis groups). */
  detail?: (line: string) => void;
}

export interface ShiftResult {
  key: string;
  kind: DemoShift['kind'];
  title: string;
  description: string;
  data: string;
  sweep: string;
  report: string;
  full_run: string | null;
  full_report: string | null;
  /** The pretrained model on the target's validation images, before any fine-tuning. */
  pretrained_miou: number | null;
  /** The full fine-tune: target mIoU, and source mIoU before and after (what it cost the old task). */
  full_miou: number | null;
  source_miou_before: number | null;
  source_miou_after: number | null;
  answer: ShiftAnswer | null;
  advice: { spec: string; blocks: string[]; budget: string; verdict: Verdict | null };
  /** Blocks by drift, CKA and reset sensitivity of the full fine-tune (for the page and the README). */
  blocks: { block: string; drift: number | null; cka: number | null; reset_sensitivity: number | null; transplant_gain: number | null; rgn: number | null }[];
  failed: { index: number; message: string }[];
  summary: SweepSummary;
  line: string;
}

export interface DemoResult {
  format: typeof DEMO_FORMAT;
  version: 1;
  dir: string;
  report: string;
  preset: DemoPreset;
  domain: DemoDomain;
  model: string;
  backend: string;
  /** The fine-tunes' convolution precision that ran. */
  precision: Precision;
  shifts: ShiftResult[];
  summary: string[];
  seconds: Record<string, number>;
  finishedAt: string;
}

interface DemoJson {
  format: string;
  key: string;
  state: 'running' | 'done';
}

/** Makes DIR a demo folder for these settings, resuming one with the same settings. */
function prepareOut(dir: string, key: string, force: boolean): boolean {
  const file = join(dir, 'demo.json');
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    let old: DemoJson | null = null;
    try {
      old = JSON.parse(readFileSync(file, 'utf8')) as DemoJson;
    } catch {
      old = null;
    }
    if (!old || old.format !== DEMO_FORMAT)
      throw new UserError(`options.out ${dir}: the folder is not empty and holds no demo (no demo.json); choose another options.out`);
    if (old.key === key) return true;
    if (!force)
      throw new UserError(
        `options.out ${dir}: holds a demo with other settings (another preset, domain or model); pass options.force to start over there, or choose another options.out`,
      );
    // Only a folder the demo made (it has demo.json) is ever cleared.
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, `${JSON.stringify({ format: DEMO_FORMAT, key, state: 'running' }, null, 1)}\n`);
  return false;
}

/** A data set of the domain's scenes, unless a finished one is there (both writers rename it into place at the end). */
async function scenes(dir: string, sc: DemoScenes, size: [number, number], count: number, valCount: number): Promise<void> {
  if (existsSync(join(dir, 'classes.json'))) return;
  if (sc.generator === 'digits') {
    await generateDigitScenes(
      dir,
      { ...DEFAULT_DIGIT_SCENES, size: size[0], count, valCount, digits: sc.digits, shifts: parseShifts(sc.shift), seed: sc.seed },
      { force: true },
    );
    return;
  }
  await writeWorldScenes({
    world: sc.world,
    style: sc.style,
    size,
    seed: sc.seed,
    count: count + valCount,
    valFraction: valCount / (count + valCount),
    out: dir,
    force: true,
  });
}

/** Classes of a demo data set: background + the digits of a digit set (mapped onto the same slots), or the world's. */
function sceneClasses(sc: DemoScenes): number {
  return sc.generator === 'digits' ? 1 + sc.digits[1] - sc.digits[0] + 1 : worldClasses(sc.world).length;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const detail = o.detail ?? (() => {});
  const p = o.preset;
  const dir = resolve(o.out);
  const domain = DEMO_DOMAINS[o.domain ?? 'world'];
  if (!domain) throw new UserError(`options.domain: expected ${Object.keys(DEMO_DOMAINS).join(' or ')}, got ${JSON.stringify(o.domain)}`);
  // Before anything is written: a bad value, or bf16 on a CPU without it, is an error naming options.precision.
  const precision = resolvePrecision(o.precision ?? 'fp32');
  const model = resolve(o.model ?? shippedModelDir(domain.name));
  if (!existsSync(join(model, 'model.json'))) {
    throw new UserError(
      `${model}: the demo's pretrained model is missing (no model.json); rebuild it with ${domain.name === 'world' ? 'scripts/make-town-model.sh' : 'scripts/make-demo-model.sh'}`,
    );
  }
  const backend = await useBestBackend('native', log);
  // The scenes have the domain's size: a model for another input would fail later, with a less clear message.
  // What each target's sweep can run (a target with other classes needs a new head); the model is not needed after.
  const folder = await loadModelFolder(model);
  const runnable = new Map<string, { newHead: boolean; policies: string[] }>();
  try {
    const { input, classes } = folder.options;
    if (input.join('x') !== domain.input.join('x') || classes !== domain.classes) {
      throw new UserError(
        `${model}: the ${domain.name} demo needs a model for ${domain.input.join('x')} input and ${domain.classes} classes, this one has ${input.join('x')} and ${classes}`,
      );
    }
    for (const s of domain.shifts) {
      const newHead = sceneClasses(s.scenes) !== classes;
      runnable.set(s.key, { newHead, policies: withTrainedHead(p.policies, newHead, folder) });
    }
  } finally {
    folder.model.dispose();
  }
  const size: [number, number] = [domain.input[0], domain.input[1]];

  const resumed = prepareOut(dir, presetKey(p, domain, model, precision), o.force === true);
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      seconds[name] = (seconds[name] ?? 0) + (performance.now() - t) / 1000;
    }
  };
  const stamp = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;
  log(
    `demo (${p.name}, ${domain.name} domain${precision !== 'fp32' ? `, ${precision} convolutions` : ''}) in ${dir}${resumed ? ' (resuming: finished steps are kept)' : ''}; pretrained model ${model}`,
  );

  const dataDir = join(dir, 'data');
  const sourceDir = join(dataDir, 'source');
  await timed('data', async () => {
    log(`${stamp()}  target sets: ${domain.shifts.map((s) => `${s.key} (${s.title})`).join(', ')}, ${p.train} training + ${p.val} validation scenes each`);
    await scenes(sourceDir, domain.source, size, 1, p.sourceVal);
    for (const s of domain.shifts) await scenes(join(dataDir, s.key), s.scenes, size, p.train, p.val);
  });

  const results: ShiftResult[] = [];
  for (const [i, s] of domain.shifts.entries()) {
    const data = join(dataDir, s.key);
    const sweepDir = join(dir, s.key);
    const tag = `[${i + 1}/${domain.shifts.length} ${s.key}]`;
    const { newHead, policies } = runnable.get(s.key)!;

    // 1. The advisor, before any training: where does the target pull (gradient probe), within the budget?
    log(`${stamp()}  ${tag} advisor: gradient probe on ${p.probeSamples} target images, budget ${p.budget}`);
    const advice = await timed('advise', () =>
      advise({ model, data, budget: p.budget, strategy: 'probe', samples: p.probeSamples, batch: p.batch, out: sweepDir, log: detail }),
    );
    const spec = String(advice.spec);

    // 2. The sweep: every policy with the same budget, plus the advisor's pick.
    const { plan } = await planSweep(
      { model, data, policies, seeds: p.seeds, epochs: p.epochs, batch: p.batch, lr: p.lr, precision, out: sweepDir, log: detail },
      [spec],
    );
    const todo = missingTrials(sweepDir, plan);
    log(
      `${stamp()}  ${tag} sweep: ${plan.trials.length} fine-tunes${newHead ? " (a new head for the target's classes: every policy trains it)" : ''} (${plan.policies.join(', ')}; ${p.seeds} seed(s), ${p.epochs} epoch(s))${todo.length < plan.trials.length ? `, ${plan.trials.length - todo.length} already done` : ''}`,
    );
    const failed: { index: number; message: string }[] = [];
    await timed('sweep', async () => {
      if (o.trialProcesses) {
        const r = await runMissing(sweepDir, p.parallel, (l) => (/^trial \d+/.test(l) ? log(`${stamp()}  ${tag}   ${l}`) : detail(l)));
        failed.push(...r.failed);
        return;
      }
      const t0 = performance.now();
      for (const [k, t] of todo.entries()) {
        // A rough ETA: the mean time of this sweep's trials so far (they differ by policy, so it is rough).
        const eta = k > 0 ? `, this sweep's ETA ~${(((performance.now() - t0) / 1000 / k) * (todo.length - k)).toFixed(0)} s` : '';
        log(`${stamp()}  ${tag}   trial ${t.index + 1}/${plan.trials.length}: ${t.policy}, seed ${t.seed}${eta}`);
        try {
          const r = await runTrial(sweepDir, t.index, { log: detail });
          if (r.status === 'busy') failed.push({ index: t.index, message: `pid ${r.heldBy.pid} on ${r.heldBy.host} holds it` });
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          failed.push({ index: t.index, message: e.message });
          log(`${stamp()}  ${tag}   trial ${t.index} failed: ${e.message}`);
        }
      }
    });
    const summary = collectSweep(sweepDir);
    writeSweepSummary(sweepDir, summary);
    // A finished trial is never resumed, so its checkpoints (model and optimizer state of its last epochs,
    // ~13 MB a trial here) only fill the disk; its final model stays in run/model.
    const trials = readPlan(sweepDir).trials;
    for (const r of summary.results) rmSync(join(trialPaths(sweepDir, trials[r.index]!).run, 'checkpoints'), { recursive: true, force: true });
    const verdict = summary.policies.some((x) => x.policy === spec && x.val_miou_mean !== null)
      ? verdictOf(spec, summary.policies, parseBudget(p.budget))
      : null;
    writeFileAtomic(
      join(sweepDir, 'advice.json'),
      `${JSON.stringify({ ...advice, file: undefined, verify: verdict ? { ...verdict, sweep: join(sweepDir, 'sweep.json'), failed } : null }, null, 1)}\n`,
    );

    // 3. What the full fine-tune changed, and what mattered: drift, CKA, reset/transplant, source-task cost.
    const fullTrial = readPlan(sweepDir).trials.find((t) => t.policy === 'full' && t.seed === 0);
    const fullRun = fullTrial && summary.results.some((r) => r.index === fullTrial.index) ? trialPaths(sweepDir, fullTrial).run : null;
    let diff: Record<string, unknown> | null = null;
    if (fullRun) {
      const diffFile = join(fullRun, 'diff.json');
      if (existsSync(diffFile)) {
        diff = JSON.parse(readFileSync(diffFile, 'utf8')) as Record<string, unknown>;
      } else {
        log(`${stamp()}  ${tag} analysis of the full fine-tune: weight drift, CKA, reset/transplant on ${p.analysisSamples} images, source-task cost`);
        diff = await timed(
          'analysis',
          () =>
            compareModels({
              before: model,
              after: fullRun,
              data,
              sourceData: sourceDir,
              samples: p.analysisSamples,
              batch: p.batch,
              log: detail,
            }) as unknown as Promise<Record<string, unknown>>,
        );
        writeFileAtomic(diffFile, `${JSON.stringify(diff)}\n`);
      }
    }

    // 4. The reports of the sweep (featuring the advisor's pick) and of the full fine-tune.
    log(`${stamp()}  ${tag} reports`);
    await timed('reports', async () => {
      writeReportPage(join(sweepDir, 'report.html'), await gatherReport(sweepDir));
      if (fullRun) writeReportPage(join(fullRun, 'report.html'), await gatherReport(fullRun));
    });

    const target = (diff?.target ?? null) as {
      before_miou?: number;
      after_miou?: number;
      blocks?: { block: string; cka: number | null; reset_sensitivity: number | null; transplant_gain: number | null }[];
    } | null;
    const source = (diff?.source ?? null) as { before_miou?: number; after_miou?: number | null } | null;
    const drift = new Map(((diff?.blocks ?? []) as { name: string; rel: number | null }[]).map((b) => [b.name, b.rel]));
    const rgn = new Map(((advice.evidence ?? []) as { block: string; rgn: number | null }[]).map((e) => [e.block, e.rgn]));
    const blockNames = [...new Set([...drift.keys(), ...rgn.keys()])];
    const answer = answerOf(summary);
    const pretrained = num(target?.before_miou);
    results.push({
      key: s.key,
      kind: s.kind,
      title: s.title,
      description: s.description,
      data,
      sweep: sweepDir,
      report: join(sweepDir, 'report.html'),
      full_run: fullRun,
      full_report: fullRun ? join(fullRun, 'report.html') : null,
      pretrained_miou: pretrained,
      full_miou: num(target?.after_miou),
      source_miou_before: num(source?.before_miou),
      source_miou_after: num(source?.after_miou),
      answer,
      advice: { spec, blocks: (advice.blocks ?? []) as string[], budget: p.budget, verdict },
      blocks: blockNames.map((b) => {
        const t = target?.blocks?.find((x) => x.block === b);
        return {
          block: b,
          drift: drift.get(b) ?? null,
          cka: t?.cka ?? null,
          reset_sensitivity: t?.reset_sensitivity ?? null,
          transplant_gain: t?.transplant_gain ?? null,
          rgn: rgn.get(b) ?? null,
        };
      }),
      failed,
      summary,
      line: `${s.title.padEnd(18)} (${s.key}): ${answerLine(answer, pretrained)}`,
    });
  }

  const adviceLine = `advisor (gradient probe before training, budget ${p.budget}): ${results
    .map(
      (r) =>
        `${r.key} -> ${r.advice.spec} (${r.advice.verdict ? r.advice.verdict.verdict.split(':')[0] : 'not checked'}${r.advice.verdict?.gap ? `, ${r.advice.verdict.gap.toFixed(3)} mIoU behind ${r.advice.verdict.best_within_budget}` : ''})`,
    )
    .join('; ')}`;
  const result: DemoResult = {
    format: DEMO_FORMAT,
    version: 1,
    dir,
    report: join(dir, 'report.html'),
    preset: p,
    domain,
    model,
    backend,
    precision,
    shifts: results,
    summary: [...results.map((r) => r.line), adviceLine],
    seconds,
    finishedAt: '',
  };
  await timed('index', () => writeDemoPage(result));
  seconds.total = (performance.now() - started) / 1000;
  result.finishedAt = new Date().toISOString();
  // The full result, summaries of the sweeps left out (they are in each sweep's sweep.json).
  const slim = { ...result, key: presetKey(p, domain, model, precision), state: 'done', shifts: result.shifts.map((r) => ({ ...r, summary: undefined })) };
  writeFileAtomic(join(dir, 'demo.json'), `${JSON.stringify(slim, null, 1)}\n`);
  log(`${stamp()}  done`);
  return result;
}
