// Keras `.h5` and `.keras` reader, through h5wasm (the HDF5 C library compiled to WebAssembly: it cannot
// run anything the file names). Keras 2 and Keras 3 `model.save('m.h5')` (and save_weights) write weights
// under `model_weights/` (or the root): attribute `layer_names` lists the layers, each layer group's
// `weight_names` lists its datasets (Keras 2 `conv2d/kernel:0`, Keras 3 `conv2d/kernel`, both nested as
// `model_weights/conv2d/conv2d/kernel...`). Keras 3's own weights file (model.weights.h5, the weights of a
// `.keras` zip) has `layers/<group>/vars/<index>` instead. The model config (a JSON attribute) is parsed as data only, to
// learn each layer's class; Lambda layers (Python code in the file) are reported and, unless the caller
// allows it, refused — their code is never run either way. Paths are walked one component at a time so
// that external links (to other files) are refused rather than followed, and every dataset's type and
// size are checked before its data is read.
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { UserError } from '../../util/errors.js';
import { kerasLayerClasses } from './keras_config.js';
import { checkShape, type SourceTensor, type SourceWeights } from './tensors.js';
import { looksLikeZip, readZip } from './zip.js';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CONFIG_BYTES = 100 * 1024 * 1024;
/** Largest single dataset and total read: far above any U-Net (the course U-Net at F=32 has 8.6 M). */
const MAX_DATASET_ELEMENTS = 1 << 28;
const MAX_TOTAL_ELEMENTS = 1 << 30;
const H5T_FLOAT = 1;

export interface KerasReadOptions {
  /** Import the weights of a model that has Lambda layers (their code is not run; they are reported). */
  allowLambda?: boolean;
}

type H5 = typeof import('h5wasm/node').default;
type H5Group = InstanceType<H5['Group']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5promise: Promise<H5> | undefined;
async function loadH5(): Promise<H5> {
  h5promise ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5promise;
}

/** True when an HDF5 superblock signature is at one of the offsets HDF5 allows (0, 512, 1024, 2048). */
function hasHdf5Signature(path: string): { hdf5: boolean; zip: boolean } {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2056);
    const n = readSync(fd, head, 0, head.length, 0);
    const zip = n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
    for (const at of [0, 512, 1024, 2048]) {
      if (at + 8 <= n && HDF5_SIGNATURE.every((b, i) => head[at + i] === b)) return { hdf5: true, zip };
    }
    return { hdf5: false, zip };
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `fn` with the HDF5 library's diagnostic stack (which it prints straight to file descriptor 2)
 * captured instead of printed, and returns the last "minor" diagnostic for error messages.
 */
function quietHdf5<T>(fn: (lastDiag: () => string) => T): T {
  const original = fs.writeSync;
  let captured = '';
  (fs as any).writeSync = function (fd: number, buf: unknown, ...rest: unknown[]) {
    if (fd === 2) {
      if (typeof buf === 'string') {
        captured = (captured + buf).slice(-4096);
        return Buffer.byteLength(buf);
      }
      const b = buf as Uint8Array;
      const off = typeof rest[0] === 'number' ? rest[0] : 0;
      const len = typeof rest[1] === 'number' ? rest[1] : b.byteLength - off;
      captured = (captured + Buffer.from(b.buffer, b.byteOffset + off, len).toString('utf8')).slice(-4096);
      return len;
    }
    return (original as (...a: unknown[]) => number).call(fs, fd, buf, ...rest);
  };
  const lastDiag = () => {
    const minors = captured.split('\n').filter((l) => /^\s*minor:/.test(l));
    return minors.length ? minors[minors.length - 1].replace(/^\s*minor:\s*/, '') : '';
  };
  try {
    return fn(lastDiag);
  } finally {
    fs.writeSync = original;
  }
}

/** An attribute holding one string or a list of strings (h5py writes fixed-length byte strings or vlen UTF-8). */
function stringList(value: unknown): string[] | undefined {
  const one = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v).replace(/\0+$/, '') : undefined;
  if (Array.isArray(value)) {
    const out = value.map(one);
    return out.every((s) => s !== undefined) ? (out as string[]) : undefined;
  }
  const s = one(value);
  return s === undefined ? undefined : [s];
}

export async function readKerasH5(path: string, options: KerasReadOptions = {}): Promise<SourceWeights> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: file not found`);
  }
  if (!st.isFile()) throw new UserError(`${path}: not a file`);
  const sig = hasHdf5Signature(path);
  if (!sig.hdf5) {
    if (sig.zip) {
      try {
        return await readKerasArchive(path, options);
      } catch (e) {
        if (!(e instanceof UserError) || e.message.includes('Keras 3')) throw e;
        const why = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
        throw new UserError(`${path}: a zip, read as a Keras 3 .keras archive: ${why}`);
      }
    }
    throw new UserError(`${path}: not an HDF5 file (no HDF5 signature); expected a Keras .h5 file`);
  }
  return readHdf5(path, path, options);
}

/** Largest .keras archive read into memory, and its config.json. */
const MAX_ARCHIVE_BYTES = 2 ** 31 - 1;

/**
 * A Keras 3 `.keras` archive (model.save('m.keras')): a zip holding config.json (the model config in
 * Keras 3's format), metadata.json and model.weights.h5 (weights under layers/<layer path>/vars/0, 1, ...).
 * The HDF5 member is copied to a private temporary file for the HDF5 library and removed afterwards.
 */
export async function readKerasArchive(path: string, options: KerasReadOptions = {}): Promise<SourceWeights> {
  const bytes = readFileSync(path);
  if (bytes.length > MAX_ARCHIVE_BYTES) throw new UserError(`${path}: larger than 2 GiB; refused`);
  if (!looksLikeZip(bytes)) throw new UserError(`${path}: not a zip archive; a .keras file is a zip written by Keras 3 model.save`);
  const entries = readZip(bytes, path);
  const config = entries.get('config.json');
  if (!config) throw new UserError(`${path}: has no config.json; not a Keras 3 .keras archive (entries: ${[...entries.keys()].slice(0, 6).join(', ')})`);
  if (config.data.length > MAX_CONFIG_BYTES) throw new UserError(`${path}: config.json is larger than 100 MB`);
  const weights = entries.get('model.weights.h5');
  if (!weights) {
    const other = [...entries.keys()].find((n) => /^model\.weights/.test(n));
    throw new UserError(`${path}: has no model.weights.h5${other ? ` (it has ${other}: sharded or npz weights are not supported)` : ''}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'unet-keras-'));
  try {
    const h5path = join(dir, 'model.weights.h5');
    writeFileSync(h5path, weights.data, { mode: 0o600 });
    const w = await readHdf5(h5path, `${path} (model.weights.h5)`, options, new TextDecoder().decode(config.data));
    return { ...w, format: 'keras-archive' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads an HDF5 file at `path` (named `shown` in errors); `configText` replaces its model_config attribute. */
async function readHdf5(path: string, shown: string, options: KerasReadOptions, configText?: string): Promise<SourceWeights> {
  const h5 = await loadH5();
  return quietHdf5((lastDiag) => {
    const fail = (what: string): never => {
      const diag = lastDiag();
      throw new UserError(`${shown}: ${what}${diag ? ` (HDF5: ${diag})` : ''}`);
    };
    let file: InstanceType<H5['File']>;
    try {
      file = new h5.File(path, 'r');
    } catch (e) {
      return fail(`HDF5 could not open the file: ${(e as Error).message}`);
    }
    if (!(typeof file.file_id === 'bigint' && file.file_id > 0n)) return fail('HDF5 could not open the file (corrupt or truncated?)');
    try {
      return readOpenFile(h5, file, shown, options, fail, configText);
    } catch (e) {
      if (e instanceof UserError) throw e;
      return fail(`the HDF5 file is corrupt or not a Keras file (${(e as Error).message})`);
    } finally {
      try {
        file.close();
      } catch {
        // closing a half-broken file can fail; nothing is left to release that matters
      }
    }
  });
}

function readOpenFile(
  h5: H5,
  file: InstanceType<H5['File']>,
  path: string,
  options: KerasReadOptions,
  fail: (what: string) => never,
  configOverride?: string,
): SourceWeights {
  const attr = (
    obj: { attrs: Record<string, { value: unknown; metadata: { size: number; vlen: boolean; shape: number[] | null } }> },
    name: string,
  ): unknown => {
    const attrs = obj.attrs;
    if (!(name in attrs)) return undefined;
    const a = attrs[name];
    return a.value;
  };
  const child = (group: H5Group, name: string, what: string): unknown => {
    if (!group.keys().includes(name)) return undefined;
    const obj = group.get(name);
    if (obj === null || obj === undefined) return undefined;
    if (!(obj instanceof h5.Group) && !(obj instanceof h5.Dataset))
      fail(`${what} is a link (${(obj as object).constructor?.name ?? 'unknown'}), which is not followed`);
    return obj;
  };

  // The model config, read as data: which class each layer is, and which layers are Lambda (code).
  const notes: string[] = [];
  let layerClasses: Map<string, string> | undefined;
  let modelConfig: unknown;
  const configText = configOverride ?? stringList(attr(file, 'model_config'))?.[0];
  if (configText !== undefined) {
    if (configText.length > MAX_CONFIG_BYTES) fail('model_config is larger than 100 MB');
    let config: unknown;
    try {
      config = JSON.parse(configText);
    } catch {
      fail('model_config is not valid JSON');
    }
    modelConfig = config;
    layerClasses = kerasLayerClasses(config);
    const lambdas = [...layerClasses].filter(([, cls]) => cls === 'Lambda').map(([n]) => n);
    if (lambdas.length) {
      const list = lambdas.join(', ');
      if (!options.allowLambda) {
        fail(
          `the model has Lambda layer${lambdas.length > 1 ? 's' : ''} (${list}): Python code stored in the file, which is never run here; pass options.allowLambda to import the other layers' weights anyway and rebuild what the Lambda did yourself`,
        );
      }
      notes.push(`Lambda layer${lambdas.length > 1 ? 's' : ''} ${list} not imported: their Python code is never run`);
    }
  }

  const top = child(file, 'model_weights', 'model_weights');
  const weightsRoot = (top instanceof h5.Group ? top : file) as H5Group;
  const layerNames = stringList(attr(weightsRoot, 'layer_names'));
  const tensors = new Map<string, SourceTensor>();
  const skipped: SourceWeights['skipped'] = [];
  let total = 0;
  /** Checks and reads one float dataset. */
  const readDataset = (ds: H5Dataset, wn: string): { shape: number[]; data: Float32Array; dtype: 'f32' | 'f64' } => {
    const meta = ds.metadata;
    if (meta.virtual_sources && meta.virtual_sources.length) fail(`weight ${wn} is a virtual dataset that reads other files; refused`);
    if (meta.type !== H5T_FLOAT || (meta.size !== 4 && meta.size !== 8))
      fail(`weight ${wn} is not a float32/float64 dataset (HDF5 type class ${meta.type}, ${meta.size} bytes)`);
    const shape = checkShape(ds.shape ?? [], MAX_DATASET_ELEMENTS, `${path}: weight ${wn}`);
    const count = shape.reduce((a, b) => a * b, 1);
    total += count;
    if (total > MAX_TOTAL_ELEMENTS) fail('the weights add up to more than 2^30 values; refusing');
    const value = ds.value;
    if (!(value instanceof Float32Array || value instanceof Float64Array) || value.length !== count) fail(`weight ${wn} could not be read as ${count} floats`);
    const data = value instanceof Float32Array ? value : Float32Array.from(value as Float64Array);
    return { shape, data, dtype: meta.size === 8 ? 'f64' : 'f32' };
  };
  if (!layerNames) {
    // Keras 3's own weights file (model.weights.h5, also inside .keras): layers/<path>/vars/<index>.
    const layersGroup = child(weightsRoot, 'layers', 'layers');
    if (!(layersGroup instanceof h5.Group))
      fail('no Keras weights: the layer_names attribute is missing (Keras 2 or 3 model.save .h5), and there is no layers group (Keras 3 weights)');
    const varNames = new Map<string, string>();
    for (const key of (layersGroup as H5Group).keys()) {
      if (key === '' || key.includes('/') || key === '.' || key === '..') fail(`bad layer group name ${JSON.stringify(key)}`);
      const g = child(layersGroup as H5Group, key, `layers/${key}`);
      if (!(g instanceof h5.Group)) continue;
      for (const sub of (g as H5Group).keys()) {
        if (sub !== 'vars') skipped.push({ name: `layers/${key}/${sub}`, reason: 'a nested layer or model; only flat functional models are read' });
      }
      const vars = child(g as H5Group, 'vars', `layers/${key}/vars`);
      if (!(vars instanceof h5.Group)) continue;
      const owner = stringList(attr(vars as H5Group, 'name'))?.[0];
      if (owner !== undefined) varNames.set(`layers/${key}`, owner);
      for (const idx of (vars as H5Group).keys()) {
        if (!/^\d{1,4}$/.test(idx)) fail(`layers/${key}/vars/${idx}: expected numbered variables`);
        const ds = child(vars as H5Group, idx, `layers/${key}/vars/${idx}`);
        if (!(ds instanceof h5.Dataset)) fail(`layers/${key}/vars/${idx} is not a dataset`);
        const name = `layers/${key}/vars/${idx}`;
        const r = readDataset(ds as H5Dataset, name);
        tensors.set(name, { name, dtype: r.dtype, shape: r.shape, data: r.data });
      }
    }
    if (tensors.size === 0) fail('the file holds no weights');
    return { format: 'keras-h5', layout: 'keras', tensors, skipped, notes, layerClasses, modelConfig, kerasVars: { owners: varNames } };
  }

  for (const layer of layerNames!) {
    if (layer === '' || layer.includes('/') || layer === '.' || layer === '..') fail(`bad layer name ${JSON.stringify(layer)}`);
    const group = child(weightsRoot, layer, `layer ${layer}`);
    if (!(group instanceof h5.Group)) fail(`layer ${layer} is listed in layer_names but has no group`);
    const weightNames = stringList(attr(group as H5Group, 'weight_names')) ?? [];
    for (const wn of weightNames) {
      const parts = wn.split('/');
      if (parts.some((p) => p === '' || p === '.' || p === '..')) fail(`layer ${layer}: bad weight name ${JSON.stringify(wn)}`);
      let node: unknown = group;
      for (const p of parts) {
        if (!(node instanceof h5.Group)) fail(`layer ${layer}: weight ${wn} is not found`);
        node = child(node as H5Group, p, `weight ${wn}`);
      }
      if (!(node instanceof h5.Dataset)) fail(`layer ${layer}: weight ${wn} is listed but missing`);
      const { shape, data, dtype } = readDataset(node as H5Dataset, wn);
      // `conv2d/kernel:0` (Keras 2) or `conv2d/kernel` (Keras 3) -> `conv2d/kernel`: the layer and the weight's own name.
      const base = parts[parts.length - 1].replace(/:\d+$/, '');
      const name = `${layer}/${base}`;
      if (tensors.has(name)) fail(`layer ${layer} has two weights named ${base}`);
      tensors.set(name, { name, dtype, shape, data });
    }
  }
  if (tensors.size === 0) fail('the file holds no weights');
  return { format: 'keras-h5', layout: 'keras', tensors, skipped, notes, layerClasses, modelConfig };
}
