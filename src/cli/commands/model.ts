// `model create`, `model summary`, `model adopt`: make a U-Net folder, look inside one (validating its
// weights), and give a plain TF.js U-Net its layer map.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../../engine/addon.js';
import { useBestBackend } from '../../engine/index.js';
import { adoptModelFolder, loadModelFolder, saveModelFolder } from '../../model/folder.js';
import { defaultClasses, parseClasses, type ClassInfo } from '../../model/classes.js';
import { HEAD_MODES, type HeadMode } from '../../model/head_mode.js';
import { readJsonFile } from '../../model/manifest.js';
import { ARCHS, DEFAULTS, MAX_DEPTH, MIN_DEPTH, parseInputSize, UPSAMPLES, type UNetOptionsInput } from '../../model/options.js';
import { summarize, summaryText } from '../../model/summary.js';
import { buildUNet } from '../../model/unet.js';
import { buildPretrainedUNet, PRETRAINED } from '../../model/pretrained/imagenet.js';
import { UsageError } from '../../util/errors.js';
import { choiceOption, intOption, type Command, type CommandIO, type ParsedArgs } from '../command.js';

function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** `--classes 23` or `--classes classes.json`: a count, or a class list whose length is the count. */
function classesOption(args: ParsedArgs): { count: number; list?: ClassInfo[] } {
  const raw = args.values.classes;
  if (raw === undefined) return { count: DEFAULTS.classes };
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return { count: intOption(args, 'classes', 1, 65536) };
  if (typeof raw !== 'string' || !existsSync(raw)) {
    throw new UsageError(`--classes must be a number of classes or a classes.json file, got ${JSON.stringify(raw)}`);
  }
  const list = parseClasses(readJsonFile(raw, 16 * 1024 * 1024), raw);
  return { count: list.length, list };
}

function onePositional(args: ParsedArgs, name: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`expected one ${name}, got ${args.positionals.length === 0 ? 'none' : args.positionals.join(' ')}`);
  return args.positionals[0];
}

function printWarnings(io: CommandIO, warnings: string[]): void {
  for (const w of warnings) io.err(`warning: ${w}`);
}

export const modelCreateCommand: Command = {
  name: 'model create',
  summary: 'build a new U-Net (course, classic, bn, or on a mobilenetv2 / resnet18 / resnet34 encoder) into a model folder',
  usage: '--out DIR [--arch A] [--depth D] [--filters F] [--classes N|FILE] [--input HxWxC] [--pretrained imagenet]',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'the model folder to write (model.json, weights, unet.json)' },
    arch: { type: 'string', default: DEFAULTS.arch, description: `architecture: ${ARCHS.join(', ')}` },
    depth: { type: 'string', valueName: 'D', description: `pooling steps, ${MIN_DEPTH}..${MAX_DEPTH} (default ${DEFAULTS.depth}; encoder archs: 4)` },
    filters: {
      type: 'string',
      valueName: 'F',
      description: `filters of the first block, doubling at each level (default ${DEFAULTS.filters}); encoder archs: of the shallowest decoder block (mobilenetv2 64, resnet 16)`,
    },
    classes: {
      type: 'string',
      valueName: 'N|FILE',
      description: `number of classes, or a classes.json ([{"id","name","color"}]) (default ${DEFAULTS.classes})`,
    },
    input: {
      type: 'string',
      valueName: 'HxWxC',
      description: `input size; height and width multiples of 2^depth (default ${DEFAULTS.input.join('x')}; encoder archs: multiples of 32, default 128x128x3)`,
    },
    dropout: {
      type: 'string',
      valueName: 'RATE',
      description: 'dropout in the deepest encoder block and the bottleneck (default 0.3 for course, 0 otherwise)',
    },
    upsample: {
      type: 'string',
      description: `decoder up-sampling: ${UPSAMPLES.join(', ')} (bilinear: classic and bn; milesial-bilinear: bn, as the bilinear milesial/Pytorch-UNet)`,
    },
    seed: { type: 'string', valueName: 'N', description: 'seed of the weight initialisation (default: random, recorded in unet.json)' },
    pretrained: {
      type: 'string',
      valueName: 'imagenet',
      description: 'mobilenetv2: the encoder starts from ImageNet-derived weights shipped offline (npm nsfwjs@4.4.0, 8-bit; see README)',
    },
    alpha: { type: 'string', valueName: 'A', description: 'encoder archs: width multiplier of the backbone (default 1)' },
    force: { type: 'boolean', description: 'replace a model already in --out' },
  },
  examples: [
    'unet-transfer model create --arch course --filters 32 --classes 23 --input 96x128x3 --out models/course',
    'unet-transfer model create --arch bn --depth 3 --upsample bilinear --classes data/classes.json --out models/bn3',
    'unet-transfer model create --arch mobilenetv2 --pretrained imagenet --classes 3 --out models/mnv2',
  ],
  async run(args, io) {
    const out = args.values.out;
    if (typeof out !== 'string' || out.length === 0) throw new UsageError('--out DIR is required (the model folder to write)');
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}; the folder goes after --out`);
    if (existsSync(join(out, 'model.json')) && args.values.force !== true) {
      throw new UsageError(`${out} already holds a model (model.json); pass --force to replace it`);
    }
    const classes = classesOption(args);
    const dropoutRaw = args.values.dropout;
    const dropout = dropoutRaw === undefined ? undefined : Number(dropoutRaw);
    if (dropout !== undefined && !(dropout >= 0 && dropout < 1)) throw new UsageError(`--dropout must be a rate in [0, 1), got ${JSON.stringify(dropoutRaw)}`);
    const options: UNetOptionsInput = {
      arch: choiceOption(args, 'arch', ARCHS),
      depth: args.values.depth === undefined ? undefined : intOption(args, 'depth', MIN_DEPTH, MAX_DEPTH),
      filters: args.values.filters === undefined ? undefined : intOption(args, 'filters', 1, 1024),
      classes: classes.count,
      input: args.values.input === undefined ? undefined : parseInputSize(String(args.values.input)),
      dropout,
      upsample: args.values.upsample === undefined ? undefined : choiceOption(args, 'upsample', UPSAMPLES),
      seed: args.values.seed === undefined ? undefined : intOption(args, 'seed', 0, 2 ** 32 - 1),
      alpha: args.values.alpha === undefined ? undefined : Number(args.values.alpha),
    };
    await useBestBackend('native', io.err);
    const pretrained = args.values.pretrained === undefined ? null : buildPretrainedUNet(options, choiceOption(args, 'pretrained', PRETRAINED));
    const unet = pretrained?.unet ?? buildUNet(options);
    try {
      const classList = classes.list ?? defaultClasses(classes.count);
      const provenance = {
        createdBy: `unet-transfer ${toolVersion()} model create`,
        createdAt: new Date().toISOString(),
        trainedOn: null,
        parent: null,
        ...pretrained?.provenance,
      };
      const weights = await saveModelFolder(out, unet, { classes: classList, provenance });
      const summary = summarize({ dir: out, ...unet, classes: classList, provenance, weights, headMode: 'multiclass', warnings: [] });
      if (io.json) io.out(JSON.stringify(summary));
      else {
        if (!io.quiet) for (const line of summaryText(summary)) io.out(line);
        else io.out(`${out}: ${summary.parameters} parameters`);
      }
      return 0;
    } finally {
      unet.model.dispose();
    }
  },
};

export const modelSummaryCommand: Command = {
  name: 'model summary',
  summary: 'show a model folder as a U (blocks, regions, parameters) and validate its weights',
  usage: 'DIR [--json] [--layers]',
  options: {
    layers: { type: 'boolean', description: 'also list every layer with its block, kind and parameters' },
  },
  examples: ['unet-transfer model summary models/course', 'unet-transfer model summary models/course --json'],
  async run(args, io) {
    const dir = onePositional(args, 'model folder');
    await useBestBackend('native', io.err);
    const folder = await loadModelFolder(dir);
    folder.model.dispose();
    const summary = summarize(folder);
    if (io.json) {
      io.out(JSON.stringify(summary));
      printWarnings(io, summary.warnings);
      return 0;
    }
    for (const line of summaryText(summary)) io.out(line);
    if (args.values.layers === true) {
      io.out('');
      const width = Math.max(...summary.layers.map((l) => l.layer.length));
      io.out(`${'layer'.padEnd(width)}  ${'block'.padEnd(10)}  ${'kind'.padEnd(10)}  parameters`);
      for (const l of summary.layers)
        io.out(`${l.layer.padEnd(width)}  ${l.block.padEnd(10)}  ${l.kind.padEnd(10)}  ${l.parameters.toLocaleString('en-US').padStart(10)}`);
    }
    return 0;
  },
};

export const modelAdoptCommand: Command = {
  name: 'model adopt',
  summary: 'infer the blocks of a plain TF.js layers U-Net from its graph and write its unet.json',
  usage: 'DIR [--classes FILE] [--force]',
  options: {
    classes: { type: 'string', valueName: 'FILE', description: 'classes.json naming the output channels (default: class0..classN-1)' },
    force: { type: 'boolean', description: 'replace an existing unet.json' },
    'head-mode': { type: 'string', valueName: 'M', description: `${HEAD_MODES.join(', ')} (default: binary for one output channel, else multiclass)` },
  },
  examples: ['unet-transfer model adopt downloads/keras-unet', 'unet-transfer model adopt downloads/keras-unet --classes data/classes.json'],
  async run(args, io) {
    const dir = onePositional(args, 'model folder');
    const file = args.values.classes;
    const classes = typeof file === 'string' ? parseClasses(readJsonFile(file, 16 * 1024 * 1024), file) : undefined;
    await useBestBackend('native', io.err);
    const headMode = args.values['head-mode'] === undefined ? undefined : (String(args.values['head-mode']) as HeadMode);
    const folder = await adoptModelFolder(dir, {
      classes,
      headMode,
      force: args.values.force === true,
      provenance: { adoptedBy: `unet-transfer ${toolVersion()} model adopt`, adoptedAt: new Date().toISOString() },
    });
    folder.model.dispose();
    const summary = summarize(folder);
    if (io.json) io.out(JSON.stringify(summary));
    else {
      io.out(`wrote ${join(dir, 'unet.json')}: ${summary.blocks.length} blocks, depth ${summary.architecture.depth}`);
      if (!io.quiet) for (const line of summaryText(summary)) io.out(line);
    }
    return 0;
  },
};

export const MODEL_COMMANDS: Command[] = [modelCreateCommand, modelSummaryCommand, modelAdoptCommand];
