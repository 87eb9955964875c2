// Masks to class ids. A grey PNG holds the class id in each pixel; an RGB(A) or palette PNG holds a class
// colour that classes.json maps to an id. A value or colour that no class has is an error naming the file,
// the value and where it is, so the user can find it. Two other grey encodings serve sigmoid heads:
//   binary  0 = background, 1 or 255 = foreground (both are common), read as ids 0/1;
//   bits    a multilabel mask: bit k of the value set = label k present (at most 8 labels in 8-bit PNGs).
import { UserError } from '../util/errors.js';
import { packRgb, type ClassSet } from './classes.js';
import type { Raster } from './raster.js';

function listIds(classes: ClassSet): string {
  const ids = classes.classes.map((c) => c.id);
  return ids.length <= 12 ? ids.join(', ') : `${ids.slice(0, 12).join(', ')}, ... (${ids.length} classes)`;
}

/** How grey mask values are read: class ids, binary foreground, or bit-packed labels. */
export type MaskEncoding = 'ids' | 'binary' | 'bits';

/**
 * Class ids of a decoded mask. `classes` null: grey masks are taken as they are, below `maxClasses` when
 * given. `encoding` binary / bits: see the top of this file (bits: `maxClasses` is the label count).
 */
export function maskToIds(mask: Raster, file: string, classes: ClassSet | null, maxClasses?: number, encoding: MaskEncoding = 'ids'): Int32Array {
  const n = mask.width * mask.height;
  const out = new Int32Array(n);
  const c = mask.channels;
  const d = mask.data;
  if (c <= 2) {
    for (let i = 0; i < n; i++) {
      const v = d[i * c]!;
      out[i] = v;
    }
    // Validate via a histogram: one pass, and the first offending pixel is found only when needed.
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) seen.add(out[i]!);
    const where = (v: number) => {
      const at = out.indexOf(v);
      return `(${at % mask.width}, ${Math.floor(at / mask.width)})`;
    };
    if (encoding === 'binary') {
      for (const v of seen)
        if (v !== 0 && v !== 1 && v !== 255)
          throw new UserError(`${file}: value ${v} at pixel ${where(v)}; a binary mask holds 0 (background) and 1 or 255 (foreground)`);
      if (seen.has(1) && seen.has(255)) throw new UserError(`${file}: holds both 1 and 255; a binary mask marks the foreground with one of them`);
      if (seen.has(255)) for (let i = 0; i < n; i++) out[i] = out[i]! ? 1 : 0;
      return out;
    }
    if (encoding === 'bits') {
      const labels = maxClasses ?? 8;
      for (const v of seen)
        if (v >= 2 ** labels)
          throw new UserError(
            `${file}: value ${v} at pixel ${where(v)} sets a bit beyond the ${labels} labels (a multilabel mask holds bit k for label k, values 0..${2 ** labels - 1})`,
          );
      return out;
    }
    for (const v of seen) {
      const bad = classes ? !classes.byId.has(v) : maxClasses !== undefined && v >= maxClasses;
      if (bad) {
        const at = out.indexOf(v);
        const expected = classes ? `ids in ${classes.file ?? 'classes.json'}: ${listIds(classes)}` : `ids 0..${maxClasses! - 1}`;
        throw new UserError(`${file}: class id ${v} at pixel (${at % mask.width}, ${Math.floor(at / mask.width)}) is not a known class (expected ${expected})`);
      }
    }
    return out;
  }
  if (!classes || classes.byColor.size === 0) {
    throw new UserError(
      `${file}: is a colour mask; colour masks need classes.json with a "color" [r,g,b] for every class (or save masks as grey PNGs of class ids)`,
    );
  }
  let lastKey = -1;
  let lastId = 0;
  for (let i = 0; i < n; i++) {
    const key = packRgb(d[i * c]!, d[i * c + 1]!, d[i * c + 2]!);
    if (key !== lastKey) {
      const id = classes.byColor.get(key);
      if (id === undefined) {
        throw new UserError(
          `${file}: colour [${d[i * c]}, ${d[i * c + 1]}, ${d[i * c + 2]}] at pixel (${i % mask.width}, ${Math.floor(i / mask.width)}) is not a class colour in ${classes.file ?? 'classes.json'}`,
        );
      }
      lastKey = key;
      lastId = id;
    }
    out[i] = lastId;
  }
  return out;
}
