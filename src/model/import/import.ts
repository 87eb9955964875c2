// `model import`: reads a foreign weights file as data (PyTorch checkpoint, safetensors, Keras .h5 or
// .keras) and saves a normal model folder. Two ways in:
//   - a Keras functional model (its config is in the file): the config is converted into a TF.js model
//     as it is, its weights set by layer name, its blocks inferred from the graph as `model adopt` does
//     (keras_model.ts); the folder's architecture is `adopted`, its head mode from the last activation;
//   - a name mapping onto one of our architectures (milesial/Pytorch-UNet, the course Keras U-Net, or a
//     user mapping file): the architecture options are inferred from the weights' shapes, our U-Net is
//     built, every shape checked, the weights set.
// The report lists every tensor mapped, skipped (in the file, not used) and missed (in the model, not in the file).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { checkChoice } from '../../util/check_options.js';
import { OptionError, UserError } from '../../util/errors.js';
import { saveModelFolder, type ModelArchitecture, type Provenance, type WeightsRecord } from '../folder.js';
import { checkHeadModeFits, HEAD_MODES, type HeadMode } from '../head_mode.js';
import { inferLayerMap } from '../infer.js';
import { DEFAULTS, isEncoderArch, resolveOptions, type Arch, type UNetOptions, type Upsample } from '../options.js';
import { importEncoderModel } from './encoder_import.js';
import { buildUNet } from '../unet.js';
import { isFunctionalGraph } from './keras_config.js';
import { readKerasH5 } from './keras_h5.js';
import { buildKerasModel } from './keras_model.js';
import { convertAssignments, type Mapping, type TargetWeight } from './mapping.js';
import { kerasCourseMapping } from './mappings/keras_course.js';
import { looksLikeMilesial, milesialMapping } from './mappings/milesial.js';
import { readUserMapping } from './mappings/user.js';
import { readSafetensors } from './safetensors.js';
import type { SourceWeights } from './tensors.js';
import { readTorchCheckpoint } from './torch_state_dict.js';

export type SourceFormat = SourceWeights['format'];

/** Files above this are refused before reading (Node cannot hold more in one buffer anyway). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

export interface ImportOptions {
  file: string;
  /**
   * Our architecture, for a mapping import; default: bn for PyTorch files; for Keras files the course
   * U-Net when the file is one, otherwise the model is converted as it is (architecture `adopted`).
   */
  arch?: Arch;
  /** `milesial`, `keras-course`, or a mapping file path; default: chosen from the file. */
  mapping?: string;
  /** Overrides the head mode the output activation implies (e.g. multilabel for a 1-label sigmoid head). */
  headMode?: HeadMode;
  /** Input height and width; channels come from the weights. Default: the architecture default. */
  inputSize?: [number, number];
  allowLambda?: boolean;
  /** Save even when some of our weights have no source (they keep the seeded initialisation). */
  allowMissing?: boolean;
  /** Encoder archs: the classes of the fresh head (default 23). */
  classes?: number;
  provenance?: Partial<Provenance>;
}

export interface ImportResult {
  format: SourceFormat;
  /** The mapping used, or `keras-config` for a converted Keras model. */
  mapping: string;
  options: ModelArchitecture;
  headMode: HeadMode;
  mapped: Array<{ source: string; target: string; shape: number[] }>;
  skipped: Array<{ name: string; reason: string }>;
  missed: string[];
  notes: string[];
}

/** Which reader a file needs, from its first bytes. */
export function detectFormat(path: string): SourceFormat {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(16);
  let n: number;
  try {
    n = readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return /\.keras$/i.test(path) ? 'keras-archive' : 'torch';
  if (n >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'keras-h5';
  if (n >= 9 && head[8] === 0x7b /* { */) return 'safetensors';
  if (n >= 2 && head[0] === 0x80) return 'torch'; // a legacy pickle: the torch reader explains what to do
  // HDF5 allows the superblock at 512/1024/2048 too; let the h5 reader look.
  if (/\.(h5|hdf5|keras)$/i.test(path)) return 'keras-h5';
  throw new UserError(
    `${path}: unknown weights format; expected a PyTorch checkpoint (.pth/.pt), a .safetensors file, a Keras .h5 file or a Keras 3 .keras archive`,
  );
}

export async function readSourceWeights(path: string, opts: { allowLambda?: boolean } = {}): Promise<SourceWeights> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path}: not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (size > MAX_FILE_BYTES) throw new UserError(`${path}: ${size} bytes; files above 2 GiB are not supported`);
  const format = detectFormat(path);
  if (format === 'keras-h5' || format === 'keras-archive') return readKerasH5(path, opts);
  const bytes = readFileSync(path);
  return format === 'torch' ? readTorchCheckpoint(bytes, path) : readSafetensors(bytes, path);
}

function chooseMapping(w: SourceWeights, name: string | undefined): { mapping: Mapping; weights: SourceWeights } {
  if (name === 'milesial' || (name === undefined && w.layout === 'torch' && looksLikeMilesial(w))) return { mapping: milesialMapping(w), weights: w };
  if (name === 'keras-course' || (name === undefined && w.format === 'keras-h5')) return { mapping: kerasCourseMapping(w), weights: w };
  if (name === undefined && w.format === 'keras-archive') throw new UserError('the .keras archive could not be converted and no mapping applies');
  if (name === undefined) {
    const sample = [...w.tensors.keys()].slice(0, 4).join(', ');
    throw new UserError(`the tensors (${sample}, ...) match no built-in mapping (milesial, keras-course); write a mapping file and pass options.mapping FILE`);
  }
  const user = readUserMapping(name, w);
  return { mapping: user.mapping, weights: user.layout ? { ...w, layout: user.layout } : w };
}

/** The architecture options the mapped weights imply. */
function inferOptions(targets: Map<string, TargetWeight>, arch: Arch, inputSize: [number, number] | undefined): UNetOptions {
  const need = (name: string, rank: number): number[] => {
    const t = targets.get(name);
    if (!t) throw new UserError(`the mapping gives no ${name}; cannot tell the model's size without it`);
    if (t.shape.length !== rank) throw new UserError(`${t.source} -> ${name}: expected ${rank} dimensions, got [${t.shape.join(', ')}]`);
    return t.shape;
  };
  const first = need('enc1_conv1/kernel', 4);
  const logits = need('head_logits/kernel', 4);
  let depth = 1;
  while (targets.has(`enc${depth + 1}_conv1/kernel`)) depth++;
  const [h, w] = inputSize ?? [DEFAULTS.input[0], DEFAULTS.input[1]];
  return resolveOptions({
    arch,
    depth,
    filters: first[3],
    classes: logits[3],
    input: [h, w, first[2]],
    upsample: inferUpsample(targets, arch, depth, first[3]),
    seed: 0,
  });
}

/**
 * Up-sampling from the weights: a transposed conv has `dec*_up` kernels; our bilinear variant has a conv
 * after the resize (`dec*_upconv`); milesial's bilinear variant has neither, and its bottleneck has half
 * the channels (filters * 2^(depth-1)), which is what tells it apart from a file that simply lacks the
 * up-convs (that one stays `bilinear`, and the import reports the up-convs as missing).
 */
function inferUpsample(targets: Map<string, TargetWeight>, arch: Arch, depth: number, filters: number): Upsample {
  const keys = [...targets.keys()];
  if (keys.some((k) => /^dec\d_up\/kernel$/.test(k))) return 'transpose';
  if (keys.some((k) => /^dec\d_upconv\/kernel$/.test(k))) return 'bilinear';
  const bottleneck = targets.get('bottleneck_conv1/kernel');
  const halved = bottleneck?.shape.length === 4 && bottleneck.shape[3] === filters * 2 ** (depth - 1);
  return arch === 'bn' && halved ? 'milesial-bilinear' : 'bilinear';
}

/** Reads, maps, checks and saves; throws a UserError (nothing written) when anything does not fit. */
/**
 * Whether a Keras file is converted from its config rather than mapped: always for a Keras 3 weights
 * layout; otherwise when the config is a whole functional graph and it is not the course U-Net (which
 * keeps importing into our rebuildable `course` architecture).
 */
function convertsKeras(w: SourceWeights, opts: ImportOptions): boolean {
  if (w.format !== 'keras-h5' && w.format !== 'keras-archive') return false;
  if (opts.mapping !== undefined || opts.arch !== undefined) return false;
  if (w.kerasVars) return true;
  if (!isFunctionalGraph(w.modelConfig)) return false;
  try {
    kerasCourseMapping(w);
    return false;
  } catch {
    return true;
  }
}

async function importKeras(source: SourceWeights, opts: ImportOptions & { out: string }): Promise<ImportResult & { weights: WeightsRecord }> {
  const k = await buildKerasModel(source, opts.file, { inputSize: opts.inputSize, allowMissing: opts.allowMissing });
  try {
    const headMode = opts.headMode ?? k.headMode;
    checkHeadModeFits(headMode, k.inferred.classes);
    const { depth, filters, classes, input } = k.inferred;
    const options: ModelArchitecture = { arch: 'adopted', depth, filters, classes, input };
    const missed = k.missed;
    const provenance: Partial<Provenance> = {
      createdAt: new Date().toISOString(),
      trainedOn: null,
      parent: null,
      importedFrom: {
        file: opts.file,
        format: source.format,
        mapping: 'keras-config',
        mapped: k.mapped.length,
        skipped: k.skipped.length,
        missed,
        outputActivation: k.outputActivation,
      },
      ...opts.provenance,
    };
    const record = await saveModelFolder(opts.out, { model: k.model, options, layerMap: k.inferred.layerMap, headMode }, { provenance });
    return { format: source.format, mapping: 'keras-config', options, headMode, mapped: k.mapped, skipped: k.skipped, missed, notes: k.notes, weights: record };
  } finally {
    k.model.dispose();
  }
}

export async function importModel(opts: ImportOptions & { out: string }): Promise<ImportResult & { weights: WeightsRecord }> {
  checkChoice(opts, 'headMode', HEAD_MODES);
  const source = await readSourceWeights(opts.file, { allowLambda: opts.allowLambda });
  if (opts.arch && isEncoderArch(opts.arch)) {
    if (opts.mapping !== undefined) throw new UserError(`option 'mapping': arch ${opts.arch} maps torchvision's own names; no mapping is needed`);
    if (opts.headMode !== undefined && opts.headMode !== 'multiclass')
      throw new OptionError(
        'headMode',
        `${opts.headMode}: arch ${opts.arch} imports an encoder and gets a fresh multiclass head; fine-tune it with the head mode you want (finetune's options.headMode)`,
      );
    return importEncoderModel(source, { ...opts, arch: opts.arch });
  }
  if (convertsKeras(source, opts)) return importKeras(source, opts);
  const { mapping, weights } = chooseMapping(source, opts.mapping);
  const arch: Arch = opts.arch ?? (mapping.name === 'keras-course' ? 'course' : 'bn');
  if (mapping.name === 'milesial' && arch !== 'bn')
    throw new UserError(`milesial/Pytorch-UNet weights fit options.arch bn (conv, BatchNorm, ReLU), not options.arch ${arch}`);
  if (mapping.name === 'keras-course' && arch !== 'course') throw new UserError(`the course Keras U-Net fits options.arch course, not options.arch ${arch}`);
  const converted = convertAssignments(weights, mapping);
  const targets = new Map(converted.map((t) => [t.target, t]));
  const options = inferOptions(targets, arch, opts.inputSize);

  const unet = buildUNet(options);
  try {
    const used = new Set<string>();
    const missed: string[] = [];
    const mapped: ImportResult['mapped'] = [];
    for (const layer of unet.model.layers) {
      if (layer.weights.length === 0) continue;
      const values: tf.Tensor[] = [];
      try {
        for (const v of layer.weights) {
          const name = v.originalName;
          const t = targets.get(name);
          if (!t) {
            missed.push(name);
            values.push(v.read().clone());
            continue;
          }
          if (t.shape.join('x') !== v.shape.join('x')) {
            throw new UserError(
              `${t.source} has shape [${t.shape.join(', ')}] after conversion, but ${name} in our ${arch} U-Net (filters ${options.filters}, depth ${options.depth}, ${options.upsample} up-sampling) has [${v.shape.join(', ')}]`,
            );
          }
          used.add(name);
          mapped.push({ source: t.source, target: name, shape: t.shape });
          values.push(tf.tensor(t.data, t.shape, 'float32'));
        }
        layer.setWeights(values);
      } finally {
        for (const t of values) t.dispose();
      }
    }
    const unknown = [...targets.keys()].filter((k) => !used.has(k));
    if (unknown.length) {
      throw new UserError(
        `the mapping ${mapping.name} targets weights our ${arch} U-Net does not have: ${unknown.slice(0, 6).join(', ')}${unknown.length > 6 ? ', ...' : ''}`,
      );
    }
    if (missed.length && !opts.allowMissing) {
      throw new UserError(
        `${missed.length} weights of our model have no source tensor: ${missed.slice(0, 6).join(', ')}${missed.length > 6 ? ', ...' : ''}; pass options.allowMissing to keep their fresh initialisation`,
      );
    }
    const mappedSources = new Set(mapping.assignments.map((a) => a.source));
    const skippedNames = new Set(mapping.skipped.map((s) => s.name));
    const skipped = [
      ...source.skipped,
      ...mapping.skipped,
      ...[...source.tensors.keys()].filter((n) => !mappedSources.has(n) && !skippedNames.has(n)).map((name) => ({ name, reason: 'no mapping for it' })),
    ];
    const provenance: Partial<Provenance> = {
      createdAt: new Date().toISOString(),
      trainedOn: null,
      parent: null,
      importedFrom: { file: opts.file, format: source.format, mapping: mapping.name, mapped: mapped.length, skipped: skipped.length, missed },
      ...opts.provenance,
    };
    const headMode: HeadMode = opts.headMode ?? (options.classes === 1 ? 'binary' : 'multiclass');
    checkHeadModeFits(headMode, options.classes);
    // The blocks are inferred from the graph, as for Keras models and adopted folders: one inference for every import.
    const { layerMap } = inferLayerMap(unet.model, opts.file);
    const record = await saveModelFolder(opts.out, { ...unet, layerMap, headMode }, { provenance });
    return { format: source.format, mapping: mapping.name, options, headMode, mapped, skipped, missed, notes: source.notes, weights: record };
  } finally {
    unet.model.dispose();
  }
}
