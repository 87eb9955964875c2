// Reading a TF.js layers model folder safely: model.json is data from anywhere, so its weights manifest
// is checked before a single weight byte is allocated. Every weight path must stay inside the folder
// (no absolute path, no `..`, no URL, no symlink that leads out), every dtype must be one we can size,
// and the files' byte counts must equal what the shapes and dtypes say; the topology must not build more
// weights than the manifest holds (topology-guard.ts). Errors name the file at fault.
import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

import { UserError } from '../util/errors.js';
import { checkTopologyBudget } from './topology-guard.js';

/** model.json beyond this size is refused before reading (a U-Net's topology is tens of kilobytes). */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** Weights beyond this are refused before allocating (a depth-5, F=64 U-Net is about 0.5 GB). */
export const MAX_WEIGHT_BYTES = 2 * 1024 * 1024 * 1024;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

export interface WeightGroup {
  /** Paths as written in the manifest (relative to the folder). */
  paths: string[];
  /** Absolute, symlink-resolved files, in the manifest's order. */
  files: string[];
  /** Each file's size as checked. */
  fileBytes: number[];
  weights: WeightSpec[];
  bytes: number;
}

export interface ModelJsonFile {
  /** The parsed model.json (checked fields only are typed). */
  json: {
    modelTopology: Record<string, unknown>;
    weightsManifest: unknown[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    trainingConfig?: unknown;
    userDefinedMetadata?: Record<string, unknown>;
  };
  groups: WeightGroup[];
  /** Every weight spec in manifest order (the order of the bytes). */
  weightSpecs: WeightSpec[];
  totalBytes: number;
}

function readSmallFile(path: string, limit: number, what: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${what}: no such file`);
    throw new UserError(`${what}: cannot read (${(e as Error).message})`);
  }
  if (!st.isFile()) throw new UserError(`${what}: not a regular file`);
  if (st.size > limit) throw new UserError(`${what}: ${st.size} bytes, more than the ${limit} allowed`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) throw new UserError(`${what}: file shrank while being read`);
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses a JSON file of at most `limit` bytes; errors name the file. */
export function readJsonFile(path: string, limit = MAX_MODEL_JSON_BYTES): unknown {
  const text = readSmallFile(path, limit, path).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Checks one manifest path and resolves it inside `realDir` (the folder, symlinks resolved). Refuses
 * absolute paths, URLs, backslashes, `..` segments and anything whose real location is outside.
 */
export function resolveWeightPath(realDir: string, p: unknown, modelJson: string): string {
  if (typeof p !== 'string' || p.length === 0) throw new UserError(`${modelJson}: a weights path is not a non-empty string: ${JSON.stringify(p)}`);
  const show = JSON.stringify(p);
  if (p.includes('\0')) throw new UserError(`${modelJson}: weights path ${show} contains a NUL byte`);
  if (isAbsolute(p) || p.startsWith('/') || p.startsWith('\\') || /^[a-zA-Z]:/.test(p)) {
    throw new UserError(`${modelJson}: weights path ${show} is absolute; weight files must be named relative to the model folder`);
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p))
    throw new UserError(`${modelJson}: weights path ${show} is a URL; weight files must be local files in the model folder`);
  if (p.includes('\\')) throw new UserError(`${modelJson}: weights path ${show} contains a backslash`);
  if (p.split('/').includes('..')) throw new UserError(`${modelJson}: weights path ${show} leaves the model folder (..)`);
  const full = resolve(realDir, p);
  if (!isInside(realDir, full)) throw new UserError(`${modelJson}: weights path ${show} leaves the model folder`);
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${full}: missing (model.json lists it as a weights file)`);
    throw new UserError(`${full}: cannot resolve (${(e as Error).message})`);
  }
  if (!isInside(realDir, real)) throw new UserError(`${full}: is a symlink that leads out of the model folder (to ${real}); refused`);
  return real;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel.length > 0 && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function checkWeightSpec(w: unknown, modelJson: string): WeightSpec {
  const spec = w as Partial<WeightSpec> & { quantization?: unknown; group?: unknown };
  if (!spec || typeof spec !== 'object' || typeof spec.name !== 'string') throw new UserError(`${modelJson}: a weights entry has no "name"`);
  if (spec.quantization !== undefined) throw new UserError(`${modelJson}: weight ${spec.name} is quantized; only unquantized float32 weights are supported`);
  if (typeof spec.dtype !== 'string' || !(spec.dtype in DTYPE_BYTES)) {
    throw new UserError(`${modelJson}: weight ${spec.name} has dtype ${JSON.stringify(spec.dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  if (!Array.isArray(spec.shape) || spec.shape.length > 8 || spec.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new UserError(`${modelJson}: weight ${spec.name} has an invalid shape ${JSON.stringify(spec.shape)}`);
  }
  return { name: spec.name, shape: [...spec.shape], dtype: spec.dtype as WeightSpec['dtype'] };
}

function specBytes(w: WeightSpec): number {
  return w.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[w.dtype];
}

/**
 * Reads dir/model.json and checks its weights manifest against the files on disk: paths inside the
 * folder, sizes equal to shapes x dtypes. Nothing large is allocated here.
 */
export function readModelJson(dir: string): ModelJsonFile {
  const modelJson = join(dir, 'model.json');
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    if (!statSync(realDir).isDirectory()) throw new Error('not a folder');
  } catch (e) {
    throw new UserError(`${dir}: not a model folder (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message})`);
  }
  if (!existsSync(modelJson)) throw new UserError(`${dir}: not a model folder (no model.json)`);
  const raw = readJsonFile(modelJson) as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${modelJson}: not a JSON object`);
  if (raw.format !== undefined && raw.format !== 'layers-model') {
    throw new UserError(`${modelJson}: format is ${JSON.stringify(raw.format)}; a TF.js layers model ("layers-model") is needed, not a graph model`);
  }
  const topology = raw.modelTopology as Record<string, unknown> | undefined;
  if (!topology || typeof topology !== 'object' || Array.isArray(topology)) throw new UserError(`${modelJson}: has no "modelTopology" object`);
  // Keras-exported files wrap the model config in {"model_config": ...}; TF.js accepts both.
  const config = (topology.model_config ?? topology) as Record<string, unknown>;
  if (typeof config.class_name !== 'string') throw new UserError(`${modelJson}: "modelTopology" has no "class_name"; is this a TF.js layers model?`);
  if (!Array.isArray(raw.weightsManifest)) throw new UserError(`${modelJson}: has no "weightsManifest" list`);

  const groups: WeightGroup[] = [];
  const weightSpecs: WeightSpec[] = [];
  const seenFiles = new Set<string>();
  let totalBytes = 0;
  for (const [gi, g] of raw.weightsManifest.entries()) {
    const group = g as { paths?: unknown; weights?: unknown } | null;
    if (!group || !Array.isArray(group.paths) || group.paths.length === 0 || !Array.isArray(group.weights)) {
      throw new UserError(`${modelJson}: weightsManifest[${gi}] needs a non-empty "paths" list and a "weights" list`);
    }
    const weights = group.weights.map((w) => checkWeightSpec(w, modelJson));
    const bytes = weights.reduce((s, w) => s + specBytes(w), 0);
    totalBytes += bytes;
    if (!Number.isSafeInteger(totalBytes) || totalBytes > MAX_WEIGHT_BYTES) {
      throw new UserError(`${modelJson}: the weights manifest describes more than ${MAX_WEIGHT_BYTES} bytes of weights; refused`);
    }
    const paths: unknown[] = group.paths;
    const files = paths.map((p) => resolveWeightPath(realDir, p, modelJson));
    const fileBytes = files.map((f, i) => {
      const st = statSync(f);
      if (!st.isFile()) throw new UserError(`${f}: not a regular file (model.json lists it as weights file ${JSON.stringify(paths[i])})`);
      if (seenFiles.has(f)) throw new UserError(`${modelJson}: weights file ${JSON.stringify(paths[i])} is listed twice`);
      seenFiles.add(f);
      return st.size;
    });
    const have = fileBytes.reduce((a, b) => a + b, 0);
    if (have !== bytes) {
      const names = files.length === 1 ? files[0] : `${files.join(' + ')}`;
      const why = have < bytes ? 'truncated or not the weights of this model.json' : 'longer than the weights model.json describes';
      throw new UserError(`${names}: ${have} bytes, but model.json's manifest needs ${bytes} (${weights.length} weights); ${why}`);
    }
    groups.push({ paths: paths as string[], files, fileBytes, weights, bytes });
    weightSpecs.push(...weights);
  }
  const names = new Set<string>();
  for (const w of weightSpecs) {
    if (names.has(w.name)) throw new UserError(`${modelJson}: weight ${w.name} appears twice in the manifest`);
    names.add(w.name);
  }
  const elements = weightSpecs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  checkTopologyBudget(topology, elements, modelJson);
  return { json: raw as ModelJsonFile['json'], groups, weightSpecs, totalBytes };
}

/** Reads the weight bytes that `readModelJson` checked, into one buffer in manifest order. */
export function readWeightBytes(m: ModelJsonFile): Buffer {
  const out = Buffer.alloc(m.totalBytes);
  let off = 0;
  for (const g of m.groups) {
    for (const [i, file] of g.files.entries()) {
      const fd = openSync(file, 'r');
      try {
        // The file may have changed since it was checked: read exactly the checked size, no more.
        const size = fstatSync(fd).size;
        if (size !== g.fileBytes[i]) throw new UserError(`${file}: changed size while being read (${g.fileBytes[i]} -> ${size} bytes)`);
        let done = 0;
        while (done < size) {
          const n = readSync(fd, out, off + done, size - done, done);
          if (n === 0) throw new UserError(`${file}: truncated while being read (${done} of ${size} bytes)`);
          done += n;
        }
        off += size;
      } finally {
        closeSync(fd);
      }
    }
  }
  return out;
}
