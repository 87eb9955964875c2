// Checks of one field of a library call's options object: absent is fine (the default applies); a present
// value of the wrong kind or range is an OptionError naming the field.
import { invalidOption } from './errors.js';

const field = (o: object, name: string): unknown => (o as Record<string, unknown>)[name];

/** An integer within [lo, hi] (hi omitted: no upper bound). */
export function checkInt(o: object, name: string, lo: number, hi = Number.MAX_SAFE_INTEGER): void {
  const v = field(o, name);
  if (v !== undefined && !(Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi)) {
    throw invalidOption(name, hi === Number.MAX_SAFE_INTEGER ? `an integer >= ${lo}` : `an integer from ${lo} to ${hi}`, v);
  }
}

/** A finite number within [lo, hi], or (lo, hi] with loOpen. */
export function checkNumber(o: object, name: string, lo: number, hi: number, loOpen = false): void {
  const v = field(o, name);
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || (loOpen ? v <= lo : v < lo)) {
    throw invalidOption(name, `a number ${loOpen ? '>' : '>='} ${lo}${hi < Infinity ? ` and <= ${hi}` : ''}`, v);
  }
}

/** One of the choices. */
export function checkChoice(o: object, name: string, choices: readonly string[]): void {
  const v = field(o, name);
  if (v !== undefined && !choices.includes(v as string)) throw invalidOption(name, `one of ${choices.join(', ')}`, v);
}
