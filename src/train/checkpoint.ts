// Checkpoints, written at the end of every epoch so that a run killed at any moment resumes exactly.
//
//   checkpoints/epoch-000N/model/        the model folder (saveModelFolder: weights incl. BN statistics)
//   checkpoints/epoch-000N/optimizer-G.bin  optimizer state of multiplier group G (moments, iterations)
//   checkpoints/epoch-000N/state.json    epoch, global step, phase, early-stopping state, best metric,
//                                        optimizer tensor specs under STABLE names `<layer>/<weight>/m`
//   checkpoints/last.json, best.json     pointers: { "epoch": N, "dir": "epoch-000N", ... }
//
// Order of a write: the folder is built under a hidden temp name (every file fsynced), renamed to
// epoch-000N (and the parent fsynced), and only then are the pointer files replaced atomically. A crash
// before the pointer leaves the previous checkpoint in force; leftovers are removed by the next write.
// Older epoch folders are deleted, except the best one. Engine variable names get suffixes when several
// models live in one process (`enc1_conv1/kernel_3`); state is saved under the layer's own names and
// mapped back to whatever the variables are called in the process that loads it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { loadModelFolder, saveModelFolder, type ModelFolder, type UNet } from '../model/index.js';
import type { ClassInfo } from '../model/classes.js';
import type { HeadMode } from '../model/head_mode.js';
import type { ModelArchitecture, Provenance } from '../model/folder.js';
import { fsyncDir, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { LrGroup } from './lr_groups.js';
import { readJson, runPaths } from './run_folder.js';

export const CHECKPOINT_FORMAT = 'unet-transfer/checkpoint';
const EPOCH_DIR_RE = /^epoch-(\d{4,})$/;

export interface EarlyStopState {
  metric: string;
  mode: 'max' | 'min';
  patience: number | null;
  best: number | null;
  bestEpoch: number | null;
  /** Epochs since the last improvement. */
  bad: number;
  stopped: boolean;
}

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** Completed epochs (1-based count). */
  epoch: number;
  /** Optimisation steps done in the whole run. */
  step: number;
  /** The phase (see unfreeze.ts) the optimizer state belongs to. */
  phase: number;
  early: EarlyStopState;
  /** The metrics line of this epoch. */
  metrics: Record<string, unknown>;
  /** Dropout, shuffling and augmentation draws derive from (seed, epoch, step): no generator state to keep. */
  rng: { seed: number; derivation: string };
  optimizer: { name: string; groups: { mult: number; file: string; bytes: number; specs: tf.io.WeightsManifestEntry[] }[] };
}

export interface Pointer {
  epoch: number;
  dir: string;
  step: number;
  metric?: string;
  value?: number | null;
}

export const epochDirName = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;

/** engine variable name -> stable name, and back, for the groups' variables. */
function nameMaps(groups: LrGroup[]): { toStable: Map<string, string>; toEngine: Map<string, string> } {
  const toStable = new Map<string, string>();
  const toEngine = new Map<string, string>();
  for (const g of groups) {
    for (const v of g.variables) {
      toStable.set(v.variable.name, v.stable);
      toEngine.set(v.stable, v.variable.name);
    }
  }
  return { toStable, toEngine };
}

/** `<variable>/<slot>` with the variable part renamed by `map` (the iteration counter has no variable part). */
function renameSlot(name: string, map: Map<string, string>, what: string): string {
  const cut = name.lastIndexOf('/');
  if (cut < 0) return name;
  const mapped = map.get(name.slice(0, cut));
  if (mapped === undefined) throw new UserError(`${what}: optimizer state for ${name.slice(0, cut)}, which this model does not train`);
  return `${mapped}${name.slice(cut)}`;
}

export interface WriteCheckpointInput {
  runDir: string;
  unet: Pick<UNet, 'model' | 'layerMap'> & { options: ModelArchitecture; headMode?: HeadMode };
  classes: ClassInfo[];
  provenance: Partial<Provenance>;
  groups: LrGroup[];
  state: Omit<CheckpointState, 'format' | 'version' | 'optimizer'> & { optimizerName: string };
  /** The epoch of the best checkpoint after this one (kept when older folders are deleted). */
  bestEpoch: number | null;
  /** Called after each stage (crash tests). */
  onStep?: (stage: 'folder-written' | 'folder-committed' | 'last-committed' | 'best-committed' | 'cleaned') => void;
}

export async function writeCheckpoint(c: WriteCheckpointInput): Promise<void> {
  const stage = c.onStep ?? (() => {});
  const root = runPaths(c.runDir).checkpoints;
  mkdirSync(root, { recursive: true });
  const name = epochDirName(c.state.epoch);
  const tmp = join(root, `.${name}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  await saveModelFolder(join(tmp, 'model'), c.unet, { classes: c.classes, provenance: c.provenance });
  const { toStable } = nameMaps(c.groups);
  const groups: CheckpointState['optimizer']['groups'] = [];
  for (const [i, g] of c.groups.entries()) {
    const weights = await g.optimizer.getWeights();
    try {
      const named = weights.map((w) => ({ name: renameSlot(w.name, toStable, 'checkpoint'), tensor: w.tensor }));
      const { data, specs } = await tf.io.encodeWeights(named);
      const bytes = new Uint8Array(data as ArrayBuffer);
      const file = `optimizer-${i}.bin`;
      writeFileAtomic(join(tmp, file), bytes);
      groups.push({ mult: g.mult, file, bytes: bytes.byteLength, specs });
    } finally {
      weights[0]?.tensor.dispose(); // the iteration counter is a fresh tensor; the rest is live state
    }
  }
  const { optimizerName, ...rest } = c.state;
  const state: CheckpointState = { format: CHECKPOINT_FORMAT, version: 1, ...rest, optimizer: { name: optimizerName, groups } };
  writeJsonAtomic(join(tmp, 'state.json'), state);
  fsyncDir(tmp);
  stage('folder-written');
  const final = join(root, name);
  rmSync(final, { recursive: true, force: true }); // a folder of this epoch left by an earlier, interrupted run
  renameSync(tmp, final);
  fsyncDir(root);
  stage('folder-committed');
  const pointer: Pointer = {
    epoch: c.state.epoch,
    dir: name,
    step: c.state.step,
    metric: c.state.early.metric,
    value: metricValue(c.state.metrics, c.state.early.metric),
  };
  writeJsonAtomic(join(root, 'last.json'), pointer);
  stage('last-committed');
  if (c.bestEpoch === c.state.epoch) {
    writeJsonAtomic(join(root, 'best.json'), pointer);
    stage('best-committed');
  }
  cleanCheckpoints(c.runDir, [c.state.epoch, ...(c.bestEpoch !== null ? [c.bestEpoch] : [])]);
  stage('cleaned');
}

function metricValue(metrics: Record<string, unknown>, key: string): number | null {
  const v = metrics[key];
  return typeof v === 'number' ? v : null;
}

/** Deletes epoch folders other than `keep` and partial folders of earlier writes. */
export function cleanCheckpoints(runDir: string, keep: number[]): void {
  const root = runPaths(runDir).checkpoints;
  if (!existsSync(root)) return;
  const keepNames = new Set(keep.map(epochDirName));
  let removed = false;
  for (const entry of readdirSync(root)) {
    const stale = (EPOCH_DIR_RE.test(entry) && !keepNames.has(entry)) || /^\.epoch-\d+\.partial-\d+$/.test(entry);
    if (!stale) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed = true;
  }
  if (removed) fsyncDir(root);
}

export function readPointer(runDir: string, which: 'last' | 'best'): Pointer | null {
  const file = join(runPaths(runDir).checkpoints, `${which}.json`);
  if (!existsSync(file)) return null;
  const p = readJson(file, 'checkpoint pointer') as Partial<Pointer> | null;
  if (!p || !Number.isInteger(p.epoch) || typeof p.dir !== 'string' || !EPOCH_DIR_RE.test(p.dir) || !Number.isInteger(p.step)) {
    throw new UserError(`${file}: not a checkpoint pointer (expected {"epoch": N, "dir": "epoch-000N", "step": S})`);
  }
  return p as Pointer;
}

export function checkpointDir(runDir: string, p: Pointer): string {
  return join(runPaths(runDir).checkpoints, p.dir);
}

export function readCheckpointState(dir: string): CheckpointState {
  const file = join(dir, 'state.json');
  const s = readJson(file, 'checkpoint state') as Partial<CheckpointState> | null;
  if (
    !s ||
    s.format !== CHECKPOINT_FORMAT ||
    !Number.isInteger(s.epoch) ||
    !Number.isInteger(s.step) ||
    !s.optimizer ||
    !Array.isArray(s.optimizer.groups) ||
    !s.early
  ) {
    throw new UserError(`${file}: not a checkpoint state written by unet-transfer`);
  }
  return s as CheckpointState;
}

export async function loadCheckpointModel(dir: string): Promise<ModelFolder> {
  return loadModelFolder(join(dir, 'model'));
}

/**
 * Restores the optimizer state of a checkpoint into freshly built groups (same multipliers, same
 * variables), renaming stable names to this process's variable names.
 */
export async function restoreOptimizerState(dir: string, state: CheckpointState, groups: LrGroup[]): Promise<void> {
  const file = join(dir, 'state.json');
  const saved = state.optimizer.groups;
  if (saved.length !== groups.length || saved.some((s, i) => s.mult !== groups[i]!.mult)) {
    throw new UserError(
      `${file}: its optimizer groups (rate multipliers ${saved.map((s) => s.mult).join(', ')}) do not match this run's (${groups.map((g) => g.mult).join(', ')}); was run.json changed?`,
    );
  }
  const { toEngine } = nameMaps(groups);
  for (const [i, s] of saved.entries()) {
    if (!/^optimizer-\d+\.bin$/.test(s.file)) throw new UserError(`${file}: optimizer file name ${JSON.stringify(s.file)} is not allowed`);
    const bin = join(dir, s.file);
    const expected = s.specs.reduce((n, sp) => {
      if (sp.dtype !== 'float32' && sp.dtype !== 'int32') throw new UserError(`${file}: optimizer tensor ${sp.name} has dtype ${sp.dtype}; expected float32`);
      if (!Array.isArray(sp.shape) || sp.shape.some((d) => !Number.isInteger(d) || d < 0))
        throw new UserError(`${file}: optimizer tensor ${sp.name} has a bad shape`);
      return n + sp.shape.reduce((a, b) => a * b, 1) * 4;
    }, 0);
    const size = existsSync(bin) ? statSync(bin).size : -1;
    if (size !== expected || size !== s.bytes)
      throw new UserError(`${bin}: ${size < 0 ? 'missing' : `${size} bytes`}; state.json expects ${expected} bytes of optimizer state`);
    const bytes = readFileSync(bin);
    const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), s.specs);
    const named = s.specs.map((sp) => ({ name: renameSlot(sp.name, toEngine, file), tensor: tensors[sp.name]! }));
    try {
      await groups[i]!.optimizer.setWeights(named);
    } finally {
      tf.dispose(Object.values(tensors)); // the optimizer made its own variables from them
    }
  }
}
