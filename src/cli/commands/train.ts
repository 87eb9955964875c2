// `pretrain`, `finetune` and `evaluate`: train a U-Net from scratch on a source data set, fine-tune a
// chosen part of a pretrained one on a target data set (freeze specs, BN handling, per-region rates,
// gradual unfreezing, exact resume), and measure a model on a data set.
import { HEAD_MODES, type HeadMode } from '../../model/head_mode.js';
import { MAX_DEPTH, MIN_DEPTH, parseInputSize, ARCHS, DEFAULTS } from '../../model/options.js';
import { evaluate, finetune, pretrain, type EvaluateOptions, type FinetuneOptions, type PretrainOptions } from '../../train/api.js';
import { parseLossName } from '../../train/losses/index.js';
import { parseLrSpread } from '../../train/lr_groups.js';
import { parseOptimizerName } from '../../train/optimizers/index.js';
import { scheduleByName } from '../../train/schedules.js';
import { MONITORS, parseEarlyStop, type TrainResult } from '../../train/trainer.js';
import { UsageError } from '../../util/errors.js';
import { intOption, numOption, type Command, type CommandIO, type OptionSpec, type ParsedArgs } from '../command.js';

const TRAINING_OPTIONS: Record<string, OptionSpec> = {
  data: { type: 'string', valueName: 'DIR', description: 'the data set folder (images/ + masks/, or train/ and val/)' },
  epochs: { type: 'string', valueName: 'N', description: 'epochs (default 10)' },
  batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  lr: { type: 'string', valueName: 'RATE', description: 'base learning rate (default 1e-3)' },
  seed: { type: 'string', valueName: 'N', description: 'seed of order, augmentation, dropout, split and new weights (default 0)' },
  loss: { type: 'string', valueName: 'L', description: 'ce, dice or ce+dice (default ce); sigmoid heads: bce (= ce), dice, bce+dice' },
  'head-mode': {
    type: 'string',
    valueName: 'M',
    description: `${HEAD_MODES.join(', ')}: how outputs become a segmentation (default: the model's; pretrain multiclass)`,
  },
  'class-weights': { type: 'string', valueName: 'W', description: 'cross-entropy class weights: balanced (median frequency) or w0,w1,... (default none)' },
  optimizer: { type: 'string', valueName: 'O', description: 'adam, adamw or sgd (momentum) (default adam)' },
  'weight-decay': { type: 'string', valueName: 'WD', description: 'AdamW decoupled weight decay (default 0.01)' },
  momentum: { type: 'string', valueName: 'M', description: 'SGD momentum (default 0.9)' },
  schedule: { type: 'string', valueName: 'S', description: 'learning-rate schedule: constant, cosine, one-cycle (default constant)' },
  'early-stop': {
    type: 'string',
    valueName: 'METRIC:N',
    description: `stop after N epochs without improvement of METRIC (${Object.keys(MONITORS).join(', ')}); also picks the best model`,
  },
  val: { type: 'string', valueName: 'F', description: 'validation fraction when the data set has no val/ folder (default 0.2)' },
  augment: { type: 'string', valueName: 'SPEC', description: 'augmentation, e.g. flip,crop:0.8,brightness:0.1 (default none)' },
  precision: {
    type: 'string',
    valueName: 'P',
    description: 'convolutions in fp32, bf16 (mixed precision: needs AVX512-BF16 or AMX) or auto (bf16 where the CPU has it) (default fp32)',
  },
  out: { type: 'string', valueName: 'DIR', description: 'where to write' },
  resume: { type: 'boolean', description: 'continue the run in --out from its last checkpoint (configuration from its run.json)' },
  force: { type: 'boolean', description: 'replace an existing run in --out' },
  'log-every': { type: 'string', valueName: 'N', description: 'print a line every N steps on stderr (for logs without a terminal)' },
};

const FINETUNE_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', valueName: 'DIR', description: 'the pretrained model folder (or a run folder: its model/)' },
  train: {
    type: 'string',
    valueName: 'SPEC',
    description: 'what to train: all, a region, block, range enc1-2, glob dec*_up, !sel, shallow:K, deep:K, scratch',
  },
  'train-bn': { type: 'boolean', description: 'keep BatchNorm layers of frozen blocks trainable and in training mode (fastai train_bn)' },
  'lr-mult': { type: 'string', valueName: 'SEL=M,...', description: 'learning-rate multipliers, e.g. encoder=0.1,bottleneck=0.3' },
  'lr-spread': { type: 'string', valueName: 'LO:HI', description: 'rates spread geometrically from LO (input side) to HI (head); replaces --lr' },
  unfreeze: { type: 'string', valueName: 'STAGES', description: 'gradual unfreezing, e.g. head@0,decoder@2,all@4, or fine_tune (instead of --train)' },
  'no-cache': {
    type: 'boolean',
    description:
      "do not cache the frozen prefix's activations (by default, with a frozen input side and no augmentation, it runs once per image; results are the same)",
  },
  'cache-mb': { type: 'string', valueName: 'MB', description: 'memory for cached activations before they spill to RUN/activation-cache/ (default 2048)' },
};

const str = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
};
const int = (args: ParsedArgs, name: string, min: number, max: number): number | undefined =>
  args.values[name] === undefined ? undefined : intOption(args, name, min, max);

/** Flags -> the options of `finetune` / `pretrain` (only what was given: the API fills in the defaults). */
function trainingOptions(args: ParsedArgs, io: CommandIO, finetune: boolean): FinetuneOptions & PretrainOptions {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const out = str(args, 'out');
  if (!out) throw new UsageError(`--out DIR is required (${finetune ? 'the run folder to write' : 'the model folder to write; its run goes to DIR/training'})`);
  const resume = args.values.resume === true;
  if (!resume && !str(args, 'data')) throw new UsageError('--data DIR is required (a data set folder with images/ and masks/, or train/ and val/)');
  if (finetune && !resume && !str(args, 'model')) throw new UsageError('--model DIR is required (the pretrained model folder)');
  const logEvery = int(args, 'log-every', 1, Number.MAX_SAFE_INTEGER) ?? 0;
  const progress = !io.json && !io.quiet;
  const cw = str(args, 'class-weights');
  const es = str(args, 'early-stop');
  const spread = str(args, 'lr-spread');
  const o: FinetuneOptions & PretrainOptions = {
    data: str(args, 'data') as string,
    out,
    model: str(args, 'model'),
    epochs: int(args, 'epochs', 1, 100000),
    batch: int(args, 'batch', 1, 4096),
    lr: numOption(args, 'lr', 0, 10, true),
    seed: int(args, 'seed', 0, 2 ** 31 - 1),
    loss: str(args, 'loss') === undefined ? undefined : parseLossName(str(args, 'loss')!),
    classWeights: cw === undefined ? undefined : cw === 'none' || cw === 'balanced' ? cw : (cw.split(',').map(Number) as number[]),
    optimizer: str(args, 'optimizer') === undefined ? undefined : parseOptimizerName(str(args, 'optimizer')!),
    weightDecay: numOption(args, 'weight-decay', 0, 1),
    momentum: numOption(args, 'momentum', 0, 0.9999),
    schedule: str(args, 'schedule') === undefined ? undefined : scheduleByName(str(args, 'schedule')!).name,
    earlyStop: es === undefined ? undefined : (parseEarlyStop(es) as FinetuneOptions['earlyStop']),
    val: numOption(args, 'val', 0, 0.95),
    augment: str(args, 'augment'),
    precision: str(args, 'precision') as FinetuneOptions['precision'],
    headMode: str(args, 'head-mode') as HeadMode | undefined,
    resume,
    force: args.values.force === true,
    log: (line) => {
      if (progress || logEvery > 0) io.err(line);
    },
    progress,
    logEvery,
  };
  if (finetune) {
    Object.assign(o, {
      train: str(args, 'train'),
      unfreeze: str(args, 'unfreeze'),
      trainBn: args.values['train-bn'] === true ? true : undefined,
      lrMult: str(args, 'lr-mult'),
      lrSpread: spread === undefined ? undefined : parseLrSpread(spread),
      cache: args.values['no-cache'] === true ? false : undefined,
      cacheMb: int(args, 'cache-mb', 0, 1 << 30),
    });
  } else {
    Object.assign(o, {
      arch: str(args, 'arch'),
      filters: int(args, 'filters', 1, 1024),
      depth: int(args, 'depth', MIN_DEPTH, MAX_DEPTH),
      input: str(args, 'input') === undefined ? undefined : parseInputSize(str(args, 'input')!),
      classes: int(args, 'classes', 1, 65536),
      dropout: numOption(args, 'dropout', 0, 0.99),
    });
  }
  // Only what was given: `resume` refuses options that differ from run.json, so defaults must stay unset.
  for (const k of Object.keys(o) as (keyof typeof o)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function printResult(io: CommandIO, r: TrainResult, command: string): void {
  if (io.json) {
    io.out(JSON.stringify({ command, ...r }));
    return;
  }
  const b = r.bestMetrics ?? {};
  const f = (k: string) => (typeof b[k] === 'number' ? (b[k] as number).toFixed(4) : '-');
  const monitor = r.monitor === 'val_miou' ? '' : `${r.monitor} ${r.best?.toFixed(4) ?? '-'}, `;
  const fg = r.headMode === 'binary' ? `foreground IoU ${f('val_miou_fg')}, ` : '';
  io.out(
    `${r.model}: best epoch ${r.bestEpoch} of ${r.epochs}${r.stoppedEarly ? ' (stopped early)' : ''}: ${monitor}${fg}val_miou ${f('val_miou')}, val_dice ${f('val_dice')}, pixel accuracy ${f('val_pixel_accuracy')}`,
  );
  if (!io.quiet) io.out(`run: ${r.run} (run.json, metrics.jsonl, checkpoints/) in ${r.seconds.toFixed(1)} s`);
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
    input: { type: 'string', valueName: 'HxWxC', description: "model input size (default: the first picture's size and channels)" },
    classes: { type: 'string', valueName: 'N', description: 'number of classes when the data set has no classes.json' },
    dropout: { type: 'string', valueName: 'RATE', description: 'dropout rate (default 0.3 for course, 0 otherwise)' },
  },
  examples: [
    'unet-transfer data digits --out data/digits',
    'unet-transfer pretrain --data data/digits --arch course --filters 16 --epochs 10 --out models/digits',
  ],
  async run(args, io) {
    printResult(io, await pretrain(trainingOptions(args, io, false)), 'pretrain');
    return 0;
  },
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
  async run(args, io) {
    printResult(io, await finetune(trainingOptions(args, io, true)), 'finetune');
    return 0;
  },
};

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'measure a model (folder or run) on a data set: per-class IoU, mIoU, Dice, pixel accuracy',
  usage: '--model M --data DIR [--split val|train|all] [--json]',
  options: {
    model: { type: 'string', valueName: 'M', description: 'a model folder, or a run folder (its model/)' },
    data: { type: 'string', valueName: 'DIR', description: 'the data set folder' },
    split: { type: 'string', valueName: 'S', description: 'val, train or all (default: val when the data set has val/ or a run gives the split, else all)' },
    val: { type: 'string', valueName: 'F', description: "validation fraction of a seeded split (default: the run's, or 0.2)" },
    seed: { type: 'string', valueName: 'N', description: "seed of a seeded split (default: the run's, or 0)" },
    batch: { type: 'string', valueName: 'N', description: 'batch size (default 8)' },
  },
  examples: ['unet-transfer evaluate --model models/digits --data data/target --json', 'unet-transfer evaluate --model runs/decoder --data data/target'],
  async run(args, io) {
    const model = str(args, 'model');
    const data = str(args, 'data');
    if (!model) throw new UsageError('--model M is required (a model folder or a run folder)');
    if (!data) throw new UsageError('--data DIR is required');
    const split = str(args, 'split');
    if (split !== undefined && !['val', 'train', 'all'].includes(split))
      throw new UsageError(`--split must be val, train or all, got ${JSON.stringify(split)}`);
    const r = await evaluate({
      model,
      data,
      split: split as EvaluateOptions['split'],
      val: numOption(args, 'val', 0, 0.95),
      seed: int(args, 'seed', 0, 2 ** 31 - 1),
      batch: int(args, 'batch', 1, 4096),
      log: io.err,
    });
    if (io.json) {
      io.out(JSON.stringify(r));
    } else {
      const iou =
        r.head_mode === 'binary'
          ? `foreground IoU ${r.miou_fg.toFixed(4)}, mIoU over background and foreground ${r.miou.toFixed(4)}`
          : `mIoU ${r.miou.toFixed(4)} (without background ${r.miou_fg.toFixed(4)})`;
      io.out(
        `${r.model} on ${data} (${r.split}, ${r.samples} samples, ${r.head_mode} head): ${iou}, Dice ${r.dice.toFixed(4)}, pixel accuracy ${r.pixel_accuracy.toFixed(4)}`,
      );
      if (!io.quiet)
        for (const c of r.per_class)
          io.out(
            `  ${String(c.id).padStart(3)} ${c.name.padEnd(16)} IoU ${c.iou === null ? '   -  ' : c.iou.toFixed(4)}  Dice ${c.dice === null ? '   -  ' : c.dice.toFixed(4)}`,
          );
    }
    return 0;
  },
};

export const TRAIN_COMMANDS: Command[] = [pretrainCommand, finetuneCommand, evaluateCommand];
