// Masks to class ids. A grey PNG holds the class id in each pixel; an RGB(A) or palette PNG holds a class
// colour that classes.json maps to an id. A value or colour that no class has is an error naming the file,
// the value and where it is, so the user can find it.
import { UserError } from '../util/errors.js';
import { packRgb, type ClassSet } from './classes.js';
import type { Raster } from './raster.js';

function listIds(classes: ClassSet): string {
  const ids = classes.classes.map((c) => c.id);
  return ids.length <= 12 ? ids.join(', ') : `${ids.slice(0, 12).join(', ')}, ... (${ids.length} classes)`;
}

/** Class ids of a decoded mask. `classes` null: grey masks are taken as they are, below `maxClasses` when given. */
export function maskToIds(mask: Raster, file: string, classes: ClassSet | null, maxClasses?: number): Int32Array {
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
    throw new UserError(`${file}: is a colour mask; colour masks need classes.json with a "color" [r,g,b] for every class (or save masks as grey PNGs of class ids)`);
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
