// How a model's output channels become a segmentation (segmentation_models.pytorch's modes):
//   multiclass  K channels, softmax: one class per pixel (masks hold class ids 0..K-1)
//   binary      1 channel, sigmoid: foreground vs background (masks 0/1 or 0/255); reported as 2 classes
//   multilabel  K channels, sigmoid each: any set of K labels per pixel (masks bit-packed, bit k = label k)
// Models output logits in every mode; the mode says which function turns them into probabilities. It is
// inferred from the last activation of an imported model and recorded in unet.json (`headMode`).
import { OptionError, UserError } from '../util/errors.js';

export const HEAD_MODES = ['multiclass', 'binary', 'multilabel'] as const;
export type HeadMode = (typeof HEAD_MODES)[number];

/** Most labels a bit-packed multilabel mask holds (an 8-bit grey PNG: bits 0..7). */
export const MAX_MULTILABEL_LABELS = 8;

/** The output channels of a head in `mode` for `classes` classes (binary: background + foreground -> 1 channel). */
export function headChannels(mode: HeadMode, classes: number): number {
  if (mode === 'binary') {
    if (classes !== 2) throw new UserError(`a binary head predicts 2 classes (background, foreground); the data has ${classes}`);
    return 1;
  }
  if (mode === 'multilabel' && classes > MAX_MULTILABEL_LABELS)
    throw new UserError(`a multilabel head reads bit-packed 8-bit masks: at most ${MAX_MULTILABEL_LABELS} labels, the data has ${classes}`);
  return classes;
}

/** The classes a model in `mode` with `channels` outputs predicts (the length of its class list). */
export function headClasses(mode: HeadMode, channels: number): number {
  return mode === 'binary' ? 2 : channels;
}

/** Refuses a mode that does not fit a model with `channels` outputs (binary: exactly one); `option` names the field. */
export function checkHeadModeFits(mode: HeadMode, channels: number, option = 'headMode'): void {
  if (mode === 'binary' && channels !== 1) throw new OptionError(option, `binary needs one output channel, the model has ${channels}`, { exitCode: 1 });
}

/** The mode an output activation implies: softmax -> multiclass, sigmoid -> binary (1 channel) or multilabel. */
export function headModeFromActivation(activation: string, channels: number): HeadMode {
  if (activation === 'sigmoid') return channels === 1 ? 'binary' : 'multilabel';
  // Linear logits: one channel can only be a sigmoid's input; more are taken as softmax logits.
  if (activation === 'linear') return channels === 1 ? 'binary' : 'multiclass';
  return 'multiclass';
}
