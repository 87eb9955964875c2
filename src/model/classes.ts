// The classes a model predicts: id (the logit channel), name and display colour, as in a dataset's
// classes.json (`[{"id":0,"name":"background","color":[0,0,0]}, ...]`, ../shared/DESIGN.md).
import { UserError } from '../util/errors.js';

import type { ClassInfo } from '../data/classes.js';

export type { ClassInfo } from '../data/classes.js';

/** The Pascal VOC colour map: distinct, stable colours for ids 0..255 (0 is black). */
export function classColor(id: number): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let c = id;
  for (let j = 0; j < 8; j++) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

/** Generic classes 0..n-1 for a model created without a classes.json. */
export function defaultClasses(n: number): ClassInfo[] {
  return Array.from({ length: n }, (_, id) => ({ id, name: id === 0 ? 'background' : `class${id}`, color: classColor(id) }));
}

/**
 * Checks a class list: ids are the integers 0..n-1 (each logit channel has one class), names are
 * non-empty strings, colours are [r, g, b] bytes. `n` (when given) is the model's number of classes.
 */
export function parseClasses(json: unknown, file: string, n?: number): ClassInfo[] {
  if (!Array.isArray(json)) throw new UserError(`${file}: classes must be a list like [{"id":0,"name":"background","color":[0,0,0]}, ...]`);
  const out: ClassInfo[] = [];
  const seen = new Set<number>();
  for (const [i, c] of json.entries()) {
    const e = c as Partial<ClassInfo> | null;
    if (!e || typeof e !== 'object') throw new UserError(`${file}: class entry ${i} is not an object`);
    if (!Number.isInteger(e.id) || e.id! < 0) throw new UserError(`${file}: class entry ${i} needs an integer "id" >= 0`);
    if (seen.has(e.id!)) throw new UserError(`${file}: class id ${e.id} appears twice`);
    seen.add(e.id!);
    if (typeof e.name !== 'string' || e.name.length === 0) throw new UserError(`${file}: class ${e.id} needs a non-empty "name"`);
    const color = e.color ?? classColor(e.id!);
    if (!Array.isArray(color) || color.length !== 3 || color.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
      throw new UserError(`${file}: class ${e.id} "color" must be [r, g, b] with values 0..255`);
    }
    out.push({ id: e.id!, name: e.name, color: [color[0], color[1], color[2]] });
  }
  out.sort((a, b) => a.id - b.id);
  if (out.some((c, i) => c.id !== i)) throw new UserError(`${file}: class ids must be 0..${out.length - 1} without gaps (one per output channel)`);
  if (n !== undefined && out.length !== n) throw new UserError(`${file}: lists ${out.length} classes, the model has ${n} output channels`);
  return out;
}
