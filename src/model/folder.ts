// Model folders: model.json + weights.<hash>.bin (the TF.js layers format) + unet.json (architecture,
// layer map, classes, provenance), saved so that a crash never leaves a folder that loads mixed weights,
// and loaded only after the manifest has been checked (see manifest.ts).
//
// How a save stays consistent, whenever the process dies:
//   1. The weights go to a new file named by their content, weights.<first 16 hex of sha256>.bin
//      (temp file, fsync, rename). The weights the current model.json names are never touched.
//   2. model.json is written to a temp file and renamed over the old one: this rename is the commit.
//      model.json names the new weights file and embeds the unet.json content (under
//      userDefinedMetadata.unetTransfer), including the full sha256 of the weights.
//   3. unet.json (the same content, for people and other tools) is written atomically.
//   4. Files the previous model.json named, orphans of earlier interrupted saves and stale temp files
//      are deleted.
// Before 2 the folder holds the old model (plus debris that the next save removes); after 2 the new
// one. A crash between 2 and 3 leaves an old unet.json: loading prefers model.json's embedded copy and
// warns. Loading checks the weights' sha256, so a file changed by anything else is refused too.
// Folders without the embedded copy (a plain TF.js model adopted by `model adopt`) are bound to their
// weights by the sha256 recorded in unet.json.
// One process saves to a folder at a time; concurrent saves to the same folder are not supported.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { commitTempFile, fsyncDir, isTempFileName, writeJsonAtomic, writeTempFile } from '../util/atomic.js';
import { checkChoice } from '../util/check_options.js';
import { UserError } from '../util/errors.js';
import { defaultClasses, parseClasses, type ClassInfo } from './classes.js';
import { inferLayerMap } from './infer.js';
import { LayerMap, type LayerMapJSON } from './layer-map.js';
import './layers/resize-bilinear-2x.js'; // registers our custom layer class, so that folders holding it load
import { checkHeadModeFits, HEAD_MODES, headClasses, type HeadMode } from './head_mode.js';
import { readJsonFile, readModelJson, readWeightBytes, type ModelJsonFile } from './manifest.js';
import { ARCHS, resolveOptions, type UNetOptions } from './options.js';

export const UNET_JSON_FORMAT = 'unet-transfer/unet';
export const UNET_JSON_VERSION = 1;
const METADATA_KEY = 'unetTransfer';
const WEIGHTS_FILE_RE = /^weights\.[0-9a-f]{16}\.bin$/;

/** The architecture of a model that `model adopt` inferred (it was not built by this tool). */
export interface AdoptedArchitecture {
  arch: 'adopted';
  depth: number;
  filters: number;
  classes: number;
  input: [number, number, number];
}

export type ModelArchitecture = UNetOptions | AdoptedArchitecture;

/** Where a model came from. Commands that make models fill what they know; other keys are kept. */
export interface Provenance {
  /** The tool and command that wrote the model, e.g. "unet-transfer 0.1.0 model create". */
  createdBy: string;
  createdAt: string;
  /** The dataset the weights were trained on, if any (set by training). */
  trainedOn?: { dataset: string; [key: string]: unknown } | null;
  /** The model these weights started from, if any (set by fine-tuning). */
  parent?: { dir: string; weightsSha256: string; [key: string]: unknown } | null;
  [key: string]: unknown;
}

export interface WeightsRecord {
  /** Weight files, relative to the folder, in manifest order. */
  files: string[];
  bytes: number;
  sha256: string;
}

/** The content of unet.json (and of model.json's embedded copy). */
export interface UnetJson {
  format: typeof UNET_JSON_FORMAT;
  version: number;
  architecture: ModelArchitecture;
  classes: ClassInfo[];
  layerMap: LayerMapJSON;
  provenance: Provenance;
  weights: WeightsRecord;
  /** How the output becomes a segmentation (head_mode.ts); absent in older folders: multiclass. */
  headMode?: HeadMode;
}

/** A model as loaded from (or saved to) a folder. */
export interface ModelFolder {
  dir: string;
  model: tfl.LayersModel;
  options: ModelArchitecture;
  layerMap: LayerMap;
  classes: ClassInfo[];
  provenance: Provenance;
  weights: WeightsRecord;
  headMode: HeadMode;
  /** Things the user should know that did not stop the load (e.g. a stale unet.json). */
  warnings: string[];
}

/** The stages of a save, in order, for progress and for crash tests. */
export type SaveStep = 'weights-written' | 'weights-committed' | 'model-json-written' | 'model-json-committed' | 'unet-json-committed' | 'cleaned';

export interface SaveOptions {
  classes?: ClassInfo[];
  provenance?: Partial<Provenance>;
  /** Called after each stage; a crash test kills the process here. */
  onStep?: (step: SaveStep) => void;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The TF.js artifacts of a model (topology, weight specs, one weight buffer), via an in-memory save handler. */
async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts & { weightData: ArrayBuffer }> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save({
    save: async (artifacts: tf.io.ModelArtifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  if (!captured || !captured.modelTopology || !captured.weightSpecs) throw new Error('TF.js returned no model artifacts');
  const data = captured.weightData ?? new ArrayBuffer(0);
  return { ...captured, weightData: Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data };
}

/** Weight files the model.json currently in `dir` names (empty when there is none or it is unreadable). */
function currentWeightFiles(dir: string): string[] {
  try {
    const raw = readJsonFile(join(dir, 'model.json')) as { weightsManifest?: { paths?: unknown[] }[] };
    return (raw.weightsManifest ?? []).flatMap((g) => (g.paths ?? []).filter((p): p is string => typeof p === 'string'));
  } catch {
    return [];
  }
}

function isOurDebris(name: string): boolean {
  if (!isTempFileName(name)) return false;
  const target = name.replace(/^\./, '').replace(/\.tmp-\d+-[0-9a-f]{8}$/, '');
  return target === 'model.json' || target === 'unet.json' || WEIGHTS_FILE_RE.test(target);
}

/** Saves a U-Net into `dir` (created if needed), atomically as described at the top of this file. */
export async function saveModelFolder(
  dir: string,
  unet: { model: tfl.LayersModel; options: ModelArchitecture; layerMap: LayerMap; headMode?: HeadMode },
  opts: SaveOptions = {},
): Promise<WeightsRecord> {
  const step = opts.onStep ?? (() => {});
  mkdirSync(dir, { recursive: true });
  const previous = currentWeightFiles(dir);
  const artifacts = await modelArtifacts(unet.model);
  const bytes = new Uint8Array(artifacts.weightData);
  const hash = sha256(bytes);
  const weightsFile = `weights.${hash.slice(0, 16)}.bin`;

  const wTmp = writeTempFile(join(dir, weightsFile), bytes);
  step('weights-written');
  commitTempFile(wTmp, join(dir, weightsFile));
  step('weights-committed');

  const headMode = unet.headMode ?? 'multiclass';
  checkHeadModeFits(headMode, unet.options.classes);
  const classCount = headClasses(headMode, unet.options.classes);
  const classes = opts.classes ?? defaultClasses(classCount);
  parseClasses(classes, 'classes', classCount);
  const weights: WeightsRecord = { files: [weightsFile], bytes: bytes.byteLength, sha256: hash };
  const meta: UnetJson = {
    format: UNET_JSON_FORMAT,
    version: UNET_JSON_VERSION,
    architecture: unet.options,
    classes,
    layerMap: unet.layerMap.toJSON(),
    provenance: { createdBy: 'unet-transfer', createdAt: new Date().toISOString(), ...opts.provenance },
    weights,
    headMode,
  };
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'unet-transfer',
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { [METADATA_KEY]: meta },
  };
  const mTmp = writeTempFile(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
  step('model-json-written');
  commitTempFile(mTmp, join(dir, 'model.json'));
  step('model-json-committed');
  writeJsonAtomic(join(dir, 'unet.json'), meta);
  step('unet-json-committed');

  // Only files inside the folder that the previous model.json named or that earlier saves left behind.
  const stale = new Set(previous.filter((p) => p !== weightsFile && /^[^/\\]+$/.test(p) && !p.startsWith('.') && p !== 'model.json' && p !== 'unet.json'));
  for (const name of readdirSync(dir)) {
    if ((WEIGHTS_FILE_RE.test(name) && name !== weightsFile) || isOurDebris(name)) stale.add(name);
  }
  for (const name of stale) rmSync(join(dir, name), { force: true });
  if (stale.size > 0) fsyncDir(dir);
  step('cleaned');
  return weights;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the shape of unet.json content; `file` names it in errors. */
function checkUnetJson(v: unknown, file: string): UnetJson {
  if (!isObject(v)) throw new UserError(`${file}: not a JSON object`);
  if (v.format !== UNET_JSON_FORMAT) throw new UserError(`${file}: "format" is ${JSON.stringify(v.format)}, expected "${UNET_JSON_FORMAT}"`);
  if (v.version !== UNET_JSON_VERSION)
    throw new UserError(`${file}: version ${JSON.stringify(v.version)} is not supported (this tool reads version ${UNET_JSON_VERSION})`);
  const a = v.architecture;
  if (!isObject(a) || typeof a.arch !== 'string') throw new UserError(`${file}: "architecture" must be an object with an "arch"`);
  if (a.arch !== 'adopted' && !(ARCHS as readonly string[]).includes(a.arch))
    throw new UserError(`${file}: architecture.arch ${JSON.stringify(a.arch)} is not one of ${ARCHS.join(', ')}, adopted`);
  for (const k of ['depth', 'filters', 'classes']) {
    if (!Number.isInteger(a[k])) throw new UserError(`${file}: architecture.${k} must be an integer`);
  }
  if (!Array.isArray(a.input) || a.input.length !== 3 || a.input.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new UserError(`${file}: architecture.input must be [height, width, channels]`);
  }
  if (a.arch !== 'adopted') resolveOptions(a as Partial<UNetOptions>); // the builder's own checks
  const w = v.weights;
  if (!isObject(w) || typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256) || !Array.isArray(w.files) || !Number.isInteger(w.bytes)) {
    throw new UserError(`${file}: "weights" must record the weight files, their byte count and sha256`);
  }
  if (!isObject(v.provenance)) throw new UserError(`${file}: "provenance" must be an object`);
  if (!isObject(v.layerMap)) throw new UserError(`${file}: "layerMap" must be an object`);
  if (v.headMode !== undefined && !(HEAD_MODES as readonly unknown[]).includes(v.headMode))
    throw new UserError(`${file}: "headMode" must be one of ${HEAD_MODES.join(', ')}, got ${JSON.stringify(v.headMode)}`);
  if (v.headMode === 'binary' && a.classes !== 1)
    throw new UserError(`${file}: "headMode" binary needs one output channel, architecture.classes is ${String(a.classes)}`);
  return v as unknown as UnetJson;
}

/** Turns TF.js's complaints about a topology into an error that names the file. */
async function buildFromArtifacts(m: ModelJsonFile, weightData: ArrayBuffer, file: string): Promise<tfl.LayersModel> {
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: m.json.modelTopology,
    weightSpecs: m.weightSpecs,
    weightData,
    format: m.json.format,
    generatedBy: m.json.generatedBy,
    convertedBy: m.json.convertedBy ?? null,
  };
  try {
    return await tfl.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    throw new UserError(`${file}: TF.js cannot build this model: ${(e as Error).message.split('\n')[0]}`);
  }
}

function checkModelFits(model: tfl.LayersModel, arch: ModelArchitecture, file: string): void {
  const inShape = model.inputs[0]?.shape;
  const outShape = model.outputs[0]?.shape;
  if (!inShape || inShape.length !== 4 || inShape.slice(1).join('x') !== arch.input.join('x')) {
    throw new UserError(`${file}: architecture.input ${arch.input.join('x')} does not match the model's input ${JSON.stringify(inShape?.slice(1))}`);
  }
  if (!outShape || outShape.length !== 4 || outShape[3] !== arch.classes) {
    throw new UserError(`${file}: architecture.classes ${arch.classes} does not match the model's output ${JSON.stringify(outShape?.slice(1))}`);
  }
}

function weightsRecordOf(m: ModelJsonFile, hash: string): WeightsRecord {
  return { files: m.groups.flatMap((g) => g.paths), bytes: m.totalBytes, sha256: hash };
}

/**
 * Loads a model folder: checks model.json's manifest against the files (before allocating), reads and
 * hashes the weights, checks them against the recorded sha256, builds the model and its layer map.
 */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const m = readModelJson(dir);
  const modelJsonPath = join(dir, 'model.json');
  const unetJsonPath = join(dir, 'unet.json');
  const warnings: string[] = [];
  const embedded = m.json.userDefinedMetadata?.[METADATA_KEY];
  let meta: UnetJson;
  let metaFile: string;
  const sidecar = existsSync(unetJsonPath) ? () => checkUnetJson(readJsonFile(unetJsonPath), unetJsonPath) : null;
  if (embedded !== undefined) {
    meta = checkUnetJson(embedded, `${modelJsonPath} (userDefinedMetadata.${METADATA_KEY})`);
    metaFile = modelJsonPath;
    let side: UnetJson | null = null;
    try {
      side = sidecar ? sidecar() : null;
    } catch (e) {
      warnings.push(`${(e as Error).message}; using the copy inside model.json`);
    }
    if (!sidecar) warnings.push(`${unetJsonPath} is missing (an interrupted save?); using the copy inside model.json`);
    else if (side && JSON.stringify(side) !== JSON.stringify(meta))
      warnings.push(`${unetJsonPath} differs from the copy inside model.json (an interrupted save?); using model.json's`);
  } else if (sidecar) {
    meta = sidecar();
    metaFile = unetJsonPath;
  } else {
    throw new UserError(`${dir}: has no unet.json; it looks like a plain TF.js model: run \`unet-transfer model adopt ${dir}\` to infer its blocks`);
  }

  const bytes = readWeightBytes(m);
  const hash = sha256(bytes);
  const files = m.groups.flatMap((g) => g.files).join(', ');
  if (hash !== meta.weights.sha256) {
    throw new UserError(
      `${files}: sha256 ${hash.slice(0, 16)}... is not the ${meta.weights.sha256.slice(0, 16)}... that ${metaFile} records; the weights were changed or damaged (or unet.json belongs to other weights)`,
    );
  }
  const model = await buildFromArtifacts(m, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, modelJsonPath);
  try {
    checkModelFits(model, meta.architecture, metaFile);
    const layerMap = LayerMap.fromJSON(meta.layerMap, model, metaFile);
    const headMode = meta.headMode ?? 'multiclass';
    const classes = parseClasses(meta.classes, `${metaFile} (classes)`, headClasses(headMode, meta.architecture.classes));
    return { dir, model, options: meta.architecture, layerMap, classes, provenance: meta.provenance, weights: weightsRecordOf(m, hash), headMode, warnings };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export interface AdoptOptions {
  classes?: ClassInfo[];
  /** How the output becomes a segmentation; default: binary for one output channel, else multiclass. */
  headMode?: HeadMode;
  /** Replace an existing unet.json. */
  force?: boolean;
  provenance?: Partial<Provenance>;
}

/**
 * Adopts a plain TF.js layers U-Net: infers its blocks from the graph and writes unet.json beside its
 * model.json (which is left as it is), bound to the current weights by their sha256.
 */
export async function adoptModelFolder(dir: string, opts: AdoptOptions = {}): Promise<ModelFolder> {
  checkChoice(opts, 'headMode', HEAD_MODES);
  const unetJsonPath = join(dir, 'unet.json');
  const m = readModelJson(dir);
  if (!opts.force && existsSync(unetJsonPath))
    throw new UserError(`${unetJsonPath}: already exists; pass options.force to infer the blocks again and replace it`);
  if (m.json.userDefinedMetadata?.[METADATA_KEY] !== undefined) {
    throw new UserError(
      `${join(dir, 'model.json')}: was saved by unet-transfer and carries its own layer map; there is nothing to adopt (see: unet-transfer model summary ${dir})`,
    );
  }
  const bytes = readWeightBytes(m);
  const hash = sha256(bytes);
  const modelJsonPath = join(dir, 'model.json');
  const model = await buildFromArtifacts(m, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, modelJsonPath);
  try {
    const inferred = inferLayerMap(model, modelJsonPath);
    const architecture: AdoptedArchitecture = {
      arch: 'adopted',
      depth: inferred.depth,
      filters: inferred.filters,
      classes: inferred.classes,
      input: inferred.input,
    };
    const headMode = opts.headMode ?? (inferred.classes === 1 ? 'binary' : 'multiclass');
    checkHeadModeFits(headMode, inferred.classes);
    const classCount = headClasses(headMode, inferred.classes);
    const classes = opts.classes ?? defaultClasses(classCount);
    parseClasses(classes, 'classes', classCount);
    const weights = weightsRecordOf(m, hash);
    const meta: UnetJson = {
      format: UNET_JSON_FORMAT,
      version: UNET_JSON_VERSION,
      architecture,
      classes,
      layerMap: inferred.layerMap.toJSON(),
      provenance: {
        createdBy: m.json.generatedBy ?? 'unknown',
        createdAt: statSync(modelJsonPath).mtime.toISOString(),
        adoptedBy: 'unet-transfer model adopt',
        ...opts.provenance,
      },
      weights,
      headMode,
    };
    writeJsonAtomic(unetJsonPath, meta);
    return { dir, model, options: architecture, layerMap: inferred.layerMap, classes, provenance: meta.provenance, weights, headMode, warnings: [] };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
