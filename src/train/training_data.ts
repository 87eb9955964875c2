// The data of a training run: the folder data set, its train/validation split (its own train/ and val/
// folders, or a seeded split), how samples become model inputs, and the classes the target has.
import { NO_AUGMENT, openFolderDataset, splitDataset, type AugmentSpec, type FolderDataset, type SamplePair } from '../data/index.js';
import type { ClassSet } from '../data/classes.js';
import type { SampleOptions } from '../data/sample.js';
import { classColor, type ClassInfo } from '../model/classes.js';
import { MAX_MULTILABEL_LABELS, type HeadMode } from '../model/head_mode.js';
import { UserError } from '../util/errors.js';

export interface TrainingData {
  ds: FolderDataset;
  train: SamplePair[];
  val: SamplePair[];
  splitSource: 'folders' | 'seeded';
  sample: SampleOptions;
  augment: AugmentSpec;
  /**
   * The target's class count: classes.json's largest id + 1, or the model's when the set has none;
   * binary: 2 (background, foreground); multilabel: the labels (bits of the masks).
   */
  classes: number;
  headMode: HeadMode;
}

/** The data set's classes as a model's class list (ids 0..n-1; gaps get generic names). */
export function modelClassesFrom(set: ClassSet | null, n: number): ClassInfo[] {
  return Array.from({ length: n }, (_, id) => {
    const c = set?.byId.get(id);
    return { id, name: c?.name ?? (id === 0 ? 'background' : `class${id}`), color: c?.color ?? classColor(id) };
  });
}

/**
 * Opens a training data set. `headMode` (default multiclass) says how its masks are read: class ids;
 * binary 0 and 1 or 255 (2 classes); multilabel bit-packed labels (classes.json names the labels by bit).
 * `normalize`: the model's input normalisation (sampleNormalizationOf); default [0, 1].
 */
export function openTrainingData(
  dir: string,
  o: {
    valFraction: number;
    seed: number;
    input: [number, number, number];
    modelClasses?: number;
    augment?: AugmentSpec;
    normalize?: SampleOptions['normalize'];
    headMode?: HeadMode;
    trainSamples?: number;
  },
): TrainingData {
  const [height, width, channels] = o.input;
  if (channels !== 1 && channels !== 3) throw new UserError(`the model takes ${channels}-channel input; training reads grey (1) or RGB (3) pictures only`);
  const ds = openFolderDataset(dir);
  const headMode = o.headMode ?? 'multiclass';
  const classes = headMode === 'binary' ? 2 : (ds.classes?.numClasses ?? o.modelClasses);
  if (headMode === 'binary' && ds.classes && ds.classes.numClasses > 2)
    throw new UserError(`${dir}: classes.json names ${ds.classes.numClasses} classes; a binary head has background and foreground (masks 0 and 1 or 255)`);
  if (classes === undefined) throw new UserError(`${dir}: has no classes.json; set options.classes (the number of class ids in its masks)`);
  if (headMode === 'multilabel' && (classes < 1 || classes > MAX_MULTILABEL_LABELS))
    throw new UserError(`${dir}: ${classes} labels; multilabel masks are 8-bit grey PNGs with bit k for label k, so 1..${MAX_MULTILABEL_LABELS} labels`);
  if (headMode !== 'multilabel' && classes < 2)
    throw new UserError(`${dir}: classes.json names ${classes} class; segmentation needs at least 2 (background and one more)`);
  const split = splitDataset(ds, { valFraction: o.valFraction, seed: o.seed });
  if (split.train.length === 0) throw new UserError(`${dir}: no training samples after the split (options.val ${o.valFraction} of ${ds.pairs.length})`);
  return {
    ds,
    train: o.trainSamples !== undefined && o.trainSamples < split.train.length ? evenlySpaced(split.train, o.trainSamples) : split.train,
    val: split.val,
    splitSource: split.source,
    sample: {
      height,
      width,
      channels,
      numClasses: classes,
      maskEncoding: headMode === 'binary' ? 'binary' : headMode === 'multilabel' ? 'bits' : 'ids',
      ...(o.normalize ? { normalize: o.normalize } : {}),
    },
    augment: o.augment ?? NO_AUGMENT,
    classes,
    headMode,
  };
}

/** `n` of the items, spread evenly over the list (a short trial sees all of its range, not its first part). */
function evenlySpaced<T>(items: T[], n: number): T[] {
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}
