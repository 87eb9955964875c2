// `sweep`, `sweep plan`, `sweep run`, `sweep collect`: which layers to fine-tune, measured. One fine-tune per
// policy and seed with the same budget; trials are addressable by index so that any array-job runner
// (Kubernetes Indexed Job, Slurm array, CI matrix) can spread them over machines.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { diffModels, disposeData, loadAnalysisData, probe } from '../../analysis/index.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { candidates, explain, parseBudget, scoreBlocks, verdictOf } from '../../sweep/advise.js';
import { finetuneCommand } from './train.js';

import { useBestBackend } from '../../engine/index.js';
import { loadModelFolder } from '../../model/index.js';
import { NAMED_POLICIES } from '../../train/freeze_spec.js';
import { isRunFolder } from '../../train/run_folder.js';
import { UsageError, UserError } from '../../util/errors.js';
import { collectSweep, sweepTable, writeSweepSummary, type SweepSummary } from '../../sweep/collect.js';
import { runMissing, watchParent } from '../../sweep/driver.js';
import { makePlan, parsePolicies, readPlan, writePlan, type SweepPlan } from '../../sweep/plan.js';
import { runTrial } from '../../sweep/run.js';
import { intOption, parseCommandArgs, type Command, type CommandIO, type OptionSpec, type ParsedArgs } from '../command.js';

export const PLAN_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', valueName: 'DIR', description: 'the pretrained model folder (or a run folder: its model/)' },
  data: { type: 'string', valueName: 'DIR', description: 'the target data set folder' },
  policies: { type: 'string', valueName: 'P,...', description: `freeze policies to compare (items of one policy joined by +) (default ${NAMED_POLICIES.join(',')})` },
  seeds: { type: 'string', valueName: 'N', description: 'seeds per policy, 0..N-1 (default 3)' },
  epochs: { type: 'string', valueName: 'E', description: 'epochs of every trial (default 5)' },
  batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  lr: { type: 'string', valueName: 'RATE', description: 'learning rate (default 1e-3)' },
  val: { type: 'string', valueName: 'F', description: 'validation fraction when the data set has no val/ folder (default 0.2)' },
  out: { type: 'string', valueName: 'DIR', description: 'the sweep folder' },
  force: { type: 'boolean', description: 'replace a plan with other settings (and its trials)' },
};

const str = (args: ParsedArgs, k: string) => (typeof args.values[k] === 'string' ? (args.values[k] as string) : null);

function outDir(args: ParsedArgs): string {
  const out = str(args, 'out') ?? (args.positionals.length === 1 ? args.positionals[0]! : null);
  if (!out) throw new UsageError('--out DIR is required (the sweep folder)');
  return resolve(out);
}

function modelDirOf(dir: string): string {
  return isRunFolder(dir) && existsSync(join(dir, 'model', 'model.json')) ? join(dir, 'model') : dir;
}

/** Plans the sweep described by the options into DIR (or keeps the identical plan there). */
export async function planFromArgs(args: ParsedArgs, io: CommandIO, extraPolicies: string[] = []): Promise<{ plan: SweepPlan; reused: boolean; dir: string }> {
  const dir = outDir(args);
  const model = str(args, 'model');
  const data = str(args, 'data');
  if (!model) throw new UsageError('--model DIR is required (the pretrained model folder)');
  if (!data) throw new UsageError('--data DIR is required (the target data set folder)');
  if (!existsSync(data)) throw new UserError(`--data ${data}: no such folder`);
  const policies = parsePolicies(str(args, 'policies') ?? NAMED_POLICIES.join(','));
  for (const p of extraPolicies) if (!policies.includes(p)) policies.push(p);
  const seeds = args.values.seeds === undefined ? 3 : intOption(args, 'seeds', 1, 1000);
  const lrRaw = str(args, 'lr');
  const lr = lrRaw === null ? 1e-3 : Number(lrRaw);
  if (!(lr > 0 && lr <= 10)) throw new UsageError(`--lr must be a number > 0 and <= 10, got ${JSON.stringify(lrRaw)}`);
  const valRaw = str(args, 'val');
  const val = valRaw === null ? 0.2 : Number(valRaw);
  if (!(val >= 0 && val <= 0.95)) throw new UsageError(`--val must be a number from 0 to 0.95, got ${JSON.stringify(valRaw)}`);
  await useBestBackend('native', io.err);
  const folder = await loadModelFolder(modelDirOf(resolve(model)));
  try {
    const plan = makePlan(
      {
        model: folder.dir,
        data: resolve(data),
        policies,
        seeds: Array.from({ length: seeds }, (_, i) => i),
        epochs: args.values.epochs === undefined ? 5 : intOption(args, 'epochs', 1, 100000),
        batch: args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096),
        lr,
        val,
      },
      folder,
    );
    return { ...writePlan(dir, plan, args.values.force === true), dir };
  } finally {
    folder.model.dispose();
  }
}

function printSummary(io: CommandIO, s: SweepSummary, extra: Record<string, unknown> = {}): void {
  if (io.json) io.out(JSON.stringify({ ...extra, ...s }));
  else for (const l of sweepTable(s)) io.out(l);
}

export const sweepPlanCommand: Command = {
  name: 'sweep plan',
  summary: 'write a sweep folder\'s plan.json: one trial per policy and seed, with each policy\'s cost',
  usage: '--model M --data DIR [--policies full,decoder,...] [--seeds 3] [--epochs 5] --out DIR',
  options: PLAN_OPTIONS,
  examples: ['unet-transfer sweep plan --model models/digits --data data/speckle --policies full,decoder,head --seeds 3 --epochs 5 --out sweeps/speckle'],
  async run(args, io) {
    const { plan, reused, dir } = await planFromArgs(args, io);
    if (io.json) {
      io.out(JSON.stringify({ dir, reused, trials: plan.trials, costs: plan.costs }));
    } else {
      io.out(`${dir}/plan.json: ${plan.trials.length} trials (${plan.policies.length} policies x ${plan.seeds.length} seeds)${reused ? ', the existing plan (same settings)' : ''}`);
      if (!io.quiet) for (const t of plan.trials) io.out(`  ${String(t.index).padStart(4)}  ${t.name}`);
    }
    return 0;
  },
};

export const sweepRunCommand: Command = {
  name: 'sweep run',
  summary: 'run one trial of a planned sweep (by index, e.g. $JOB_COMPLETION_INDEX); a finished trial is not run again',
  usage: '--out DIR --trial I [--json]',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'the sweep folder (with plan.json)' },
    trial: { type: 'string', valueName: 'I', description: 'the trial index (0-based, as in plan.json)' },
  },
  examples: ['unet-transfer sweep run --out sweeps/speckle --trial 4', 'unet-transfer sweep run --out /shared/sweep --trial $JOB_COMPLETION_INDEX'],
  async run(args, io) {
    const dir = outDir(args);
    const plan = readPlan(dir);
    if (args.values.trial === undefined) throw new UsageError(`--trial I is required (0..${plan.trials.length - 1})`);
    const index = intOption(args, 'trial', 0, Math.max(0, plan.trials.length - 1));
    watchParent();
    // An array-job worker is the only one for its index: a lock from another machine is a dead worker's.
    const r = await runTrial(dir, index, { log: io.quiet && !io.json ? undefined : io.err, ignoreForeignLock: true });
    if (io.json) {
      io.out(JSON.stringify({ status: r.status, index, ...('result' in r ? { result: r.result } : { heldBy: r.heldBy }) }));
    } else if (r.status === 'busy') {
      io.out(`trial ${index}: pid ${r.heldBy.pid} on ${r.heldBy.host} is running it (since ${r.heldBy.startedAt})`);
    } else {
      const x = r.result;
      io.out(`trial ${index} (${x.policy}, seed ${x.seed}): ${r.status === 'done-before' ? 'already done' : 'done'}: val mIoU ${x.val_miou?.toFixed(4) ?? '-'}, ${x.step_seconds?.toFixed(3) ?? '-'} s/step, ${x.wall_seconds.toFixed(1)} s`);
    }
    return 0;
  },
};

export const sweepCollectCommand: Command = {
  name: 'sweep collect',
  summary: 'gather a sweep folder\'s trials: mIoU over seeds, costs, times, memory, Pareto fronts; writes sweep.json',
  usage: 'DIR [--json]',
  options: { out: { type: 'string', valueName: 'DIR', description: 'the sweep folder (or give it as the argument)' } },
  examples: ['unet-transfer sweep collect sweeps/speckle', 'unet-transfer sweep collect sweeps/speckle --json'],
  async run(args, io) {
    const dir = outDir(args);
    const s = collectSweep(dir);
    const file = writeSweepSummary(dir, s);
    printSummary(io, s, { file });
    if (!io.json && !io.quiet) io.out(`written: ${file}`);
    return 0;
  },
};

/** Plan (or reuse the plan), run what is missing, collect. Shared with `advise --verify`. */
export async function sweepAll(args: ParsedArgs, io: CommandIO, extraPolicies: string[] = []): Promise<{ summary: SweepSummary; failed: { index: number; message: string }[]; ran: number[]; skipped: number[]; dir: string }> {
  const parallel = args.values.parallel === undefined ? 1 : intOption(args, 'parallel', 1, 64);
  const { plan, reused, dir } = await planFromArgs(args, io, extraPolicies);
  const log = (l: string) => {
    if (!io.quiet) io.err(l);
  };
  log(`${dir}: ${plan.trials.length} trials${reused ? ' (existing plan)' : ''}, ${parallel} at a time`);
  const d = await runMissing(dir, parallel, log);
  const summary = collectSweep(dir);
  writeSweepSummary(dir, summary);
  return { summary, dir, ...d };
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'fine-tune once per policy and seed with the same budget and compare (plan + run missing + collect; resumable)',
  usage: '--model M --data DIR [--policies full,scratch,encoder,...] [--seeds 3] [--epochs 5] --out DIR [--parallel N]',
  options: { ...PLAN_OPTIONS, parallel: { type: 'string', valueName: 'N', description: 'trials run at once, each its own process (default 1)' } },
  examples: [
    'unet-transfer sweep --model models/digits --data data/speckle --policies full,scratch,encoder,decoder,bottleneck,head,decoder+head,encoder+bottleneck,shallow:2,deep:2 --seeds 3 --epochs 5 --out sweeps/speckle',
    'unet-transfer sweep --model models/digits --data data/speckle --policies full,decoder,head --seeds 1 --epochs 2 --out sweeps/quick --parallel 2',
  ],
  async run(args, io) {
    const r = await sweepAll(args, io);
    printSummary(io, r.summary, { ran: r.ran, skipped: r.skipped, failed: r.failed });
    if (!io.json && !io.quiet) io.out(`ran ${r.ran.length}, already done ${r.skipped.length}, failed ${r.failed.length}; written: ${join(r.dir, 'sweep.json')}`);
    for (const f of r.failed) io.err(`trial ${f.index} failed: ${f.message}`);
    return r.failed.length ? 1 : 0;
  },
};


// ---- advise ---------------------------------------------------------------------------------------------

async function shortFullDrift(modelDir: string, data: string, epochs: number, args: ParsedArgs, io: CommandIO): Promise<Record<string, number | null>> {
  const tmp = mkdtempSync(join(tmpdir(), 'unet-advise-'));
  try {
    const argv = ['--model', modelDir, '--data', data, '--train', 'all', '--epochs', String(epochs), '--out', join(tmp, 'run'), '--json', '--quiet'];
    for (const k of ['batch', 'lr', 'val']) if (typeof args.values[k] === 'string') argv.push(`--${k}`, args.values[k] as string);
    const code = await finetuneCommand.run(parseCommandArgs(finetuneCommand, argv), { out: () => {}, err: io.err, json: true, quiet: true });
    if (code !== 0) throw new UserError(`the short full fine-tune for --drift-epochs ended with exit code ${code}`);
    const before = await loadModelFolder(modelDir);
    try {
      const after = await loadModelFolder(join(tmp, 'run', 'model'));
      try {
        return Object.fromEntries(diffModels(before, after).blocks.map((b) => [b.name, b.rel]));
      } finally {
        after.model.dispose();
      }
    } finally {
      before.model.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const adviseCommand: Command = {
  name: 'advise',
  summary: 'recommend which blocks to fine-tune within a budget, from a gradient probe (and optionally drift); --verify runs the sweep and says how it did',
  usage: '--model M --data DIR [--budget 25%params|0.5time] [--drift-epochs N] [--verify --out DIR] [--json]',
  options: {
    ...PLAN_OPTIONS,
    budget: { type: 'string', valueName: 'B', description: 'share of full fine-tuning allowed: 25%params (trainable parameters) or 0.5time (step time, estimated by FLOPs) (default 25%params)' },
    samples: { type: 'string', valueName: 'N', description: 'target samples the probe averages over (default 32)' },
    'drift-epochs': { type: 'string', valueName: 'N', description: 'also fine-tune everything for N epochs and use each block\'s weight drift as evidence (default: probe only)' },
    verify: { type: 'boolean', description: 'run the sweep (--policies, --seeds, --epochs ... into --out) with the recommendation added, and compare' },
    parallel: { type: 'string', valueName: 'N', description: 'with --verify: trials run at once (default 1)' },
    out: { type: 'string', valueName: 'DIR', description: 'folder for advice.json (with --verify: the sweep folder, which the report reads)' },
  },
  examples: [
    'unet-transfer advise --model models/digits --data data/speckle --budget 25%params',
    'unet-transfer advise --model models/digits --data data/newdigits --budget 0.5time --verify --seeds 3 --epochs 5 --out sweeps/newdigits',
  ],
  async run(args, io) {
    const model = str(args, 'model');
    const data = str(args, 'data');
    if (!model) throw new UsageError('--model DIR is required (the pretrained model folder)');
    if (!data) throw new UsageError('--data DIR is required (the target data set folder)');
    const budget = parseBudget(str(args, 'budget') ?? '25%params');
    const verify = args.values.verify === true;
    if (verify && !str(args, 'out')) throw new UsageError('--verify needs --out DIR (the sweep folder to write)');
    const samples = args.values.samples === undefined ? 32 : intOption(args, 'samples', 1, 100000);
    const driftEpochs = args.values['drift-epochs'] === undefined ? 0 : intOption(args, 'drift-epochs', 1, 1000);
    const batch = args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096);
    const say = (l: string) => {
      if (!io.json && !io.quiet) io.err(l);
    };
    await useBestBackend('native', io.err);
    const modelDir = modelDirOf(resolve(model));
    const folder = await loadModelFolder(modelDir);
    let advice: Record<string, unknown>;
    let best: ReturnType<typeof candidates>[number];
    try {
      say(`probing ${modelDir} on ${samples} samples of ${data}`);
      const d = await loadAnalysisData(resolve(data), { input: folder.options.input, classes: folder.options.classes, headMode: folder.headMode, samples, seed: 0 });
      let rgn: Record<string, number | null>;
      try {
        rgn = Object.fromEntries(probe(folder, d, { batchSize: batch }).blocks.map((b) => [b.block, b.rgn]));
      } finally {
        disposeData(d);
      }
      let drift: Record<string, number | null> | undefined;
      if (driftEpochs > 0) {
        say(`fine-tuning everything for ${driftEpochs} epoch(s) to measure drift`);
        drift = await shortFullDrift(modelDir, resolve(data), driftEpochs, args, io);
      }
      const blocks = folder.layerMap.blocks.filter((b) => b.trainableParameters > 0).map((b) => b.name);
      const evidence = scoreBlocks(blocks, rgn, drift);
      const all = candidates(folder, evidence, budget, batch);
      if (all.length === 0) throw new UserError(`--budget ${budget.text}: no block fits (the cheapest block costs more); raise the budget`);
      best = all[0]!;
      advice = {
        format: 'unet-transfer/advice',
        model: modelDir,
        data: resolve(data),
        spec: best.spec,
        blocks: best.blocks,
        budget,
        score: best.score,
        params_share: best.params_share,
        flops_share: best.flops_share,
        evidence,
        alternatives: all.slice(1, 5).map((c) => ({ spec: c.spec, score: c.score, params_share: c.params_share, flops_share: c.flops_share })),
        explanation: explain(best, evidence, budget, all, drift !== undefined),
        verify: null as unknown,
      };
    } finally {
      folder.model.dispose();
    }
    if (verify) {
      const r = await sweepAll(args, { ...io, quiet: io.quiet || io.json }, [best.spec]);
      advice.verify = { ...verdictOf(best.spec, r.summary.policies, budget), sweep: join(r.dir, 'sweep.json'), failed: r.failed };
    }
    const outArg = str(args, 'out');
    let file: string | null = null;
    if (outArg) {
      mkdirSync(resolve(outArg), { recursive: true });
      file = join(resolve(outArg), 'advice.json');
      writeFileAtomic(file, `${JSON.stringify(advice, null, 1)}\n`);
    }
    if (io.json) {
      io.out(JSON.stringify({ ...advice, file }));
    } else {
      io.out(`recommendation within ${budget.text}: --train ${best.spec}`);
      for (const l of advice.explanation as string[]) io.out(`  - ${l}`);
      const v = advice.verify as { verdict: string } | null;
      if (v) io.out(`verified against the sweep: ${v.verdict}`);
      if (file && !io.quiet) io.out(`written: ${file}`);
    }
    return 0;
  },
};

export const SWEEP_COMMANDS: Command[] = [sweepCommand, sweepPlanCommand, sweepRunCommand, sweepCollectCommand, adviseCommand];
