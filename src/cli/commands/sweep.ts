// `sweep`, `sweep plan`, `sweep run`, `sweep collect`: which layers to fine-tune, measured. One fine-tune per
// policy and seed with the same budget; trials are addressable by index so that any array-job runner
// (Kubernetes Indexed Job, Slurm array, CI matrix) can spread them over machines.
import { dirname, join, resolve } from 'node:path';

import { NAMED_POLICIES } from '../../train/freeze_spec.js';
import { UsageError } from '../../util/errors.js';
import { collectSweep, sweepTable, writeSweepSummary, type SweepSummary } from '../../sweep/collect.js';
import { advise, planSweep, runSweep, type AdviseOptions, type SweepOptions } from '../../sweep/api.js';
import { readPlan } from '../../sweep/plan.js';
import { runTrial } from '../../sweep/run.js';
import { watchParent } from '../../sweep/driver.js';
import { intOption, numOption, type Command, type CommandIO, type OptionSpec, type ParsedArgs } from '../command.js';
import { cliMessage } from '../errors.js';

export const PLAN_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', valueName: 'DIR', description: 'the pretrained model folder (or a run folder: its model/)' },
  data: { type: 'string', valueName: 'DIR', description: 'the target data set folder' },
  policies: {
    type: 'string',
    valueName: 'P,...',
    description: `freeze policies to compare (items of one policy joined by +) (default ${NAMED_POLICIES.join(',')})`,
  },
  seeds: { type: 'string', valueName: 'N', description: 'seeds per policy, 0..N-1 (default 3)' },
  epochs: { type: 'string', valueName: 'E', description: 'epochs of every trial (default 5)' },
  batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  lr: { type: 'string', valueName: 'RATE', description: 'learning rate (default 1e-3)' },
  val: { type: 'string', valueName: 'F', description: 'validation fraction when the data set has no val/ folder (default 0.2)' },
  precision: { type: 'string', valueName: 'P', description: "the trials' convolutions in fp32, bf16 (mixed precision) or auto (default fp32)" },
  out: { type: 'string', valueName: 'DIR', description: 'the sweep folder' },
  force: { type: 'boolean', description: 'replace a plan with other settings (and its trials)' },
};

const str = (args: ParsedArgs, k: string) => (typeof args.values[k] === 'string' ? (args.values[k] as string) : undefined);

const sweepOptionsFromArgs = (args: ParsedArgs, io: CommandIO): SweepOptions => ({ ...sweepFlags(args, io), out: outDir(args) });

function outDir(args: ParsedArgs): string {
  const out = str(args, 'out') ?? (args.positionals.length === 1 ? args.positionals[0]! : null);
  if (!out) throw new UsageError('--out DIR is required (the sweep folder)');
  return resolve(out);
}

/** The sweep flags as the options of planSweep / runSweep / advise (only what was given; `out` may be missing for advise). */
function sweepFlags(args: ParsedArgs, io: CommandIO): Omit<SweepOptions, 'out'> & { out?: string } {
  const model = str(args, 'model');
  const data = str(args, 'data');
  if (!model) throw new UsageError('--model DIR is required (the pretrained model folder)');
  if (!data) throw new UsageError('--data DIR is required (the target data set folder)');
  const policies = str(args, 'policies');
  return {
    model,
    data,
    out: str(args, 'out') === undefined ? undefined : outDir(args),
    policies: policies === undefined ? undefined : policies.split(',').map((p) => p.trim()),
    seeds: args.values.seeds === undefined ? undefined : intOption(args, 'seeds', 1, 1000),
    epochs: args.values.epochs === undefined ? undefined : intOption(args, 'epochs', 1, 100000),
    batch: args.values.batch === undefined ? undefined : intOption(args, 'batch', 1, 4096),
    lr: numOption(args, 'lr', 0, 10, true),
    val: numOption(args, 'val', 0, 0.95),
    precision: str(args, 'precision') as SweepOptions['precision'],
    force: args.values.force === true,
    parallel: args.values.parallel === undefined ? undefined : intOption(args, 'parallel', 1, 64),
    log: io.quiet ? undefined : io.err,
  };
}

function printSummary(io: CommandIO, s: SweepSummary, extra: Record<string, unknown> = {}): void {
  if (io.json) io.out(JSON.stringify({ ...extra, ...s }));
  else for (const l of sweepTable(s)) io.out(l);
}

export const sweepPlanCommand: Command = {
  name: 'sweep plan',
  summary: "write a sweep folder's plan.json: one trial per policy and seed, with each policy's cost",
  usage: '--model M --data DIR [--policies full,decoder,...] [--seeds 3] [--epochs 5] --out DIR',
  options: PLAN_OPTIONS,
  examples: ['unet-transfer sweep plan --model models/digits --data data/speckle --policies full,decoder,head --seeds 3 --epochs 5 --out sweeps/speckle'],
  async run(args, io) {
    const { plan, reused, dir } = await planSweep(sweepOptionsFromArgs(args, io));
    if (io.json) {
      io.out(JSON.stringify({ dir, reused, trials: plan.trials, costs: plan.costs }));
    } else {
      io.out(
        `${dir}/plan.json: ${plan.trials.length} trials (${plan.policies.length} policies x ${plan.seeds.length} seeds)${reused ? ', the existing plan (same settings)' : ''}`,
      );
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
      io.out(
        `trial ${index} (${x.policy}, seed ${x.seed}): ${r.status === 'done-before' ? 'already done' : 'done'}: val mIoU ${x.val_miou?.toFixed(4) ?? '-'}, ${x.step_seconds?.toFixed(3) ?? '-'} s/step, ${x.wall_seconds.toFixed(1)} s`,
      );
    }
    return 0;
  },
};

export const sweepCollectCommand: Command = {
  name: 'sweep collect',
  summary: "gather a sweep folder's trials: mIoU over seeds, costs, times, memory, Pareto fronts; writes sweep.json",
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
    const r = await runSweep(sweepOptionsFromArgs(args, io));
    printSummary(io, r.summary, { ran: r.ran, skipped: r.skipped, failed: r.failed });
    if (!io.json && !io.quiet)
      io.out(`ran ${r.ran.length}, already done ${r.skipped.length}, failed ${r.failed.length}; written: ${join(r.dir, 'sweep.json')}`);
    for (const f of r.failed) io.err(`trial ${f.index} failed: ${f.message}`);
    return r.failed.length ? 1 : 0;
  },
};

export const adviseCommand: Command = {
  name: 'advise',
  summary:
    'recommend which blocks to fine-tune within a budget, by short trials (successive halving) or a gradient probe; --verify runs the sweep and says how it did',
  usage:
    '--model M --data DIR [--budget 0.5time|25%params] [--strategy auto|halving|probe] [--advice-budget 0.2] [--drift-epochs N] [--verify] [--out DIR] [--json]',
  options: {
    ...PLAN_OPTIONS,
    budget: {
      type: 'string',
      valueName: 'B',
      description: 'share of full fine-tuning allowed: 0.5time (step time, measured on this machine) or 25%params (trainable parameters) (default 0.5time)',
    },
    strategy: {
      type: 'string',
      valueName: 'S',
      description:
        'halving: short trials of the candidates, the best third kept at each rung (its sweeps go to --out/halving/); probe: the gradient probe alone; auto: halving when --out is given and --advice-budget pays for it (default auto)',
    },
    'advice-budget': {
      type: 'string',
      valueName: 'F',
      description: "compute the halving may spend, as a share of the full sweep's (--policies x --seeds x --epochs) estimated compute (default 0.2)",
    },
    eta: { type: 'string', valueName: 'N', description: 'halving keeps the best 1/N of each rung: 2 or 3 (default 3)' },
    price: { type: 'string', valueName: 'HOW', description: 'price step time measured (a few timed steps per policy, cached) or by flops (default measured)' },
    evidence: {
      type: 'string',
      valueName: 'E',
      description:
        "reset: also fine-tune everything for --drift-epochs (default 1) epoch(s) and score blocks by reset sensitivity too, the prior for the probe's candidates (default probe: the gradient probe alone)",
    },
    'step-times': {
      type: 'string',
      valueName: 'FILE',
      description: 'the cache of measured step times (default ~/.cache/unet-transfer/step-times.json); none: measure without a cache',
    },
    samples: { type: 'string', valueName: 'N', description: 'target samples the probe averages over (default 32)' },
    'drift-epochs': {
      type: 'string',
      valueName: 'N',
      description: "also fine-tune everything for N epochs and use each block's weight drift as evidence (default: probe only)",
    },
    verify: { type: 'boolean', description: 'run the sweep (--policies, --seeds, --epochs ... into --out) with the recommendation added, and compare' },
    parallel: {
      type: 'string',
      valueName: 'N',
      description: 'trials run at once, each its own process (default: the verify sweep 1, the halving rungs 0 = one by one in this process)',
    },
    out: {
      type: 'string',
      valueName: 'DIR',
      description: "folder for advice.json, the halving's sweeps (DIR/halving/rung-K) and, with --verify, the full sweep (the report reads them)",
    },
  },
  examples: [
    'unet-transfer advise --model models/digits --data data/speckle --budget 25%params --strategy probe',
    'unet-transfer advise --model models/digits --data data/newdigits --budget 0.5time --out sweeps/newdigits-advice',
    'unet-transfer advise --model models/digits --data data/newdigits --budget 0.5time --verify --seeds 3 --epochs 5 --out sweeps/newdigits',
  ],
  async run(args, io) {
    const verify = args.values.verify === true;
    if (verify && !str(args, 'out')) throw new UsageError('--verify needs --out DIR (the sweep folder to write)');
    const say = io.json || io.quiet ? undefined : io.err;
    const advice = await advise({
      ...sweepFlags(args, io),
      log: say,
      budget: str(args, 'budget'),
      samples: args.values.samples === undefined ? undefined : intOption(args, 'samples', 1, 100000),
      driftEpochs: args.values['drift-epochs'] === undefined ? undefined : intOption(args, 'drift-epochs', 1, 1000),
      verify,
      strategy: str(args, 'strategy') as AdviseOptions['strategy'],
      adviceBudget: numOption(args, 'advice-budget', 0, 1, true),
      eta: args.values.eta === undefined ? undefined : intOption(args, 'eta', 2, 3),
      price: str(args, 'price') as AdviseOptions['price'],
      stepTimesFile: str(args, 'step-times') === 'none' ? false : str(args, 'step-times'),
      evidence: str(args, 'evidence') as AdviseOptions['evidence'],
    });
    if (io.json) {
      io.out(JSON.stringify(advice));
    } else {
      io.out(`recommendation within ${advice.budget.text}: --train ${advice.spec}`);
      for (const l of advice.explanation) io.out(`  - ${cliMessage(l)}`);
      if (advice.verify) {
        for (const l of sweepTable(collectSweep(dirname(advice.verify.sweep)))) io.out(`  ${l}`);
        io.out(`verified against the sweep: ${advice.verify.verdict}`);
      }
      if (advice.file && !io.quiet) io.out(`written: ${advice.file}`);
    }
    return 0;
  },
};

export const SWEEP_COMMANDS: Command[] = [sweepCommand, sweepPlanCommand, sweepRunCommand, sweepCollectCommand, adviseCommand];
