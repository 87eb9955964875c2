// Train/validation split: the data set's own train/ and val/ sub-folders when it has them, otherwise a
// seeded split of the stems (the same seed and files give the same split on every machine).
import { UserError } from '../util/errors.js';
import type { FolderDataset, SamplePair } from './folder-dataset.js';
import { Rng } from './random.js';

export interface Split {
  train: SamplePair[];
  val: SamplePair[];
  /** 'folders' when train/ and val/ came from the data set, 'seeded' when drawn here. */
  source: 'folders' | 'seeded';
}

/** Splits pairs: `valFraction` of them (at least one when there are two or more) go to validation. */
export function seededSplit(pairs: SamplePair[], valFraction: number, seed: number): { train: SamplePair[]; val: SamplePair[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new UserError(`validation fraction must be in [0, 1), got ${valFraction}`);
  const sorted = [...pairs].sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  new Rng(seed, 'split').shuffle(sorted);
  let nVal = Math.round(sorted.length * valFraction);
  if (valFraction > 0 && sorted.length >= 2) nVal = Math.min(Math.max(nVal, 1), sorted.length - 1);
  const byStem = (a: SamplePair, b: SamplePair): number => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0);
  return { val: sorted.slice(0, nVal).sort(byStem), train: sorted.slice(nVal).sort(byStem) };
}

export function splitDataset(ds: FolderDataset, opts: { valFraction?: number; seed?: number } = {}): Split {
  const train = ds.pairs.filter((p) => p.split === 'train');
  const val = ds.pairs.filter((p) => p.split === 'val');
  if (ds.layout === 'splits' && val.length > 0) return { train, val, source: 'folders' };
  const s = seededSplit(ds.layout === 'splits' ? train : ds.pairs, opts.valFraction ?? 0.2, opts.seed ?? 0);
  return { ...s, source: 'seeded' };
}
