// Class statistics: how many pixels of each class a set of masks holds (at the masks' own resolution), in
// how many masks each class appears, and class weights for a weighted loss.
// Weights are median-frequency balancing (Eigen & Fergus 2015): w_c = median(f) / f_c, where f_c is the
// class's pixel share; classes with no pixels get weight 0 (they cannot be learned from this set).
import { UserError } from '../util/errors.js';
import type { ClassSet } from './classes.js';
import { readPicture } from './decode.js';
import type { FolderDataset, SamplePair } from './folder-dataset.js';
import { maskToIds } from './mask.js';

export interface ClassStat {
  id: number;
  name: string;
  pixels: number;
  /** pixels / all pixels. */
  share: number;
  /** Masks with at least one pixel of this class. */
  masks: number;
  weight: number;
}

export interface ClassStats {
  totalPixels: number;
  masks: number;
  classes: ClassStat[];
}

/** Accumulates counts mask by mask (for streaming callers). */
export class ClassCounter {
  readonly pixels = new Map<number, number>();
  readonly masks = new Map<number, number>();
  total = 0;
  count = 0;

  add(ids: Int32Array): void {
    const local = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i]!;
      local.set(v, (local.get(v) ?? 0) + 1);
    }
    for (const [id, n] of local) {
      this.pixels.set(id, (this.pixels.get(id) ?? 0) + n);
      this.masks.set(id, (this.masks.get(id) ?? 0) + 1);
    }
    this.total += ids.length;
    this.count += 1;
  }

  stats(classes: ClassSet | null): ClassStats {
    const ids = new Set<number>([...(classes?.classes.map((c) => c.id) ?? []), ...this.pixels.keys()]);
    const list = [...ids]
      .sort((a, b) => a - b)
      .map((id) => {
        const pixels = this.pixels.get(id) ?? 0;
        return {
          id,
          name: classes?.byId.get(id)?.name ?? (id === 0 ? 'background' : `class_${id}`),
          pixels,
          share: this.total ? pixels / this.total : 0,
          masks: this.masks.get(id) ?? 0,
          weight: 0,
        };
      });
    const present = list
      .filter((c) => c.pixels > 0)
      .map((c) => c.share)
      .sort((a, b) => a - b);
    if (present.length) {
      const mid = present.length >> 1;
      const median = present.length % 2 ? present[mid]! : (present[mid - 1]! + present[mid]!) / 2;
      for (const c of list) c.weight = c.pixels > 0 ? median / c.share : 0;
    }
    return { totalPixels: this.total, masks: this.count, classes: list };
  }
}

/** Reads every mask of `pairs` once (a mask at a time) and counts its classes. */
export async function classStats(ds: FolderDataset, pairs: SamplePair[], opts: { numClasses?: number } = {}): Promise<ClassStats> {
  const counter = new ClassCounter();
  for (const p of pairs) {
    try {
      const { raster } = await readPicture(p.mask, { maxPixels: ds.maxPixels, keep16: true });
      counter.add(maskToIds(raster, p.mask, ds.classes, ds.classes ? undefined : opts.numClasses));
    } catch (e) {
      if (!(e instanceof UserError) || !ds.skipBad) throw e;
      if (!ds.skipped.some((s) => s.file === p.mask)) ds.skipped.push({ file: p.mask, reason: e.message.replace(`${p.mask}: `, '') });
    }
  }
  return counter.stats(ds.classes);
}
