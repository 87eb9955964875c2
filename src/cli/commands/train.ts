// `pretrain`, `finetune` and `evaluate`: train a U-Net from scratch on a source data set, fine-tune a
// chosen part of a pretrained one on a target data set (freeze specs, BN handling, per-region rates,
// gradual unfreezing, exact resume), and measure a model on a data set.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { LayersModel } from '@tensorflow/tfjs-layers';

import { packageRoot } from '../../engine/addon.js';
import { useBestBackend } from '../../engine/index.js';
import { buildUNet, loadModelFolder, type ModelFolder } from '../../model/index.js';
import type { ModelArchitecture } from '../../model/folder.js';
import type { LayerMap } from '../../model/layer-map.js';
import { ARCHS, DEFAULTS, MAX_DEPTH, MIN_DEPTH, parseInputSize } from '../../model/options.js';
import { HEAD_MODES, headChannels, headClasses, parseHeadMode, type HeadMode } from '../../model/head_mode.js';
import { readImageHeaderSync } from '../../data/decode.js';
import { classStats, openFolderDataset, splitDataset } from '../../data/index.js';
import { checkpointDir, loadCheckpointModel, readCheckpointState, readPointer } from '../../train/checkpoint.js';
import { DEFAULT_CACHE_MB } from '../../train/epoch.js';
import { evaluateModel } from '../../train/evaluate.js';
import { clearFreeze } from '../../train/freeze.js';
import { resolveTrainSpec } from '../../train/freeze_spec.js';
import { balancedWeights, makeLoss, parseClassWeights, parseLossName } from '../../train/losses/index.js';
import { parseLrMult, parseLrSpread } from '../../train/lr_groups.js';
import { requireTrainableHead, withNewHead } from '../../train/new_head.js';
import { parseOptimizerName } from '../../train/optimizers/index.js';
import { isRunFolder, readRunJson, runPaths, versions, writeRunJson } from '../../train/run_folder.js';
import { scheduleByName } from '../../train/schedules.js';
import { MONITORS, parseEarlyStop, runTraining, type TrainConfig, type TrainResult } from '../../train/trainer.js';
import { modelClassesFrom, openTrainingData } from '../../train/training_data.js';
import { parseUnfreeze, singlePhase, type Phase } from '../../train/unfreeze.js';
import { UsageError, UserError } from '../../util/errors.js';
import { intOption, type Command, type CommandIO, type OptionSpec, type ParsedArgs } from '../command.js';

const TRAINING_OPTIONS: Record<string, OptionSpec> = {
  data: { type: 'string', valueName: 'DIR', description: 'the data set folder (images/ + masks/, or train/ and val/)' },
  epochs: { type: 'string', valueName: 'N', description: 'epochs (default 10)' },
  batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  lr: { type: 'string', valueName: 'RATE', description: 'base learning rate (default 1e-3)' },
  seed: { type: 'string', valueName: 'N', description: 'seed of order, augmentation, dropout, split and new weights (default 0)' },
  loss: { type: 'string', valueName: 'L', description: 'ce, dice or ce+dice (default ce); sigmoid heads: bce (= ce), dice, bce+dice' },
  'head-mode': { type: 'string', valueName: 'M', description: `${HEAD_MODES.join(', ')}: how outputs become a segmentation (default: the model's; pretrain multiclass)` },
  'class-weights': { type: 'string', valueName: 'W', description: 'cross-entropy class weights: balanced (median frequency) or w0,w1,... (default none)' },
  optimizer: { type: 'string', valueName: 'O', description: 'adam, adamw or sgd (momentum) (default adam)' },
  'weight-decay': { type: 'string', valueName: 'WD', description: 'AdamW decoupled weight decay (default 0.01)' },
  momentum: { type: 'string', valueName: 'M', description: 'SGD momentum (default 0.9)' },
  schedule: { type: 'string', valueName: 'S', description: 'learning-rate schedule: constant, cosine, one-cycle (default constant)' },
  'early-stop': { type: 'string', valueName: 'METRIC:N', description: `stop after N epochs without improvement of METRIC (${Object.keys(MONITORS).join(', ')}); also picks the best model` },
  val: { type: 'string', valueName: 'F', description: 'validation fraction when the data set has no val/ folder (default 0.2)' },
  augment: { type: 'string', valueName: 'SPEC', description: 'augmentation, e.g. flip,crop:0.8,brightness:0.1 (default none)' },
  out: { type: 'string', valueName: 'DIR', description: 'where to write' },
  resume: { type: 'boolean', description: 'continue the run in --out from its last checkpoint (configuration from its run.json)' },
  force: { type: 'boolean', description: 'replace an existing run in --out' },
  'log-every': { type: 'string', valueName: 'N', description: 'print a line every N steps on stderr (for logs without a terminal)' },
};

const FINETUNE_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', valueName: 'DIR', description: 'the pretrained model folder (or a run folder: its model/)' },
  train: { type: 'string', valueName: 'SPEC', description: 'what to train: all, a region, block, range enc1-2, glob dec*_up, !sel, shallow:K, deep:K, scratch' },
  'train-bn': { type: 'boolean', description: 'keep BatchNorm layers of frozen blocks trainable and in training mode (fastai train_bn)' },
  'lr-mult': { type: 'string', valueName: 'SEL=M,...', description: 'learning-rate multipliers, e.g. encoder=0.1,bottleneck=0.3' },
  'lr-spread': { type: 'string', valueName: 'LO:HI', description: 'rates spread geometrically from LO (input side) to HI (head); replaces --lr' },
  unfreeze: { type: 'string', valueName: 'STAGES', description: 'gradual unfreezing, e.g. head@0,decoder@2,all@4, or fine_tune (instead of --train)' },
  'no-cache': { type: 'boolean', description: 'do not cache the frozen prefix\'s activations (by default, with a frozen input side and no augmentation, it runs once per image; results are the same)' },
  'cache-mb': { type: 'string', valueName: 'MB', description: 'memory for cached activations before they spill to RUN/activation-cache/ (default 2048)' },
};

const num = (args: ParsedArgs, name: string, lo: number, hi: number, dflt: number, loOpen = false): number => {
  const raw = args.values[name];
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v > hi || (loOpen ? v <= lo : v < lo)) {
    throw new UsageError(`--${name} must be a number ${loOpen ? '>' : '>='} ${lo}${hi < Infinity ? ` and <= ${hi}` : ''}, got ${JSON.stringify(raw)}`);
  }
  return v;
};
const str = (args: ParsedArgs, name: string): string | null => {
  const v = args.values[name];
  return typeof v === 'string' ? v : null;
};

/** The training configuration from the command line (defaults for what is not given), checked. */
function configFromArgs(args: ParsedArgs, finetune: boolean, resume: boolean): TrainConfig {
  const epochs = args.values.epochs === undefined ? 10 : intOption(args, 'epochs', 1, 100000);
  const lrSpread = finetune ? str(args, 'lr-spread') : null;
  if (lrSpread !== null) parseLrSpread(lrSpread);
  if (lrSpread !== null && args.values.lr !== undefined) throw new UsageError('--lr-spread LO:HI sets the rates itself (HI at the head); drop --lr');
  const c: TrainConfig = {
    epochs,
    batch: args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096),
    lr: num(args, 'lr', 0, 10, 1e-3, true),
    seed: args.values.seed === undefined ? 0 : intOption(args, 'seed', 0, 2 ** 31 - 1),
    loss: parseLossName(str(args, 'loss') ?? 'ce'),
    classWeights: str(args, 'class-weights') ?? 'none',
    optimizer: parseOptimizerName(str(args, 'optimizer') ?? 'adam'),
    weightDecay: num(args, 'weight-decay', 0, 1, 0.01),
    momentum: num(args, 'momentum', 0, 0.9999, 0.9),
    schedule: scheduleByName(str(args, 'schedule') ?? 'constant').name,
    train: finetune ? str(args, 'train') : 'scratch',
    unfreeze: finetune ? str(args, 'unfreeze') : null,
    trainBn: finetune && args.values['train-bn'] === true,
    lrMult: finetune ? str(args, 'lr-mult') : null,
    lrSpread,
    earlyStop: str(args, 'early-stop'),
    val: num(args, 'val', 0, 0.95, 0.2),
    augment: str(args, 'augment') ?? 'none',
    headMode: args.values['head-mode'] === undefined ? null : parseHeadMode(args.values['head-mode'], 'head-mode'),
  };
  if (c.earlyStop !== null) parseEarlyStop(c.earlyStop);
  if (c.lrMult !== null) parseLrMult(c.lrMult);
  if (finetune) {
    if (c.train !== null && c.unfreeze !== null) throw new UsageError('--train and --unfreeze both say what trains; --unfreeze stages start with their own set (e.g. head@0), so drop --train');
    if (c.train === null && c.unfreeze === null && !resume) throw new UsageError('--train SPEC is required (what to fine-tune: e.g. decoder, head, all, enc1-2), or --unfreeze STAGES');
  }
  return c;
}

/** Options the user gave that a resumed run must not change: each must equal run.json's value. */
function checkResumeArgs(args: ParsedArgs, stored: TrainConfig, given: TrainConfig, runJson: string): void {
  const keyOf: Record<string, keyof TrainConfig> = {
    epochs: 'epochs', batch: 'batch', lr: 'lr', seed: 'seed', loss: 'loss', 'class-weights': 'classWeights', optimizer: 'optimizer', 'weight-decay': 'weightDecay',
    momentum: 'momentum', schedule: 'schedule', train: 'train', unfreeze: 'unfreeze', 'train-bn': 'trainBn', 'lr-mult': 'lrMult', 'lr-spread': 'lrSpread',
    'early-stop': 'earlyStop', val: 'val', augment: 'augment', 'head-mode': 'headMode',
  };
  for (const [flag, key] of Object.entries(keyOf)) {
    if (args.values[flag] === undefined) continue;
    if (JSON.stringify(given[key]) !== JSON.stringify(stored[key])) {
      throw new UserError(`--resume continues the run as ${runJson} configures it, where ${flag} is ${JSON.stringify(stored[key])}; you passed ${JSON.stringify(given[key])} (drop --${flag}, or start a new run in another --out)`);
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

/** Prepares RUN: refuses to overwrite a run unless --force; with --resume requires one. */
function prepareRunDir(runDir: string, resume: boolean, force: boolean): void {
  const has = isRunFolder(runDir);
  if (resume && !has) throw new UserError(`${runDir}: no run to resume (no run.json); start it without --resume`);
  if (!resume && has && !force) throw new UserError(`${runDir}: already holds a run (run.json); pass --resume to continue it, --force to replace it, or choose another --out`);
  if (!resume && has && force) {
    for (const p of [runPaths(runDir).checkpoints, runPaths(runDir).metrics, runPaths(runDir).runJson]) rmSync(p, { recursive: true, force: true });
  }
  mkdirSync(runDir, { recursive: true });
}

interface Prepared {
  unet: { model: LayersModel; options: ModelArchitecture; layerMap: LayerMap; headMode: HeadMode };
}

/** With --resume and a checkpoint: the checkpoint's model and state. */
async function loadResumePoint(runDir: string): Promise<{ folder: ModelFolder; dir: string; state: ReturnType<typeof readCheckpointState> } | null> {
  const last = readPointer(runDir, 'last');
  if (!last) return null;
  const dir = checkpointDir(runDir, last);
  const state = readCheckpointState(dir);
  const folder = await loadCheckpointModel(dir);
  return { folder, dir, state };
}

function phasesOf(c: TrainConfig): Phase[] {
  return c.unfreeze !== null ? parseUnfreeze(c.unfreeze, c.epochs) : singlePhase(c.train ?? 'all');
}

async function classWeightsFor(c: TrainConfig, data: ReturnType<typeof openTrainingData>): Promise<number[] | undefined> {
  if (c.loss === 'dice' || data.headMode !== 'multiclass') return undefined;
  const spec = parseClassWeights(c.classWeights, data.classes);
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'list') return spec.weights;
  const stats = await classStats(data.ds, data.train, { numClasses: data.classes });
  const pixels = new Array<number>(data.classes).fill(0);
  for (const s of stats.classes) if (s.id < data.classes) pixels[s.id] = s.pixels;
  return balancedWeights(pixels);
}

function printResult(io: CommandIO, r: TrainResult, extra: Record<string, unknown>): void {
  if (io.json) {
    io.out(JSON.stringify({ ...extra, ...r }));
    return;
  }
  const b = r.bestMetrics ?? {};
  const f = (k: string) => (typeof b[k] === 'number' ? (b[k] as number).toFixed(4) : '-');
  const monitor = r.monitor === 'val_miou' ? '' : `${r.monitor} ${r.best?.toFixed(4) ?? '-'}, `;
  io.out(`${r.model}: best epoch ${r.bestEpoch} of ${r.epochs}${r.stoppedEarly ? ' (stopped early)' : ''}: ${monitor}val_miou ${f('val_miou')}, val_dice ${f('val_dice')}, pixel accuracy ${f('val_pixel_accuracy')}`);
  if (!io.quiet) io.out(`run: ${r.run} (run.json, metrics.jsonl, checkpoints/) in ${r.seconds.toFixed(1)} s`);
}

async function train(kind: 'pretrain' | 'finetune', args: ParsedArgs, io: CommandIO): Promise<number> {
  const finetune = kind === 'finetune';
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const out = str(args, 'out');
  if (!out) throw new UsageError(`--out DIR is required (${finetune ? 'the run folder to write' : 'the model folder to write; its run goes to DIR/training'})`);
  const runDir = resolve(finetune ? out : join(out, 'training'));
  const finalModelDir = resolve(finetune ? join(out, 'model') : out);
  const resume = args.values.resume === true;
  const logEvery = args.values['log-every'] === undefined ? 0 : intOption(args, 'log-every', 1);
  let config = configFromArgs(args, finetune, resume);
  let source: { model: string | null; data: string };
  let runJsonStored = null as ReturnType<typeof readRunJson> | null;
  if (resume) {
    if (!isRunFolder(runDir)) throw new UserError(`${runDir}: no run to resume (no run.json); start it without --resume`);
    runJsonStored = readRunJson(runDir);
    const stored = runJsonStored.config as unknown as TrainConfig & { data: string; model: string | null };
    checkResumeArgs(args, stored, config, runPaths(runDir).runJson);
    for (const [flag, key] of [['data', 'data'], ['model', 'model']] as const) {
      const given = str(args, flag);
      if (given !== null && resolve(given) !== stored[key]) throw new UserError(`--resume: ${runPaths(runDir).runJson} trains with --${flag} ${stored[key]}; you passed ${resolve(given)}`);
    }
    config = stored;
    source = { model: stored.model, data: stored.data };
  } else {
    const data = str(args, 'data');
    if (!data) throw new UsageError('--data DIR is required (a data set folder with images/ and masks/, or train/ and val/)');
    const model = finetune ? str(args, 'model') : null;
    if (finetune && !model) throw new UsageError('--model DIR is required (the pretrained model folder)');
    source = { model: model && resolve(model), data: resolve(data) };
  }
  if (!finetune && !resume && existsSync(join(finalModelDir, 'model.json')) && args.values.force !== true) {
    throw new UserError(`${out}: already holds a model (model.json); pass --force to replace it, --resume to continue its training, or choose another --out`);
  }
  const phases = phasesOf(config);
  const backend = await useBestBackend('native', io.err);

  // The model: the checkpoint's when resuming, otherwise the pretrained one (maybe with a new head) or a new one.
  // Models this command made or loaded (each disposed once at the end).
  const owned = new Set<LayersModel>();
  const point = resume ? await loadResumePoint(runDir) : null;
  if (point && !finetune) owned.add(point.folder.model);
  let unet: Prepared['unet'];
  const setup: Record<string, unknown> = {};
  const progress = !io.json && !io.quiet;
  const log = (line: string) => {
    if (progress || logEvery > 0) io.err(line);
  };
  let modelClasses: number;
  let modelInput: [number, number, number];
  let headMode: HeadMode = config.headMode ?? 'multiclass';
  let sourceFolder: ModelFolder | null = null;
  if (finetune) {
    const dir = source.model!;
    const modelDir = isRunFolder(dir) && existsSync(join(dir, 'model', 'model.json')) ? join(dir, 'model') : dir;
    sourceFolder = point ? null : await loadModelFolder(modelDir);
    if (sourceFolder) owned.add(sourceFolder.model);
    if (point) owned.add(point.folder.model);
    const meta = point ? point.folder : sourceFolder!;
    modelClasses = headClasses(meta.headMode, meta.options.classes);
    headMode = point ? point.folder.headMode : (config.headMode ?? meta.headMode);
    modelInput = meta.options.input;
    for (const w of meta.warnings) io.err(`warning: ${w}`);
    source.model = modelDir;
  } else {
    modelInput = [0, 0, 0];
    modelClasses = 0;
  }
  try {
    if (!finetune) {
      const input = args.values.input !== undefined ? parseInputSize(String(args.values.input)) : null;
      if (point) {
        modelInput = point.folder.options.input;
      } else if (input) {
        modelInput = input;
      } else {
        // The first picture's size and channels (grey stays grey).
        const ds0 = openFolderDataset(source.data);
        const h = readImageHeaderSync(ds0.pairs[0]!.image, ds0.maxPixels);
        modelInput = [h.height, h.width, h.channels === 1 ? 1 : 3];
      }
    }
    const data = openTrainingData(source.data, { valFraction: config.val, seed: config.seed, input: modelInput, modelClasses: finetune ? modelClasses : (args.values.classes !== undefined ? intOption(args, 'classes', 1, 65536) : undefined), augment: config.augment, headMode });
    const channels = headChannels(headMode, data.classes);
    const classes = modelClassesFrom(data.ds.classes, data.classes);
    setup.data = { train: data.train.length, val: data.val.length, split: data.splitSource, classes: data.classes, input: modelInput };

    if (point) {
      unet = point.folder;
    } else if (!finetune) {
      const filters = args.values.filters === undefined ? 16 : intOption(args, 'filters', 1, 1024);
      const depth = args.values.depth === undefined ? 4 : intOption(args, 'depth', MIN_DEPTH, MAX_DEPTH);
      const arch = str(args, 'arch') ?? DEFAULTS.arch;
      if (!(ARCHS as readonly string[]).includes(arch)) throw new UsageError(`--arch must be one of ${ARCHS.join(', ')}, got ${JSON.stringify(arch)}`);
      const dropout = args.values.dropout === undefined ? undefined : num(args, 'dropout', 0, 0.99, 0);
      unet = { ...buildUNet({ arch: arch as (typeof ARCHS)[number], depth, filters, classes: channels, input: modelInput, dropout, seed: config.seed }), headMode };
      owned.add(unet.model);
      setup.architecture = unet.options;
    } else {
      const src = sourceFolder!;
      const first = resolveTrainSpec(phases[0]!.spec, src.layerMap);
      if (first.fromScratch) {
        if (src.options.arch === 'adopted') throw new UserError(`--train scratch rebuilds the architecture, which an adopted model (${source.model}) does not record; train it from its weights instead`);
        unet = { ...buildUNet({ ...src.options, classes: channels, seed: config.seed }), headMode };
        owned.add(unet.model);
        setup.fromScratch = true;
      } else if (src.options.classes !== channels || src.headMode !== headMode) {
        const from = headClasses(src.headMode, src.options.classes);
        requireTrainableHead(src.model, first.trainable, from, data.classes, phases[0]!.spec);
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
    if (unet.options.classes !== channels) throw new UserError(`${source.data}: has ${data.classes} classes, the model being trained ${headClasses(unet.headMode, unet.options.classes)}`);
    setup.headMode = headMode;

    const weights = await classWeightsFor(config, data);
    if (weights) setup.classWeights = weights.map((w) => Math.round(w * 1e6) / 1e6);
    const loss = makeLoss(parseLossName(config.loss), weights, headMode);

    if (!resume) {
      prepareRunDir(runDir, false, args.values.force === true);
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
      io.err(`warning: the run started on the ${runJsonStored!.versions.backend} backend and resumes on ${backend}; the result will not be bitwise that of an uninterrupted run`);
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
      phases,
      unet,
      classes,
      data,
      loss,
      provenance,
      resume: point ? { dir: point.dir, state: point.state } : null,
      log,
      progress,
      logEvery,
      cache: { enabled: args.values['no-cache'] !== true, limitMb: args.values['cache-mb'] === undefined ? DEFAULT_CACHE_MB : intOption(args, 'cache-mb', 0, 1 << 30) },
    });
    printResult(io, result, { command: kind, backend });
    return 0;
  } finally {
    for (const m of owned) {
      clearFreeze(m);
      m.dispose();
    }
  }
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'train a U-Net from scratch on a source data set; writes a model folder (its run in MODEL/training)',
  usage: '--data DIR --out MODEL [--arch course] [--filters 16] [--depth 4] [--input HxWxC] [--epochs N] [--resume]',
  options: {
    ...TRAINING_OPTIONS,
    arch: { type: 'string', valueName: 'A', description: `architecture: ${ARCHS.join(', ')} (default ${DEFAULTS.arch})` },
    filters: { type: 'string', valueName: 'F', description: 'filters of the first block (default 16)' },
    depth: { type: 'string', valueName: 'D', description: `pooling steps ${MIN_DEPTH}..${MAX_DEPTH} (default 4)` },
    input: { type: 'string', valueName: 'HxWxC', description: 'model input size (default: the first picture\'s size and channels)' },
    classes: { type: 'string', valueName: 'N', description: 'number of classes when the data set has no classes.json' },
    dropout: { type: 'string', valueName: 'RATE', description: 'dropout rate (default 0.3 for course, 0 otherwise)' },
  },
  examples: [
    'unet-transfer data digits --out data/digits',
    'unet-transfer pretrain --data data/digits --arch course --filters 16 --epochs 10 --out models/digits',
  ],
  run: (args, io) => train('pretrain', args, io),
};

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'fine-tune a chosen part of a pretrained U-Net on a target data set (freeze spec, BN, rates, resume)',
  usage: '--model MODEL --data DIR --train SPEC --out RUN [--resume] [--train-bn] [--lr-mult ...] [--unfreeze ...]',
  options: { ...TRAINING_OPTIONS, ...FINETUNE_OPTIONS },
  examples: [
    'unet-transfer finetune --model models/digits --data data/target --train decoder --out runs/decoder',
    'unet-transfer finetune --model models/digits --data data/target --train all --lr-mult encoder=0.1,bottleneck=0.3 --out runs/mult',
    'unet-transfer finetune --model models/digits --data data/target --unfreeze head@0,decoder@2,all@4 --epochs 6 --out runs/gradual',
    'unet-transfer finetune --model models/digits --data data/target --unfreeze fine_tune --epochs 5 --out runs/ft',
    'unet-transfer finetune --out runs/decoder --resume',
  ],
  run: (args, io) => train('finetune', args, io),
};

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'measure a model (folder or run) on a data set: per-class IoU, mIoU, Dice, pixel accuracy',
  usage: '--model M --data DIR [--split val|train|all] [--json]',
  options: {
    model: { type: 'string', valueName: 'M', description: 'a model folder, or a run folder (its model/)' },
    data: { type: 'string', valueName: 'DIR', description: 'the data set folder' },
    split: { type: 'string', valueName: 'S', description: 'val, train or all (default: val when the data set has val/ or a run gives the split, else all)' },
    val: { type: 'string', valueName: 'F', description: 'validation fraction of a seeded split (default: the run\'s, or 0.2)' },
    seed: { type: 'string', valueName: 'N', description: 'seed of a seeded split (default: the run\'s, or 0)' },
    batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  },
  examples: ['unet-transfer evaluate --model models/digits --data data/target --json', 'unet-transfer evaluate --model runs/decoder --data data/target'],
  async run(args, io) {
    const m = str(args, 'model');
    const d = str(args, 'data');
    if (!m) throw new UsageError('--model M is required (a model folder or a run folder)');
    if (!d) throw new UsageError('--data DIR is required');
    const run = isRunFolder(m) ? readRunJson(m) : null;
    const modelDir = run ? join(m, 'model') : m;
    if (run && !existsSync(join(modelDir, 'model.json'))) throw new UserError(`${m}: the run has not written its model yet (${modelDir}); finish it with --resume`);
    const stored = (run?.config ?? {}) as Partial<TrainConfig>;
    const valFraction = num(args, 'val', 0, 0.95, stored.val ?? 0.2);
    const seed = args.values.seed === undefined ? (stored.seed ?? 0) : intOption(args, 'seed', 0, 2 ** 31 - 1);
    const batch = args.values.batch === undefined ? 8 : intOption(args, 'batch', 1, 4096);
    await useBestBackend('native', io.err);
    const folder = await loadModelFolder(modelDir);
    try {
      for (const w of folder.warnings) io.err(`warning: ${w}`);
      const classCount = headClasses(folder.headMode, folder.options.classes);
      const data = openTrainingData(d, { valFraction, seed, input: folder.options.input, modelClasses: classCount, headMode: folder.headMode });
      if (data.classes !== classCount) throw new UserError(`${d}: has ${data.classes} classes, the model ${classCount}; evaluate a model trained for these classes (finetune gives it a new head)`);
      const ds = data.ds;
      const splitArg = str(args, 'split') ?? (ds.layout === 'splits' && data.splitSource === 'folders' ? 'val' : run ? 'val' : 'all');
      if (!['val', 'train', 'all'].includes(splitArg)) throw new UsageError(`--split must be val, train or all, got ${JSON.stringify(splitArg)}`);
      const pairs = splitArg === 'val' ? splitDataset(ds, { valFraction, seed }).val : splitArg === 'train' ? splitDataset(ds, { valFraction, seed }).train : ds.pairs;
      if (pairs.length === 0) throw new UserError(`${d}: the ${splitArg} split is empty`);
      const r = await evaluateModel(folder.model, classCount, ds, pairs, { sample: data.sample, batchSize: batch, headMode: folder.headMode });
      const names = folder.classes.map((c) => c.name);
      if (io.json) {
        io.out(JSON.stringify({ model: modelDir, data: d, split: splitArg, head_mode: folder.headMode, samples: r.samples, miou: r.miou, miou_fg: r.miou_fg, dice: r.mean_dice, dice_fg: r.mean_dice_fg, pixel_accuracy: r.pixel_accuracy, per_class: names.map((name, i) => ({ id: i, name, iou: r.iou[i], dice: r.dice[i] })) }));
      } else {
        const fg = folder.headMode === 'binary' ? `foreground IoU ${r.miou_fg.toFixed(4)}, mIoU over background and foreground ${r.miou.toFixed(4)}` : `mIoU ${r.miou.toFixed(4)} (without background ${r.miou_fg.toFixed(4)})`;
        io.out(`${modelDir} on ${d} (${splitArg}, ${r.samples} samples, ${folder.headMode} head): ${fg}, Dice ${r.mean_dice.toFixed(4)}, pixel accuracy ${r.pixel_accuracy.toFixed(4)}`);
        if (!io.quiet) for (const [i, name] of names.entries()) io.out(`  ${String(i).padStart(3)} ${name.padEnd(16)} IoU ${r.iou[i] === null ? '   -  ' : r.iou[i]!.toFixed(4)}  Dice ${r.dice[i] === null ? '   -  ' : r.dice[i]!.toFixed(4)}`);
      }
      return 0;
    } finally {
      folder.model.dispose();
    }
  },
};

export const TRAIN_COMMANDS: Command[] = [pretrainCommand, finetuneCommand, evaluateCommand];
