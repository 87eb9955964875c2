// The training loop: phases (freeze spec, optimizers) -> epochs of steps -> validation -> early stopping
// -> metrics.jsonl -> checkpoint, and at the end the best model written where other commands take it.
// Everything random derives from the seed: sample order from (seed, epoch), augmentation from (seed,
// epoch, sample), Dropout from (seed, epoch, step, layer); so a run resumed from the checkpoint of epoch N
// redoes epoch N+1 from its start and ends bitwise equal to a run never interrupted (same backend).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { batchesPerEpoch } from '../data/index.js';
import { convPrecisionCounts, cpuCapabilities, resolvePrecision, withPrecision, type Precision, type PrecisionSetting } from '../engine/precision.js';
import { saveModelFolder } from '../model/index.js';
import type { ClassInfo } from '../model/classes.js';
import type { ModelArchitecture, Provenance } from '../model/folder.js';
import type { HeadMode } from '../model/head_mode.js';
import type { LayerMap } from '../model/layer-map.js';
import { OptionError, RunError } from '../util/errors.js';
import { folderBatchSource } from './batch_source.js';
import {
  checkpointDir,
  loadCheckpointModel,
  readPointer,
  restoreOptimizerState,
  writeCheckpoint,
  type CheckpointState,
  type EarlyStopState,
} from './checkpoint.js';
import { DEFAULT_CACHE_MB, describeCache, planActivationCache, trainEpoch, type CacheDecision, type PrefixCache } from './epoch.js';
import { stepLoss } from './fused_logits.js';
import { evaluateModel } from './evaluate.js';
import { applyFreeze } from './freeze.js';
import { resolveTrainSpec } from './freeze_spec.js';
import type { LossFn } from './losses/index.js';
import { buildLrGroups, disposeGroups, layerMultipliers, parseLrMult, parseLrSpread, type LrGroup, type LrMultRule } from './lr_groups.js';
import { makeOptimizer, type OptimizerName } from './optimizers/index.js';
import { ProgressBar } from './progress.js';
import { appendMetrics, readMetrics, readRunJson, runPaths, truncateMetrics, writeRunJson } from './run_folder.js';
import { scheduleByName, type ScheduleName } from './schedules.js';
import { dropoutLayers } from './step.js';
import type { TrainingData } from './training_data.js';
import { parseUnfreeze, phaseEpochs, phaseIndexAt, singlePhase, type Phase } from './unfreeze.js';
import { parseAugment, type AugmentSpec } from '../data/augment.js';

/** The metrics early stopping and best-model selection can watch, and which way is better. */
export const MONITORS: Record<string, 'max' | 'min'> = {
  val_miou: 'max',
  val_miou_fg: 'max',
  val_dice: 'max',
  val_dice_fg: 'max',
  val_pixel_accuracy: 'max',
  val_loss: 'min',
  train_loss: 'min',
};

/** `val_miou:3` -> the metric and the patience in epochs. */
export function parseEarlyStop(text: string): { metric: string; patience: number } {
  const m = /^\s*([a-z_]+)\s*:\s*(\d+)\s*$/.exec(text);
  if (!m || !(m[1]! in MONITORS) || Number(m[2]) < 1) {
    throw new OptionError(
      'earlyStop',
      `must be a metric, one of ${Object.keys(MONITORS).join(', ')}, with a patience >= 1 (e.g. val_miou:3); got ${JSON.stringify(text)}`,
    );
  }
  return { metric: m[1]!, patience: Number(m[2]) };
}

/** Everything that decides a run's result (stored in run.json; a resumed run uses it as it is). */
export interface TrainConfig {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  loss: string;
  classWeights: string;
  optimizer: OptimizerName;
  weightDecay: number;
  momentum: number;
  schedule: ScheduleName;
  train: string | null;
  unfreeze: string | null;
  trainBn: boolean;
  lrMult: string | null;
  lrSpread: string | null;
  earlyStop: string | null;
  val: number;
  augment: string;
  /** Samples of the training split trained on (evenly spaced); absent: all. */
  trainSamples?: number;
  /**
   * The convolutions' precision (engine/precision.ts): fp32 (default, also for a run.json without it), bf16
   * (mixed: bf16 convolutions, fp32 accumulation, fp32 master weights, optimizer, BN, loss), or auto.
   */
  precision?: PrecisionSetting;
  /** The head mode asked for (null: the model's own; pretrain: multiclass). */
  headMode?: HeadMode | null;
}

/**
 * TrainConfig's spec texts (as the user wrote them, as run.json keeps them) parsed once, by planTraining:
 * what the loop works with.
 */
export interface TrainPlan {
  phases: Phase[];
  earlyStop: { metric: string; patience: number } | null;
  lrRules: LrMultRule[];
  lrSpread: { lo: number; hi: number } | null;
  augment: AugmentSpec;
  /** What config.precision means on this CPU (auto: bf16 where it can run); bf16 where it cannot is an OptionError. */
  precision: Precision;
}

/** Parses a config's texts; errors name the option field (options.lrMult, options.unfreeze, ...). */
export function planTraining(c: TrainConfig): TrainPlan {
  return {
    phases: c.unfreeze !== null ? parseUnfreeze(c.unfreeze, c.epochs) : singlePhase(c.train ?? 'all'),
    earlyStop: c.earlyStop ? parseEarlyStop(c.earlyStop) : null,
    lrRules: parseLrMult(c.lrMult ?? undefined),
    lrSpread: c.lrSpread ? parseLrSpread(c.lrSpread) : null,
    augment: parseAugment(c.augment),
    precision: resolvePrecision(c.precision ?? 'fp32'),
  };
}

export interface TrainerInput {
  runDir: string;
  /** Where the best model is written at the end (RUN/model, or the pretrained model's own folder). */
  finalModelDir: string;
  config: TrainConfig;
  plan: TrainPlan;
  unet: { model: tfl.LayersModel; options: ModelArchitecture; layerMap: LayerMap; headMode?: HeadMode };
  classes: ClassInfo[];
  data: TrainingData;
  loss: LossFn;
  provenance: Partial<Provenance>;
  /** The checkpoint the model was loaded from, when resuming. */
  resume?: { dir: string; state: CheckpointState } | null;
  log: (line: string) => void;
  progress: boolean;
  /** Log a line every N steps (0: only epoch lines). */
  logEvery: number;
  /** After each epoch, with its metrics line. */
  onEpoch?: (e: EpochEvent) => void;
  /** After each step. */
  onStep?: (s: StepEvent) => void;
  /** Stops after the step in progress (TrainingAborted); finished epochs stay checkpointed. */
  signal?: AbortSignal;
  /**
   * The frozen-prefix activation cache (epoch.ts): on unless `enabled` is false; it never changes results.
   * Default: on, 2048 MiB in memory, the rest spilled to RUN/activation-cache/.
   */
  cache?: { enabled: boolean; limitMb?: number };
}

/** What `onEpoch` gets: the epoch (1-based) and its metrics line, as metrics.jsonl records it. */
export interface EpochEvent {
  epoch: number;
  epochs: number;
  metrics: Record<string, unknown>;
}

/** What `onStep` gets after each training step. */
export interface StepEvent {
  epoch: number;
  /** The step within the epoch (1-based) and the steps per epoch. */
  batch: number;
  batches: number;
  /** Steps of the whole run so far. */
  step: number;
  loss: number;
  lr: number;
}

export interface TrainResult {
  run: string;
  model: string;
  epochs: number;
  steps: number;
  bestEpoch: number | null;
  monitor: string;
  best: number | null;
  stoppedEarly: boolean;
  final: Record<string, unknown> | null;
  bestMetrics: Record<string, unknown> | null;
  /** The trained model's head: for binary, val_miou is over background and foreground and val_miou_fg the foreground IoU. */
  headMode: HeadMode;
  seconds: number;
  /** The TF.js backend that ran it ('native', or 'cpu' without the native engine). */
  backend: string;
}

/** A run stopped through its AbortSignal: finished epochs are checkpointed; `resume` continues it. */
export class TrainingAborted extends RunError {
  constructor(
    readonly run: string,
    readonly epochsDone: number,
  ) {
    super(`${run}: stopped after ${epochsDone} finished epoch(s) (aborted); resume continues it`);
    this.name = 'TrainingAborted';
  }
}

const round = (v: number, d = 6) => Math.round(v * 10 ** d) / 10 ** d;

export async function runTraining(t: TrainerInput): Promise<TrainResult> {
  const started = performance.now();
  mkdirSync(t.runDir, { recursive: true });
  const precision = t.plan.precision;
  return withPrecision(precision, () => train(t, precision, started));
}

async function train(t: TrainerInput, precision: Precision, started: number): Promise<TrainResult> {
  const c = t.config;
  const { model, layerMap } = t.unet;
  const { phases, lrRules: rules, lrSpread: spread } = t.plan;
  const hasVal = t.data.val.length > 0;
  const early: EarlyStopState = t.resume
    ? { ...t.resume.state.early }
    : (() => {
        const es = t.plan.earlyStop;
        const metric = es?.metric ?? (hasVal ? 'val_miou' : 'train_loss');
        if (!hasVal && metric !== 'train_loss')
          throw new OptionError('earlyStop', `${c.earlyStop}: watches a validation metric, but there is no validation set (options.val 0)`);
        return { metric, mode: MONITORS[metric]!, patience: es?.patience ?? null, best: null, bestEpoch: null, bad: 0, stopped: false };
      })();
  const schedule = scheduleByName(c.schedule);
  const baseLr = spread ? spread.hi : c.lr;
  const stepsPerEpoch = batchesPerEpoch(t.data.train.length, c.batch);
  const dropouts = dropoutLayers(model);
  const source = folderBatchSource(t.data, c.seed);
  const cacheOptions = { enabled: t.cache?.enabled ?? true, limitMb: t.cache?.limitMb ?? DEFAULT_CACHE_MB, spillDir: join(t.runDir, 'activation-cache') };
  let cache: PrefixCache | null = null;
  const bar = new ProgressBar({ enabled: t.progress });
  t.log(stepLoss(model, t.loss).description);
  recordPrecision(t, precision);
  const convCallsBefore = { ...convPrecisionCounts };

  let epoch = t.resume?.state.epoch ?? 0;
  let step = t.resume?.state.step ?? 0;
  if (t.resume) truncateMetrics(t.runDir, epoch);
  let phaseIdx = -1;
  let groups: LrGroup[] = [];
  let trainableBlocks: string[] = [];
  let stepsHere = 0;
  bar.start();
  try {
    for (; epoch < c.epochs && !early.stopped; epoch++) {
      const pi = phaseIndexAt(phases, epoch);
      const phase = phases[pi]!;
      if (pi !== phaseIdx) {
        disposeGroups(groups);
        groups = [];
        const resolved = resolveTrainSpec(phase.spec, layerMap);
        const frozen = applyFreeze(model, layerMap, resolved, { trainBn: c.trainBn });
        const ratio = phase.spreadRatio ?? (spread ? spread.hi / spread.lo : 1);
        const opt = () => makeOptimizer(c.optimizer, baseLr, { weightDecay: c.weightDecay, momentum: c.momentum });
        groups = buildLrGroups(frozen.variables, layerMultipliers(layerMap, rules, ratio), opt);
        if (groups.length === 0)
          throw new OptionError('lrMult', `phase ${phase.spec}: every trainable layer has learning-rate multiplier 0; nothing would train`);
        trainableBlocks = resolved.blocks;
        // The checkpoint's optimizer state belongs to its phase; a new phase starts fresh optimizers.
        if (t.resume && phaseIdx === -1 && t.resume.state.phase === pi) await restoreOptimizerState(t.resume.dir, t.resume.state, groups);
        phaseIdx = pi;
        cache?.store.close();
        const planned = planActivationCache({ model, layerMap, freeze: frozen, groups, source, options: cacheOptions });
        cache = planned.cache;
        t.log(describeCache(planned.decision));
        recordCacheDecision(t.runDir, pi, epoch, planned.decision);
        if (phases.length > 1)
          t.log(
            `epoch ${epoch + 1}: training ${resolved.blocks.join(', ')} (${phase.spec}; ${frozen.variables.length} weight tensors, ${groups.length} rate group${groups.length > 1 ? 's' : ''})`,
          );
      }
      const [pStart, pEnd] = phaseEpochs(phases, pi, c.epochs);
      const phaseSteps = (pEnd - pStart) * stepsPerEpoch;
      const epochStart = performance.now();
      let lossSum = 0;
      let seen = 0;
      const done = await trainEpoch({
        model,
        loss: t.loss,
        groups,
        dropouts,
        seed: c.seed,
        epoch,
        batchSize: c.batch,
        source,
        cache,
        lrAt: (b) => baseLr * phase.lrScale * schedule.factor((epoch - pStart) * stepsPerEpoch + b, phaseSteps),
        onStep: (b, loss, lr, n) => {
          step++;
          stepsHere++;
          lossSum += loss * n;
          seen += n;
          if (!Number.isFinite(loss)) throw new RunError(`epoch ${epoch + 1}, batch ${b}: the loss is ${loss}; lower options.lr (now ${c.lr})`);
          t.onStep?.({ epoch: epoch + 1, batch: b, batches: stepsPerEpoch, step, loss, lr });
          if (t.signal?.aborted) throw new TrainingAborted(t.runDir, epoch);
          bar.update({
            epoch: epoch + 1,
            epochs: c.epochs,
            batch: b,
            batches: stepsPerEpoch,
            loss: lossSum / seen,
            metric: early.best !== null ? `best ${early.metric} ${early.best.toFixed(4)}` : undefined,
            doneHere: stepsHere,
            remaining: (c.epochs - epoch) * stepsPerEpoch - b,
          });
          if (t.logEvery > 0 && b % t.logEvery === 0) {
            bar.clear();
            t.log(`epoch ${epoch + 1} step ${b}/${stepsPerEpoch} loss ${loss.toFixed(5)} lr ${lr.toExponential(3)}`);
          }
        },
      });
      const lr = done.lr;
      bar.clear();
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const v = hasVal
        ? await evaluateModel(model, t.data.classes, t.data.ds, t.data.val, {
            sample: t.data.sample,
            batchSize: c.batch,
            loss: t.loss,
            headMode: t.data.headMode,
          })
        : null;
      const line: Record<string, unknown> = {
        epoch: epoch + 1,
        step,
        phase: pi,
        trainable: trainableBlocks,
        lr: round(lr, 9),
        train_loss: round(lossSum / Math.max(1, seen)),
        ...(v
          ? {
              val_loss: round(v.loss ?? NaN),
              val_miou: round(v.miou),
              val_miou_fg: round(v.miou_fg),
              val_dice: round(v.mean_dice),
              val_dice_fg: round(v.mean_dice_fg),
              val_pixel_accuracy: round(v.pixel_accuracy),
              val_iou: v.iou.map((x) => (x === null ? null : round(x))),
            }
          : {}),
        train_seconds: round(trainSeconds, 3),
        seconds: round((performance.now() - epochStart) / 1000, 3),
      };
      const value = line[early.metric] as number;
      const better = early.best === null || (early.mode === 'max' ? value > early.best : value < early.best);
      if (better) {
        early.best = value;
        early.bestEpoch = epoch + 1;
        early.bad = 0;
      } else {
        early.bad++;
      }
      if (early.patience !== null && early.bad >= early.patience) early.stopped = true;
      line.stopped_early = early.stopped;
      t.log(epochText(line, c.epochs, early));
      // The line first: a crash before the checkpoint only leaves a line that resume rewrites.
      appendMetrics(t.runDir, line);
      await writeCheckpoint({
        runDir: t.runDir,
        unet: t.unet,
        classes: t.classes,
        provenance: { ...t.provenance, checkpoint: { epoch: epoch + 1, step } },
        groups,
        state: {
          epoch: epoch + 1,
          step,
          phase: pi,
          early: { ...early },
          metrics: line,
          rng: { seed: c.seed, derivation: 'order (seed, epoch); augmentation (seed, epoch, stem); dropout (seed, epoch, step, layer index)' },
          optimizerName: c.optimizer,
        },
        bestEpoch: early.bestEpoch,
      });
      t.onEpoch?.({ epoch: epoch + 1, epochs: c.epochs, metrics: line });
      if (t.signal?.aborted && epoch + 1 < c.epochs) throw new TrainingAborted(t.runDir, epoch + 1);
    }
  } finally {
    disposeGroups(groups);
    cache?.store.close();
    bar.clear();
  }
  if (precision === 'bf16') {
    const fp32 = convPrecisionCounts.fp32 - convCallsBefore.fp32;
    const bf16 = convPrecisionCounts.bf16 - convCallsBefore.bf16;
    t.log(`precision bf16: ${bf16} native convolution calls in bf16, ${fp32} in fp32 (shapes with no bf16 kernel in oneDNN)`);
  }
  return finish(t, early, step, started);
}

/**
 * Says which precision and oneDNN ISA run, and records them in run.json (setup.precision; one entry per start,
 * so a resumed run shows both). A run resumed in another precision than it started in is not bitwise that of an
 * uninterrupted run: said in the log.
 */
function recordPrecision(t: TrainerInput, precision: Precision): void {
  const requested = t.config.precision ?? 'fp32';
  const isa = cpuCapabilities().onednnIsa;
  const what = precision === 'bf16' ? 'convolutions in bf16 with fp32 accumulation; weights, optimizer, BatchNorm and loss in fp32' : 'everything in fp32';
  t.log(`precision ${precision}${requested !== precision ? ` (requested ${requested})` : ''}, oneDNN ISA ${isa}: ${what}`);
  if (!existsSync(runPaths(t.runDir).runJson)) return;
  const run = readRunJson(t.runDir);
  const entries = (Array.isArray(run.setup.precision) ? run.setup.precision : []) as Record<string, unknown>[];
  const started = entries[0]?.effective;
  if (t.resume && started !== undefined && started !== precision) {
    t.log(`warning: the run started in ${String(started)} and resumes in ${precision}; the result will not be bitwise that of an uninterrupted run`);
  }
  const fromEpoch = (t.resume?.state.epoch ?? 0) + 1;
  run.setup.precision = [...entries.filter((e) => e.from_epoch !== fromEpoch), { from_epoch: fromEpoch, requested, effective: precision, onednn_isa: isa }];
  writeRunJson(t.runDir, run);
}

/** Adds the phase's cache decision to run.json (when the run has one): whether the cache was used, and why not. */
function recordCacheDecision(runDir: string, phase: number, epoch: number, d: CacheDecision): void {
  if (!existsSync(runPaths(runDir).runJson)) return;
  const run = readRunJson(runDir);
  const entries = (Array.isArray(run.setup.activationCache) ? run.setup.activationCache : []) as Record<string, unknown>[];
  const kept = entries.filter((e) => e.phase !== phase);
  kept.push({ phase, from_epoch: epoch + 1, ...d, prefix_layers: undefined });
  run.setup.activationCache = kept;
  writeRunJson(runDir, run);
}

function epochText(line: Record<string, unknown>, epochs: number, early: EarlyStopState): string {
  const f = (k: string) => (typeof line[k] === 'number' ? (line[k] as number).toFixed(4) : '-');
  const val = 'val_miou' in line ? ` val_loss ${f('val_loss')} val_miou ${f('val_miou')} val_dice ${f('val_dice')} pixel_acc ${f('val_pixel_accuracy')}` : '';
  const stop = line.stopped_early ? ` (early stop: no ${early.metric} improvement for ${early.patience} epochs)` : '';
  return `epoch ${line.epoch}/${epochs} loss ${f('train_loss')}${val} [${line.seconds}s]${stop}`;
}

/** Writes the best checkpoint's model to the final folder and sums up the run. */
async function finish(t: TrainerInput, early: EarlyStopState, step: number, started: number): Promise<TrainResult> {
  const best = readPointer(t.runDir, 'best') ?? readPointer(t.runDir, 'last');
  if (!best) throw new RunError(`${t.runDir}: the run has no checkpoint to take the model from`);
  const folder = await loadCheckpointModel(checkpointDir(t.runDir, best));
  try {
    await saveModelFolder(t.finalModelDir, folder, {
      classes: folder.classes,
      provenance: { ...t.provenance, run: runPaths(t.runDir).runJson, epoch: best.epoch, [early.metric]: best.value ?? null },
    });
  } finally {
    folder.model.dispose();
  }
  const lines = readMetrics(t.runDir);
  return {
    run: t.runDir,
    model: t.finalModelDir,
    epochs: lines.length,
    steps: step,
    bestEpoch: best.epoch,
    monitor: early.metric,
    best: early.best,
    stoppedEarly: early.stopped,
    final: lines[lines.length - 1] ?? null,
    bestMetrics: lines.find((l) => l.epoch === best.epoch) ?? null,
    headMode: folder.headMode,
    seconds: round((performance.now() - started) / 1000, 3),
    backend: tf.getBackend(),
  };
}
