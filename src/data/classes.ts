// classes.json: the classes of a data set and, for RGB masks, their colours.
// Two accepted forms (DESIGN.md, Files):
//   [{"id":0,"name":"background","color":[0,0,0]}, ...]
//   {"classes":[...same entries...], ...metadata}   (e.g. the digit scenes' "source", "digits", "shift")
// Ids are integers 0..65535 and unique; colours, when given, are unique [r,g,b] triples.
import { readFileSync, statSync } from 'node:fs';

import { UserError } from '../util/errors.js';

export interface ClassInfo {
  id: number;
  name: string;
  color?: [number, number, number];
  [extra: string]: unknown;
}

export interface ClassSet {
  classes: ClassInfo[];
  /** Other top-level fields of the object form (provenance, shift, ...). */
  meta: Record<string, unknown>;
  /** Where it was read from (absent when inferred). */
  file?: string;
  byId: Map<number, ClassInfo>;
  /** Packed 0xRRGGBB -> class id, for RGB masks; empty when classes have no colours. */
  byColor: Map<number, number>;
  /** Largest class id + 1: the channel count a model's output needs. */
  numClasses: number;
}

export const packRgb = (r: number, g: number, b: number): number => (r << 16) | (g << 8) | b;

/** A distinct, stable colour for class `id` (background black), for overlays when classes.json has none. */
export function defaultColor(id: number): [number, number, number] {
  if (id === 0) return [0, 0, 0];
  const PALETTE: [number, number, number][] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 212],
    [0, 128, 128],
    [220, 190, 255],
    [170, 110, 40],
    [255, 250, 200],
    [128, 0, 0],
    [170, 255, 195],
    [128, 128, 0],
    [255, 215, 180],
    [0, 0, 128],
    [128, 128, 128],
  ];
  const base = PALETTE[(id - 1) % PALETTE.length]!;
  const round = Math.floor((id - 1) / PALETTE.length);
  return round === 0 ? base : (base.map((v) => (v + 97 * round) % 256) as [number, number, number]);
}

export function colorOf(c: ClassInfo): [number, number, number] {
  return c.color ?? defaultColor(c.id);
}

export function makeClassSet(classes: ClassInfo[], meta: Record<string, unknown> = {}, file?: string): ClassSet {
  const where = file ?? 'classes';
  const byId = new Map<number, ClassInfo>();
  const byColor = new Map<number, number>();
  for (const [i, c] of classes.entries()) {
    if (typeof c !== 'object' || c === null) throw new UserError(`${where}: entry ${i} is not an object like {"id":0,"name":"background"}`);
    if (!Number.isInteger(c.id) || c.id < 0 || c.id > 65535)
      throw new UserError(`${where}: entry ${i} has id ${JSON.stringify(c.id)}, expected an integer 0..65535`);
    if (typeof c.name !== 'string' || c.name.length === 0) throw new UserError(`${where}: class ${c.id} needs a non-empty "name"`);
    if (byId.has(c.id)) throw new UserError(`${where}: class id ${c.id} appears twice`);
    byId.set(c.id, c);
    if (c.color !== undefined) {
      const col = c.color as unknown;
      if (!Array.isArray(col) || col.length !== 3 || !col.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
        throw new UserError(`${where}: class ${c.id} has color ${JSON.stringify(col)}, expected [r,g,b] with integers 0..255`);
      }
      const key = packRgb(col[0], col[1], col[2]);
      if (byColor.has(key)) throw new UserError(`${where}: classes ${byColor.get(key)} and ${c.id} have the same color ${JSON.stringify(col)}`);
      byColor.set(key, c.id);
    }
  }
  if (classes.length === 0) throw new UserError(`${where}: no classes listed`);
  const sorted = [...classes].sort((a, b) => a.id - b.id);
  return { classes: sorted, meta, file, byId, byColor, numClasses: sorted[sorted.length - 1]!.id + 1 };
}

/** Parses classes.json text (either form); errors name the file. */
export function parseClasses(text: string, file: string): ClassSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (Array.isArray(json)) return makeClassSet(json as ClassInfo[], {}, file);
  if (typeof json === 'object' && json !== null && Array.isArray((json as { classes?: unknown }).classes)) {
    const { classes, ...meta } = json as { classes: ClassInfo[] };
    return makeClassSet(classes, meta, file);
  }
  throw new UserError(`${file}: expected a list of classes [{"id":0,"name":"background","color":[0,0,0]}, ...] or {"classes":[...]}`);
}

export function readClassesFile(file: string): ClassSet {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UserError(`${file}: not a regular file`);
    if (st.size > 4 * 2 ** 20) throw new UserError(`${file}: ${st.size} bytes is too large for a class list`);
    return parseClasses(readFileSync(file, 'utf8'), file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Classes named by number when a data set has no classes.json: ids 0..n-1, 0 called background. */
export function numberedClasses(n: number): ClassSet {
  return makeClassSet(
    Array.from({ length: n }, (_, id) => ({ id, name: id === 0 ? 'background' : `class_${id}` })),
    { inferred: true },
  );
}

/** The JSON text of a class set in the object form (used by writers). */
export function classesJson(set: { classes: ClassInfo[]; meta?: Record<string, unknown> }): string {
  return `${JSON.stringify({ ...(set.meta ?? {}), classes: set.classes }, null, 2)}\n`;
}
