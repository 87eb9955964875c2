// Inspecting a folder data set: counts, picture sizes and formats, classes and their pixel shares, every
// problem found (all of them, not just the first), and a contact sheet PNG.
import { writeFileAtomic } from '../util/atomic.js';
import { ClassCounter, type ClassStats } from './class-stats.js';
import { renderContactSheet, type SheetItem } from './contact-sheet.js';
import { openFolderDataset, type BadFile, type FolderDataset } from './folder-dataset.js';
import { encodePng } from './png.js';
import { loadPairRaw } from './sample.js';
import { UserError } from '../util/errors.js';

export interface InspectOptions {
  maxPixels?: number;
  /** Where to write the contact sheet; null for none. */
  sheet: string | null;
  /** Samples on the sheet (default 8). */
  sheetCount?: number;
}

export interface InspectReport {
  root: string;
  layout: FolderDataset['layout'];
  classesFile: string | null;
  /** Shift and provenance fields of classes.json, when it has them. */
  meta: Record<string, unknown>;
  pairs: number;
  usable: number;
  splits: Record<string, number>;
  sizes: { width: number; height: number; count: number }[];
  formats: Record<string, number>;
  channels: Record<string, number>;
  classes: ClassStats['classes'];
  totalPixels: number;
  problems: BadFile[];
  ignored: string[];
  sheet: string | null;
}

export async function inspectDataset(dir: string, opts: InspectOptions): Promise<InspectReport> {
  const ds = openFolderDataset(dir, { skipBad: true, maxPixels: opts.maxPixels, allowEmpty: true });
  const counter = new ClassCounter();
  const sizes = new Map<string, number>();
  const formats: Record<string, number> = {};
  const channels: Record<string, number> = {};
  const splits: Record<string, number> = {};
  const want = Math.min(opts.sheetCount ?? 8, ds.pairs.length);
  // Spread the sheet's samples evenly over the set.
  const sheetAt = new Set(Array.from({ length: want }, (_, i) => Math.floor((i * ds.pairs.length) / want)));
  const sheetItems: SheetItem[] = [];
  let usable = 0;
  for (const [i, p] of ds.pairs.entries()) {
    let loaded;
    try {
      loaded = await loadPairRaw(ds, p);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const file = [p.image, p.mask].find((f) => e.message.startsWith(`${f}: `)) ?? p.image;
      ds.skipped.push({ file, reason: e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message });
      continue;
    }
    usable++;
    counter.add(loaded.ids);
    const key = `${loaded.image.width}x${loaded.image.height}`;
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
    formats[loaded.header.format] = (formats[loaded.header.format] ?? 0) + 1;
    const ch = ['', 'grey', 'grey+alpha', 'rgb', 'rgba'][loaded.header.channels]!;
    channels[ch] = (channels[ch] ?? 0) + 1;
    const split = p.split ?? 'all';
    splits[split] = (splits[split] ?? 0) + 1;
    if (sheetAt.has(i)) sheetItems.push({ image: loaded.image, ids: loaded.ids });
  }
  let sheet: string | null = null;
  if (opts.sheet && sheetItems.length > 0) {
    try {
      writeFileAtomic(opts.sheet, encodePng(renderContactSheet(sheetItems, ds.classes)));
    } catch (e) {
      throw new UserError(
        `${opts.sheet}: cannot write the contact sheet (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose another place with options.sheet FILE, or options.sheet none`,
      );
    }
    sheet = opts.sheet;
  }
  const stats = counter.stats(ds.classes);
  return {
    root: ds.root,
    layout: ds.layout,
    classesFile: ds.classes?.file ?? null,
    meta: ds.classes?.meta ?? {},
    pairs: ds.pairs.length + ds.skipped.length,
    usable,
    splits,
    sizes: [...sizes]
      .map(([k, count]) => {
        const [width, height] = k.split('x').map(Number) as [number, number];
        return { width, height, count };
      })
      .sort((a, b) => b.count - a.count),
    formats,
    channels,
    classes: stats.classes,
    totalPixels: stats.totalPixels,
    problems: ds.skipped,
    ignored: ds.ignored,
    sheet,
  };
}
