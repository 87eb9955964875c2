// Learning-rate schedules: the rate for a training step, from the step index alone (so a resumed run
// continues on the same curve without any schedule state of its own).
import { invalidOption } from '../util/errors.js';

export const SCHEDULES = ['constant', 'cosine', 'one-cycle'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface Schedule {
  name: ScheduleName;
  /** The learning rate multiplier at `step` (0-based) of `totalSteps`; the base rate times this is used. */
  factor(step: number, totalSteps: number): number;
}

const constant: Schedule = { name: 'constant', factor: () => 1 };

/** Cosine decay from 1 to 0 over the run (Loshchilov & Hutter, without restarts). */
const cosine: Schedule = {
  name: 'cosine',
  factor: (step, total) => 0.5 * (1 + Math.cos((Math.PI * Math.min(step, total)) / Math.max(1, total))),
};

/**
 * One-cycle (Smith 2018, as fastai's fit_one_cycle): cosine warm-up from 1/25 of the rate to the rate over the
 * first 25% of steps, then cosine annealing down to 1/25e4 of it.
 */
const oneCycle: Schedule = {
  name: 'one-cycle',
  factor: (step, total) => {
    const warm = Math.max(1, Math.round(0.25 * total));
    const cos = (from: number, to: number, t: number) => to + ((from - to) * (1 + Math.cos(Math.PI * t))) / 2;
    if (step < warm) return cos(1 / 25, 1, step / warm);
    return cos(1, 1 / 25e4, Math.min(1, (step - warm) / Math.max(1, total - warm)));
  },
};

export function scheduleByName(name: string): Schedule {
  const s = { constant, cosine, 'one-cycle': oneCycle }[name];
  if (!s) throw invalidOption('schedule', `one of ${SCHEDULES.join(', ')}`, name);
  return s;
}
