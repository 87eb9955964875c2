// Running one trial of a sweep: a fine-tune of the plan's model with the trial's policy and seed into
// DIR/trials/<i>-<policy>-s<seed>/run, then DIR/trials/<name>/trial.json written atomically: that file is the
// trial's "done" mark, so a finished trial is never run again. A lock file (pid and host) keeps two workers
// on one machine from running the same trial; a lock left by a dead process is taken over, and a trial
// killed mid-way resumes from its last epoch checkpoint.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import type { HeadMode } from '../model/head_mode.js';
import { finetune } from '../train/api.js';
import { readMetrics, readRunJson } from '../train/run_folder.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { readPlan, trialsDir, type SweepPlan, type Trial } from './plan.js';

export const TRIAL_FORMAT = 'unet-transfer/sweep-trial';

export interface TrialResult {
  format: typeof TRIAL_FORMAT;
  index: number;
  policy: string;
  seed: number;
  name: string;
  /** Validation mIoU after the last epoch (every trial gets the same budget, so this is the comparison). */
  val_miou: number | null;
  /** The best epoch's validation mIoU (the model the run kept). */
  best_val_miou: number | null;
  /** The fine-tuned head's mode (absent in trials of older sweeps: multiclass). */
  head_mode?: HeadMode;
  /** Binary heads: the foreground's validation IoU after the last epoch (val_miou is over background and foreground). */
  val_iou_fg?: number | null;
  best_epoch: number | null;
  epochs: number;
  steps: number;
  /** Mean seconds per training step (data loading included), leaving out the first epoch when there are more. */
  step_seconds: number | null;
  /** Seconds of the whole trial in this process: model load, training, validation, writes. */
  wall_seconds: number;
  /** Peak resident memory of the trial's process, MiB. */
  peak_rss_mib: number;
  /** True when the trial continued a run a killed worker had started. */
  resumed: boolean;
  backend: string;
  host: string;
  finishedAt: string;
  curve: { epoch: number; train_loss: number | null; val_miou: number | null; val_loss: number | null }[];
}

export const trialPaths = (dir: string, t: Trial) => {
  const folder = join(trialsDir(dir), t.name);
  return { folder, run: join(folder, 'run'), result: join(folder, 'trial.json'), lock: join(trialsDir(dir), `${t.name}.lock`) };
};

export function readTrialResult(dir: string, t: Trial): TrialResult | null {
  const file = trialPaths(dir, t).result;
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as TrialResult;
    return r.format === TRIAL_FORMAT && r.index === t.index && r.policy === t.policy && r.seed === t.seed ? r : null;
  } catch {
    return null;
  }
}

export function trialOf(plan: SweepPlan, index: number, dir: string): Trial {
  const t = plan.trials[index];
  if (!t) throw new UserError(`options.trial ${index}: ${dir}/plan.json has trials 0..${plan.trials.length - 1}`);
  return t;
}

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the trial's lock, or returns who holds it. A lock of a dead process on this host is stale and taken
 * over; a lock from another host is honoured unless `ignoreForeign` (array jobs give each index one worker,
 * so a lock from another host there is a dead pod's).
 */
export function acquireLock(file: string, ignoreForeign: boolean): { release: () => void } | { heldBy: LockOwner } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: LockOwner | null = null;
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    } catch {
      owner = null; // half-written by a process that died between open and write: stale
    }
    const stale = !owner || (owner.host === hostname() ? !alive(owner.pid) : ignoreForeign);
    if (!stale) return { heldBy: owner! };
    rmSync(file, { force: true });
  }
  throw new UserError(`${file}: could not take the trial's lock (another worker keeps taking it)`);
}

export type RunTrialOutcome = { status: 'done-before'; result: TrialResult } | { status: 'busy'; heldBy: LockOwner } | { status: 'ran'; result: TrialResult };

/** Runs trial `index` of the sweep in DIR in this process (unless it is finished or another worker has it). */
export async function runTrial(dir: string, index: number, o: { log?: (line: string) => void; ignoreForeignLock?: boolean } = {}): Promise<RunTrialOutcome> {
  const started = performance.now();
  const plan = readPlan(dir);
  const t = trialOf(plan, index, dir);
  const before = readTrialResult(dir, t);
  if (before) return { status: 'done-before', result: before };
  const paths = trialPaths(dir, t);
  const lock = acquireLock(paths.lock, o.ignoreForeignLock ?? false);
  if ('heldBy' in lock) return { status: 'busy', heldBy: lock.heldBy };
  try {
    // Finished while we waited for the lock?
    const again = readTrialResult(dir, t);
    if (again) return { status: 'done-before', result: again };
    mkdirSync(paths.folder, { recursive: true });
    const resumable = existsSync(join(paths.run, 'run.json')) && existsSync(join(paths.run, 'checkpoints', 'last.json'));
    o.log?.(`trial ${t.index} (${t.policy}, seed ${t.seed})${resumable ? ': resuming its run' : ''}`);
    const log = (l: string) => o.log?.(`  ${l}`);
    const r = resumable
      ? await finetune({ out: paths.run, resume: true, log })
      : await finetune({
          model: plan.model,
          data: plan.data,
          train: t.policy,
          epochs: plan.epochs,
          batch: plan.batch,
          lr: plan.lr,
          seed: t.seed,
          val: plan.val,
          ...(plan.trainSamples !== undefined ? { trainSamples: plan.trainSamples } : {}),
          ...(plan.precision ? { precision: plan.precision } : {}),
          out: paths.run,
          force: true,
          log,
        });
    const lines = readMetrics(paths.run);
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const perStep = lines.length > 0 && r.steps > 0 ? r.steps / lines.length : 0;
    const timed = lines.length > 1 ? lines.slice(1) : lines;
    const trainSeconds = timed.reduce((s, l) => s + (num(l.train_seconds) ?? 0), 0);
    const last = lines[lines.length - 1];
    const headMode = (readRunJson(paths.run).setup.headMode as HeadMode | undefined) ?? 'multiclass';
    const result: TrialResult = {
      format: TRIAL_FORMAT,
      index: t.index,
      policy: t.policy,
      seed: t.seed,
      name: t.name,
      val_miou: num(last?.val_miou),
      best_val_miou: num(r.bestMetrics?.val_miou),
      head_mode: headMode,
      ...(headMode === 'binary' ? { val_iou_fg: num(last?.val_miou_fg) } : {}),
      best_epoch: r.bestEpoch,
      epochs: lines.length,
      steps: r.steps,
      step_seconds: perStep > 0 ? trainSeconds / (perStep * timed.length) : null,
      wall_seconds: (performance.now() - started) / 1000,
      peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      resumed: resumable,
      backend: r.backend,
      host: hostname(),
      finishedAt: new Date().toISOString(),
      curve: lines.map((l) => ({ epoch: Number(l.epoch), train_loss: num(l.train_loss), val_miou: num(l.val_miou), val_loss: num(l.val_loss) })),
    };
    // The done mark, last and atomic: a worker killed before this line leaves the trial to be run (resumed) again.
    writeFileAtomic(paths.result, `${JSON.stringify(result, null, 1)}\n`);
    return { status: 'ran', result };
  } finally {
    lock.release();
  }
}

/** Trials of the plan without a result, in index order. */
export function missingTrials(dir: string, plan: SweepPlan): Trial[] {
  return plan.trials.filter((t) => readTrialResult(dir, t) === null);
}
