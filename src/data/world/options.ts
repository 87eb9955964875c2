// The options of a world data set, their defaults and their checks. Errors name the option field
// (`option 'size': ...`), never a command-line flag: the CLI and library callers share them.
import { UserError } from '../../util/errors.js';
import type { WorldName } from './classes.js';
import { STYLES, type WorldStyle } from './styles.js';

export const WORLDS: readonly WorldName[] = ['town', 'indoor'];

export interface WorldSceneOptions {
  world: WorldName;
  style: WorldStyle;
  /** Frames in all, training and validation together. */
  count: number;
  /** [height, width] in pixels. */
  size: [number, number];
  seed: number;
  /** Share of the frames that go to val/ (0 for none). */
  valFraction: number;
  /** The folder to write. */
  out: string;
  /** Replace `out` if it exists and is not empty. */
  force: boolean;
}

export const DEFAULT_WORLD_OPTIONS: Omit<WorldSceneOptions, 'world' | 'count' | 'out'> = {
  style: 'day',
  size: [96, 128],
  seed: 0,
  valFraction: 0.2,
  force: false,
};

export type WorldSceneInput = Pick<WorldSceneOptions, 'world' | 'count' | 'out'> & Partial<WorldSceneOptions>;

const bad = (field: string, expected: string, got: unknown): never => {
  throw new UserError(`option '${field}': expected ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
};

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Fills in defaults and checks every field; returns the complete options. */
export function resolveWorldOptions(input: WorldSceneInput): WorldSceneOptions {
  const o = { ...DEFAULT_WORLD_OPTIONS, ...input } as WorldSceneOptions;
  if (!WORLDS.includes(o.world)) bad('world', WORLDS.join('|'), o.world);
  if (!STYLES.includes(o.style)) bad('style', STYLES.join('|'), o.style);
  if (!isInt(o.count, 1, 10_000_000)) bad('count', 'an integer from 1 to 10000000', o.count);
  if (!Array.isArray(o.size) || o.size.length !== 2 || !o.size.every((v) => isInt(v, 16, 2048)))
    bad('size', '[height, width] with integers from 16 to 2048', o.size);
  if (!isInt(o.seed, 0, 2 ** 32 - 1)) bad('seed', 'an integer from 0 to 4294967295', o.seed);
  if (typeof o.valFraction !== 'number' || !(o.valFraction >= 0 && o.valFraction < 1))
    bad('valFraction', 'a number from 0 up to (not including) 1', o.valFraction);
  if (o.count - valCount(o) < 1) bad('count', `at least one training frame after the validation share ${o.valFraction}`, o.count);
  if (typeof o.out !== 'string' || o.out === '') bad('out', 'the folder to write', o.out);
  return o;
}

/** Validation frames: the rounded share of count. */
export function valCount(o: Pick<WorldSceneOptions, 'count' | 'valFraction'>): number {
  return Math.round(o.count * o.valFraction);
}
