// The training API: `pretrain` (a U-Net from scratch on a source data set) and `finetune` (a chosen part of a
// pretrained one on a target data set), with plain typed options. Both check their options once, here,
// write a run folder (run.json, metrics.jsonl, checkpoints/) and the best model, and resume exactly.
// The CLI (`unet-transfer pretrain|finetune`) only maps flags to these options and prints the result.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { LayersModel } from '@tensorflow/tfjs-layers';

import { readImageHeaderSync } from '../data/decode.js';
import { classStats, openFolderDataset, splitDataset } from '../data/index.js';
import { packageRoot } from '../engine/addon.js';
import { PRECISION_SETTINGS, useBestBackend, type PrecisionSetting } from '../engine/index.js';
import type { ModelArchitecture } from '../model/folder.js';
import { HEAD_MODES, headChannels, headClasses, type HeadMode } from '../model/head_mode.js';
import { buildUNet, loadModelFolder, sampleNormalizationOf, type ModelFolder } from '../model/index.js';
import type { LayerMap } from '../model/layer-map.js';
import { ARCHS, isEncoderArch, type Arch } from '../model/options.js';
import { resolveModelDir } from '../model/resolve.js';
import { checkChoice, checkInt, checkNumber } from '../util/check_options.js';
import { badInputOption, invalidOption, OptionError, UserError } from '../util/errors.js';
import { checkpointDir, loadCheckpointModel, readCheckpointState, readPointer } from './checkpoint.js';
import { DEFAULT_CACHE_MB } from './epoch.js';
import { evaluateModel } from './evaluate.js';
import { clearFreeze } from './freeze.js';
import { resolveTrainSpec } from './freeze_spec.js';
import { balancedWeights, LOSSES, makeLoss, parseClassWeights, type LossName } from './losses/index.js';
import type { LrMultRule } from './lr_groups.js';
import { requireTrainableHead, withNewHead } from './new_head.js';
import { OPTIMIZERS, type OptimizerName } from './optimizers/index.js';
import { isRunFolder, readRunJson, runPaths, versions, writeRunJson } from './run_folder.js';
import { SCHEDULES, type ScheduleName } from './schedules.js';
import { MONITORS, planTraining, runTraining, type EpochEvent, type StepEvent, type TrainConfig, type TrainResult } from './trainer.js';
import { modelClassesFrom, openTrainingData, type TrainingData } from './training_data.js';

export { TrainingAborted, type EpochEvent, type StepEvent, type TrainResult } from './trainer.js';

/** What `pretrain` and `finetune` share. Every field but `data` and `out` has a default. */
export interface TrainingOptions {
  /** The data set folder (images/ + masks/, or train/ and val/); not needed with `resume`. */
  data?: string;
  /** finetune: the run folder (the best model goes to OUT/model); pretrain: the model folder (its run in OUT/training). */
  out: string;
  /** Epochs (default 10). */
  epochs?: number;
  /** Batch size (default 8). */
  batch?: number;
  /** Base learning rate (default 1e-3). */
  lr?: number;
  /** Seed of order, augmentation, dropout, split and new weights (default 0). */
  seed?: number;
  /** Loss (default 'ce'); sigmoid heads (binary, multilabel) take 'bce' (which 'ce' means there), 'dice', 'bce+dice'. */
  loss?: LossName;
  /**
   * How the outputs become a segmentation: 'multiclass' (softmax over K classes), 'binary' (one sigmoid
   * channel; masks 0 and 1 or 255), 'multilabel' (K sigmoid channels; masks bit-packed, bit k = label k).
   * Default: the model's own (unet.json) for finetune, multiclass for pretrain; another than the model's
   * gives it a new head in that mode.
   */
  headMode?: HeadMode;
  /** Cross-entropy class weights: 'balanced' (median frequency), one weight per class, or 'none' (default). */
  classWeights?: 'none' | 'balanced' | number[];
  /** Optimizer (default 'adam'). */
  optimizer?: OptimizerName;
  /** AdamW's decoupled weight decay (default 0.01). */
  weightDecay?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Learning-rate schedule (default 'constant'). */
  schedule?: ScheduleName;
  /** Stop after `patience` epochs without improvement of `metric` (which also picks the best model). */
  earlyStop?: { metric: keyof typeof MONITORS; patience: number } | null;
  /** Validation fraction when the data set has no val/ folder (default 0.2). */
  val?: number;
  /** Train on this many samples of the training split, evenly spaced over it (default all): short trials. */
  trainSamples?: number;
  /** Augmentation, e.g. 'flip,crop:0.8,brightness:0.1' (default 'none'). */
  augment?: string;
  /**
   * The convolutions' precision (default 'fp32'). 'bf16': mixed precision, bf16 convolution inputs and weights with
   * fp32 accumulation; master weights, optimizer, BatchNorm, loss and saved models stay fp32. Needs a CPU with
   * AVX512-BF16 or AMX that oneDNN uses (elsewhere an OptionError). 'auto': bf16 where the CPU has it, else fp32.
   */
  precision?: PrecisionSetting;
  /** Continue the run in `out` from its last checkpoint, with the configuration of its run.json. */
  resume?: boolean;
  /** Replace an existing run (or model) in `out`. */
  force?: boolean;
  /** Progress and setup lines (default: none). */
  log?: (line: string) => void;
  /** Show a progress bar on stderr (default false). */
  progress?: boolean;
  /** Also log a line every N steps (default 0: epoch lines only). */
  logEvery?: number;
  /** Called after each epoch (its metrics line, as metrics.jsonl has it). */
  onEpoch?: (e: EpochEvent) => void;
  /** Called after each training step. */
  onStep?: (s: StepEvent) => void;
  /** Stops the run after the step in progress; the checkpoint of the last finished epoch stays, `resume` continues. */
  signal?: AbortSignal;
}

export interface PretrainOptions extends TrainingOptions {
  /** Architecture (default 'course'). */
  arch?: Arch;
  /** Filters of the first block (default 16). */
  filters?: number;
  /** Pooling steps (default 4). */
  depth?: number;
  /** Model input [height, width, channels] (default: the first picture's size and channels). */
  input?: [number, number, number];
  /** Number of classes when the data set has no classes.json. */
  classes?: number;
  /** Dropout rate (default 0.3 for course, 0 otherwise). */
  dropout?: number;
}

export interface FinetuneOptions extends TrainingOptions {
  /** The pretrained model folder, or a run folder (its model/). Not needed with `resume`. */
  model?: string;
  /** What to train, as a freeze spec: 'all', a region, block, range 'enc1-2', glob 'dec*_up', '!sel', 'shallow:K', 'deep:K', 'scratch'. */
  train?: string;
  /** Gradual unfreezing instead of `train`: 'head@0,decoder@2,all@4', or 'fine_tune' (fastai's recipe). */
  unfreeze?: string;
  /** Keep the BatchNorm layers of frozen blocks trainable and in training mode (fastai's train_bn). */
  trainBn?: boolean;
  /** Learning-rate multipliers by selector (later rules win), e.g. [{ selector: 'encoder', mult: 0.1 }] or 'encoder=0.1'. */
  lrMult?: LrMultRule[] | string;
  /** Rates spread geometrically from `lo` (input side) to `hi` (head); replaces `lr`. */
  lrSpread?: { lo: number; hi: number };
  /** Cache the frozen prefix's activations (default true; results are the same either way). */
  cache?: boolean;
  /** Memory for cached activations before they spill to OUT/activation-cache/ (MiB, default 2048). */
  cacheMb?: number;
}

/** Trains a U-Net from scratch; returns where the model and its run are, and the best epoch's metrics. */
export function pretrain(options: PretrainOptions): Promise<TrainResult> {
  return train('pretrain', options);
}

/** Fine-tunes a chosen part of a pretrained U-Net (see FinetuneOptions); returns the run's result. */
export function finetune(options: FinetuneOptions): Promise<TrainResult> {
  return train('finetune', options);
}

// ---- option checks ----------------------------------------------------------------------------------------

/** The configuration stored in run.json (defaults filled in), from checked options. */
function configOf(o: FinetuneOptions & PretrainOptions, finetune: boolean): TrainConfig {
  checkInt(o, 'epochs', 1, 100000);
  checkInt(o, 'batch', 1, 4096);
  checkNumber(o, 'lr', 0, 10, true);
  checkInt(o, 'seed', 0, 2 ** 31 - 1);
  checkChoice(o, 'loss', LOSSES);
  checkChoice(o, 'headMode', HEAD_MODES);
  checkChoice(o, 'optimizer', OPTIMIZERS);
  checkNumber(o, 'weightDecay', 0, 1);
  checkNumber(o, 'momentum', 0, 0.9999);
  checkChoice(o, 'schedule', SCHEDULES);
  checkChoice(o, 'precision', PRECISION_SETTINGS);
  checkNumber(o, 'val', 0, 0.95);
  checkInt(o, 'logEvery', 0);
  checkInt(o, 'cacheMb', 0, 1 << 30);
  checkInt(o, 'trainSamples', 1, 2 ** 31 - 1);
  const lrSpread = finetune && o.lrSpread ? `${o.lrSpread.lo}:${o.lrSpread.hi}` : null;
  if (lrSpread !== null && o.lr !== undefined) throw new OptionError('lrSpread', 'sets the rates itself (hi at the head); leave options.lr out');
  const lrMult =
    finetune && o.lrMult !== undefined ? (typeof o.lrMult === 'string' ? o.lrMult : o.lrMult.map((r) => `${r.selector}=${r.mult}`).join(',')) : null;
  const classWeights = o.classWeights === undefined ? 'none' : Array.isArray(o.classWeights) ? o.classWeights.join(',') : o.classWeights;
  const c: TrainConfig = {
    epochs: o.epochs ?? 10,
    batch: o.batch ?? 8,
    lr: o.lr ?? 1e-3,
    seed: o.seed ?? 0,
    loss: o.loss ?? 'ce',
    classWeights,
    optimizer: o.optimizer ?? 'adam',
    weightDecay: o.weightDecay ?? 0.01,
    momentum: o.momentum ?? 0.9,
    schedule: o.schedule ?? 'constant',
    train: finetune ? (o.train ?? null) : 'scratch',
    unfreeze: finetune ? (o.unfreeze ?? null) : null,
    trainBn: finetune && o.trainBn === true,
    lrMult,
    lrSpread,
    earlyStop: o.earlyStop ? `${o.earlyStop.metric}:${o.earlyStop.patience}` : null,
    val: o.val ?? 0.2,
    augment: o.augment ?? 'none',
    // Only when given, so that run.json of every other run stays as it was.
    ...(o.trainSamples !== undefined ? { trainSamples: o.trainSamples } : {}),
    precision: o.precision ?? 'fp32',
    headMode: o.headMode ?? null,
  };
  if (finetune) {
    if (c.train !== null && c.unfreeze !== null)
      throw new OptionError(
        'train',
        'and options.unfreeze both say what trains; unfreeze stages start with their own set (e.g. head@0), so leave options.train out',
      );
    if (c.train === null && c.unfreeze === null && o.resume !== true)
      throw new OptionError('train', 'is required (what to fine-tune: e.g. decoder, head, all, enc1-2), or options.unfreeze');
  }
  return c;
}

/** Options given with `resume` that would change the run: each must equal run.json's value. */
function checkResumeOptions(o: object, stored: TrainConfig, given: TrainConfig, runJson: string): void {
  const keys: (keyof TrainConfig)[] = [
    'epochs',
    'batch',
    'lr',
    'seed',
    'loss',
    'classWeights',
    'optimizer',
    'weightDecay',
    'momentum',
    'schedule',
    'train',
    'unfreeze',
    'trainBn',
    'lrMult',
    'lrSpread',
    'earlyStop',
    'val',
    'augment',
    'headMode',
    'precision',
    'trainSamples',
  ];
  for (const key of keys) {
    if ((o as Record<string, unknown>)[key] === undefined) continue;
    if (JSON.stringify(given[key]) !== JSON.stringify(stored[key])) {
      throw badInputOption(
        key,
        `is ${JSON.stringify(stored[key])} in ${runJson}, the run that options.resume continues; you passed ${JSON.stringify(given[key])} (leave options.${key} out, or start a new run in another options.out)`,
      );
    }
  }
}

function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Prepares the run folder: refuses to overwrite a run unless `force`. */
function prepareRunDir(runDir: string, force: boolean): void {
  if (isRunFolder(runDir) && !force)
    throw badInputOption(
      'out',
      `${runDir}: already holds a run (run.json); set options.resume to continue it, options.force to replace it, or choose another options.out`,
    );
  if (isRunFolder(runDir)) {
    for (const p of [runPaths(runDir).checkpoints, runPaths(runDir).metrics, runPaths(runDir).runJson]) rmSync(p, { recursive: true, force: true });
  }
  mkdirSync(runDir, { recursive: true });
}

/** With `resume` and a checkpoint: the checkpoint's model and state. */
async function loadResumePoint(runDir: string): Promise<{ folder: ModelFolder; dir: string; state: ReturnType<typeof readCheckpointState> } | null> {
  const last = readPointer(runDir, 'last');
  if (!last) return null;
  const dir = checkpointDir(runDir, last);
  return { folder: await loadCheckpointModel(dir), dir, state: readCheckpointState(dir) };
}

async function classWeightsFor(c: TrainConfig, data: TrainingData): Promise<number[] | undefined> {
  if (c.loss === 'dice') return undefined;
  const spec = parseClassWeights(c.classWeights, data.classes);
  if (spec.kind === 'none') return undefined;
  if (data.headMode !== 'multiclass')
    throw new OptionError(
      'classWeights',
      `weight the softmax cross-entropy of a multiclass head; this head is ${data.headMode} (leave options.classWeights out)`,
    );
  if (spec.kind === 'list') return spec.weights;
  const stats = await classStats(data.ds, data.train, { numClasses: data.classes });
  const pixels = new Array<number>(data.classes).fill(0);
  for (const s of stats.classes) if (s.id < data.classes) pixels[s.id] = s.pixels;
  return balancedWeights(pixels);
}

type Trainable = { model: LayersModel; options: ModelArchitecture; layerMap: LayerMap; headMode: HeadMode };

async function train(kind: 'pretrain' | 'finetune', o: FinetuneOptions & PretrainOptions): Promise<TrainResult> {
  const finetune = kind === 'finetune';
  if (typeof o.out !== 'string' || o.out === '')
    throw invalidOption('out', `a folder path (${finetune ? 'the run folder to write' : 'the model folder to write; its run goes to OUT/training'})`, o.out);
  const runDir = resolve(finetune ? o.out : join(o.out, 'training'));
  const finalModelDir = resolve(finetune ? join(o.out, 'model') : o.out);
  const resume = o.resume === true;
  const log = o.log ?? (() => {});
  let config = configOf(o, finetune);
  let plan = planTraining(config);
  let source: { model: string | null; data: string };
  let runJsonStored: ReturnType<typeof readRunJson> | null = null;
  if (resume) {
    if (!isRunFolder(runDir)) throw badInputOption('resume', `${runDir}: no run to resume (no run.json); start it without options.resume`);
    runJsonStored = readRunJson(runDir);
    const stored = runJsonStored.config as unknown as TrainConfig & { data: string; model: string | null };
    stored.precision ??= 'fp32'; // runs from before the option
    checkResumeOptions(o, stored, config, runPaths(runDir).runJson);
    for (const key of ['data', 'model'] as const) {
      const given = o[key];
      if (given !== undefined && resolve(given) !== stored[key])
        throw badInputOption(key, `is ${resolve(given)}, but ${runPaths(runDir).runJson} trains with ${stored[key]}`);
    }
    config = stored;
    plan = planTraining(stored);
    source = { model: stored.model, data: stored.data };
  } else {
    if (typeof o.data !== 'string' || o.data === '') throw invalidOption('data', 'a data set folder with images/ and masks/, or train/ and val/', o.data);
    if (finetune && (typeof o.model !== 'string' || o.model === '')) throw invalidOption('model', 'the pretrained model folder', o.model);
    source = { model: finetune ? resolve(o.model!) : null, data: resolve(o.data) };
  }
  if (!finetune && !resume && existsSync(join(finalModelDir, 'model.json')) && o.force !== true) {
    throw badInputOption(
      'out',
      `${o.out}: already holds a model (model.json); set options.force to replace it, options.resume to continue its training, or choose another options.out`,
    );
  }
  if (!finetune) {
    checkChoice(o, 'arch', ARCHS);
    checkInt(o, 'filters', 1, 1024);
    checkInt(o, 'classes', 1, 65536);
    checkNumber(o, 'dropout', 0, 0.99);
  }
  const { phases } = plan;
  const backend = await useBestBackend('native', log);

  // Models this call made or loaded (each disposed once at the end).
  const owned = new Set<LayersModel>();
  const point = resume ? await loadResumePoint(runDir) : null;
  if (point) owned.add(point.folder.model);
  let unet: Trainable;
  const setup: Record<string, unknown> = {};
  let modelClasses: number | undefined;
  let modelInput: [number, number, number];
  // The head mode asked for (run.json's on resume), else the model's, else multiclass.
  let headMode: HeadMode = config.headMode ?? 'multiclass';
  let sourceFolder: ModelFolder | null = null;
  try {
    if (finetune) {
      const modelDir = resolveModelDir(source.model!, 'model');
      sourceFolder = point ? null : await loadModelFolder(modelDir);
      if (sourceFolder) owned.add(sourceFolder.model);
      const meta = point ? point.folder : sourceFolder!;
      modelClasses = headClasses(meta.headMode, meta.options.classes);
      headMode = point ? point.folder.headMode : (config.headMode ?? meta.headMode);
      modelInput = meta.options.input;
      for (const w of meta.warnings) log(`warning: ${w}`);
      source.model = modelDir;
    } else if (point) {
      modelInput = point.folder.options.input;
      headMode = point.folder.headMode;
    } else if (o.input) {
      modelInput = o.input;
    } else {
      // The first picture's size and channels (grey stays grey).
      const ds0 = openFolderDataset(source.data);
      const h = readImageHeaderSync(ds0.pairs[0]!.image, ds0.maxPixels);
      modelInput = [h.height, h.width, h.channels === 1 ? 1 : 3];
    }
    const data = openTrainingData(source.data, {
      valFraction: config.val,
      seed: config.seed,
      input: modelInput,
      modelClasses: finetune ? modelClasses : o.classes,
      augment: plan.augment,
      headMode,
      trainSamples: config.trainSamples,
    });
    // The output channels of the head the data need (a binary head: one channel for its two classes).
    const channels = headChannels(headMode, data.classes);
    const classes = modelClassesFrom(data.ds.classes, data.classes);
    setup.data = { train: data.train.length, val: data.val.length, split: data.splitSource, classes: data.classes, input: modelInput };

    if (point) {
      unet = point.folder;
    } else if (!finetune) {
      // Encoder archs have their own defaults (fixed depth, their reference's decoder widths).
      const encoder = isEncoderArch(o.arch ?? 'course');
      unet = {
        ...buildUNet({
          arch: o.arch,
          depth: o.depth,
          filters: o.filters ?? (encoder ? undefined : 16),
          classes: channels,
          input: modelInput,
          dropout: o.dropout,
          seed: config.seed,
        }),
        headMode,
      };
      owned.add(unet.model);
      setup.architecture = unet.options;
    } else {
      const src = sourceFolder!;
      const first = resolveTrainSpec(phases[0]!.spec, src.layerMap);
      if (first.fromScratch) {
        if (src.options.arch === 'adopted')
          throw new OptionError(
            'train',
            `scratch rebuilds the architecture, which an adopted model (${source.model}) does not record; train it from its weights instead`,
          );
        unet = { ...buildUNet({ ...src.options, classes: channels, seed: config.seed }), headMode };
        owned.add(unet.model);
        setup.fromScratch = true;
      } else if (src.options.classes !== channels || src.headMode !== headMode) {
        const from = headClasses(src.headMode, src.options.classes);
        requireTrainableHead(src.model, first.trainable, from, data.classes, phases[0]!.spec, { from: src.headMode, to: headMode });
        unet = await withNewHead(src, data.classes, config.seed, headMode);
        owned.add(unet.model);
        setup.newHead = { from, to: data.classes, ...(src.headMode !== headMode ? { headMode: { from: src.headMode, to: headMode } } : {}) };
        log(`the model predicts ${from} classes (${src.headMode}), the data has ${data.classes} (${headMode}): its output layer starts fresh`);
      } else {
        unet = src;
      }
      // Every phase's spec must resolve against the model (a typo fails now, not at epoch 4).
      for (const p of phases) resolveTrainSpec(p.spec, unet.layerMap);
    }
    // The data feed the model as its backbone expects (e.g. [-1, 1] for Keras' MobileNetV2).
    data.sample = { ...data.sample, normalize: sampleNormalizationOf(unet.options) };
    if (unet.options.classes !== channels)
      throw new UserError(`${source.data}: has ${data.classes} classes, the model being trained ${headClasses(unet.headMode, unet.options.classes)}`);
    setup.headMode = headMode;

    const weights = await classWeightsFor(config, data);
    if (weights) setup.classWeights = weights.map((w) => Math.round(w * 1e6) / 1e6);
    const loss = makeLoss(config.loss as LossName, weights, headMode);

    if (!resume) {
      prepareRunDir(runDir, o.force === true);
      writeRunJson(runDir, {
        format: 'unet-transfer/run',
        version: 1,
        command: kind,
        createdAt: new Date().toISOString(),
        seed: config.seed,
        versions: versions(),
        config: { ...config, data: source.data, model: source.model, phases } as unknown as Record<string, unknown>,
        setup,
      });
    } else if (versions().backend !== runJsonStored!.versions.backend) {
      log(
        `warning: the run started on the ${runJsonStored!.versions.backend} backend and resumes on ${backend}; the result will not be bitwise that of an uninterrupted run`,
      );
    }
    const provenance = {
      createdBy: `unet-transfer ${toolVersion()} ${kind}`,
      createdAt: new Date().toISOString(),
      trainedOn: { dataset: source.data, samples: data.train.length },
      parent: finetune && sourceFolder ? { dir: source.model!, weightsSha256: sourceFolder.weights.sha256, train: config.train ?? config.unfreeze } : null,
    };
    if (point) log(`resuming ${runDir} after epoch ${point.state.epoch} (step ${point.state.step})`);
    const result = await runTraining({
      runDir,
      finalModelDir,
      config,
      plan,
      unet,
      classes,
      data,
      loss,
      provenance,
      resume: point ? { dir: point.dir, state: point.state } : null,
      log,
      progress: o.progress === true,
      logEvery: o.logEvery ?? 0,
      onEpoch: o.onEpoch,
      onStep: o.onStep,
      signal: o.signal,
      cache: { enabled: o.cache !== false, limitMb: o.cacheMb ?? DEFAULT_CACHE_MB },
    });
    return result;
  } finally {
    for (const m of owned) {
      clearFreeze(m);
      m.dispose();
    }
  }
}

export interface EvaluateOptions {
  /** A model folder, or a run folder (its model/, and its split and seed by default). */
  model: string;
  /** The data set folder. */
  data: string;
  /** Which samples (default: val when the data set has val/ or a run gives the split, else all). */
  split?: 'val' | 'train' | 'all';
  /** Validation fraction of a seeded split (default: the run's, or 0.2). */
  val?: number;
  /** Seed of a seeded split (default: the run's, or 0). */
  seed?: number;
  /** Batch size (default 8). */
  batch?: number;
  log?: (line: string) => void;
}

export interface Evaluation {
  model: string;
  data: string;
  split: 'val' | 'train' | 'all';
  /** The model's head: for binary, `miou` is over background and foreground and `miou_fg` the foreground IoU. */
  head_mode: HeadMode;
  samples: number;
  miou: number;
  miou_fg: number;
  dice: number;
  dice_fg: number;
  pixel_accuracy: number;
  per_class: { id: number; name: string; iou: number | null; dice: number | null }[];
}

/** Measures a model on a data set: per-class IoU, mIoU (with and without background), Dice, pixel accuracy. */
export async function evaluate(o: EvaluateOptions): Promise<Evaluation> {
  checkNumber(o, 'val', 0, 0.95);
  checkInt(o, 'seed', 0, 2 ** 31 - 1);
  checkInt(o, 'batch', 1, 4096);
  checkChoice(o, 'split', ['val', 'train', 'all']);
  const run = isRunFolder(o.model) ? readRunJson(o.model) : null;
  const modelDir = resolveModelDir(o.model, 'model');
  const stored = (run?.config ?? {}) as Partial<TrainConfig>;
  const valFraction = o.val ?? stored.val ?? 0.2;
  const seed = o.seed ?? stored.seed ?? 0;
  await useBestBackend('native', o.log);
  const folder = await loadModelFolder(modelDir);
  try {
    for (const w of folder.warnings) o.log?.(`warning: ${w}`);
    const classCount = headClasses(folder.headMode, folder.options.classes);
    const data = openTrainingData(o.data, {
      valFraction,
      seed,
      input: folder.options.input,
      modelClasses: classCount,
      normalize: sampleNormalizationOf(folder.options),
      headMode: folder.headMode,
    });
    if (data.classes !== classCount)
      throw badInputOption(
        'data',
        `${o.data}: has ${data.classes} classes, the model ${classCount}; evaluate a model trained for these classes (finetune gives it a new head)`,
      );
    const ds = data.ds;
    const split = o.split ?? (ds.layout === 'splits' && data.splitSource === 'folders' ? 'val' : run ? 'val' : 'all');
    const pairs = split === 'all' ? ds.pairs : splitDataset(ds, { valFraction, seed })[split];
    if (pairs.length === 0) throw badInputOption('data', `${o.data}: the ${split} split is empty`);
    const r = await evaluateModel(folder.model, classCount, ds, pairs, { sample: data.sample, batchSize: o.batch ?? 8, headMode: folder.headMode });
    return {
      model: modelDir,
      data: o.data,
      split,
      head_mode: folder.headMode,
      samples: r.samples,
      miou: r.miou,
      miou_fg: r.miou_fg,
      dice: r.mean_dice,
      dice_fg: r.mean_dice_fg,
      pixel_accuracy: r.pixel_accuracy,
      per_class: folder.classes.map((c, i) => ({ id: i, name: c.name, iou: r.iou[i] ?? null, dice: r.dice[i] ?? null })),
    };
  } finally {
    folder.model.dispose();
  }
}
