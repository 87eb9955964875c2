// Training phases: which part of the model trains from which epoch, and at what rate.
//
// `--unfreeze "head@0,decoder@2,all@4"`: gradual unfreezing (Howard & Ruder's ULMFiT, fastai). Stages are
// cumulative: from epoch 0 the head trains, from epoch 2 the decoder too, from epoch 4 everything. A
// stage's selector is any freeze-spec selector; join several with '+' (`decoder+bottleneck@3`). Epochs
// count from 0 (`@E`: from the (E+1)-th epoch, after E complete epochs); the first stage is @0.
// `--unfreeze fine_tune` is fastai's Learner.fine_tune: the head alone for one epoch at the base rate,
// then everything at half the base rate spread geometrically over the blocks from rate/100 (input side)
// to the rate (head), i.e. slice(base_lr/2/100, base_lr/2).
// Each phase starts fresh optimizers and its own run of the schedule (fastai runs one fit_one_cycle per
// stage; Keras users recompile after unfreezing), so Adam's bias correction is right for new weights.
import { OptionError } from '../util/errors.js';

export interface Phase {
  /** The first epoch (0-based) of the phase. */
  startEpoch: number;
  /** The freeze spec in force (cumulative over the stages so far). */
  spec: string;
  /** The base learning rate is multiplied by this in the phase. */
  lrScale: number;
  /** HI/LO of a geometric spread over blocks in this phase (overrides --lr-spread), if any. */
  spreadRatio?: number;
}

export const FINE_TUNE = 'fine_tune';

/** Phases from `--train SPEC` alone: one phase, the whole run. */
export function singlePhase(spec: string): Phase[] {
  return [{ startEpoch: 0, spec, lrScale: 1 }];
}

export function parseUnfreeze(text: string, epochs: number): Phase[] {
  const t = text.trim();
  if (t === FINE_TUNE) {
    if (epochs < 2)
      throw new OptionError('unfreeze', `fine_tune trains the head for 1 epoch and then everything: it needs options.epochs 2 or more, got ${epochs}`);
    return [
      { startEpoch: 0, spec: 'head', lrScale: 1 },
      { startEpoch: 1, spec: 'all', lrScale: 0.5, spreadRatio: 100 },
    ];
  }
  const phases: Phase[] = [];
  const selectors: string[] = [];
  for (const part of t.split(',')) {
    const m = /^\s*([^@\s]+)\s*@\s*(\d+)\s*$/.exec(part);
    if (!m) throw new OptionError('unfreeze', `: "${part}" must look like SELECTOR@EPOCH (e.g. head@0,decoder@2,all@4), or use the recipe ${FINE_TUNE}`);
    const epoch = Number(m[2]);
    const last = phases[phases.length - 1];
    if (!last && epoch !== 0) throw new OptionError('unfreeze', `: the first stage must start at epoch 0 (e.g. head@0), got ${part.trim()}`);
    if (last && epoch <= last.startEpoch)
      throw new OptionError('unfreeze', `: stage epochs must increase; ${part.trim()} does not come after @${last.startEpoch}`);
    if (epoch >= epochs)
      throw new OptionError('unfreeze', `: stage ${part.trim()} starts at epoch ${epoch}, but the run has options.epochs ${epochs} (epochs 0..${epochs - 1})`);
    selectors.push(...m[1]!.split('+'));
    phases.push({ startEpoch: epoch, spec: selectors.join('+'), lrScale: 1 });
  }
  return phases;
}

/** The index of the phase in force at `epoch` (0-based). */
export function phaseIndexAt(phases: Phase[], epoch: number): number {
  let i = 0;
  while (i + 1 < phases.length && phases[i + 1]!.startEpoch <= epoch) i++;
  return i;
}

/** The epochs [start, end) of phase i in a run of `epochs` epochs. */
export function phaseEpochs(phases: Phase[], i: number, epochs: number): [number, number] {
  return [phases[i]!.startEpoch, i + 1 < phases.length ? phases[i + 1]!.startEpoch : epochs];
}
