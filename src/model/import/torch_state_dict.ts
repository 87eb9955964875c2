// PyTorch checkpoint reader: the zip that torch.save writes (PyTorch >= 1.6), holding `<archive>/data.pkl`
// (the pickled object) and `<archive>/data/<key>` (one file per tensor storage). The pickle is read by the
// restricted unpickler with an allow-list that covers exactly what a state dict needs: OrderedDict, the
// tensor/parameter rebuild functions and the typed storage classes. Storages are looked up by key, their
// byte sizes and every tensor's offset/size/stride are checked against them, and tensors are copied out
// as contiguous float32. Nested dicts (e.g. {"model_state_dict": ...}) are flattened with dotted names;
// anything else in the checkpoint (epoch numbers, mask values, ...) is reported as skipped.
import { UserError } from '../../util/errors.js';
import { PyDict, PyTuple, unpickle, type AllowedGlobal } from './pickle.js';
import { decodeElements, DTYPE_BYTES, type DType, type SourceTensor, type SourceWeights } from './tensors.js';
import { looksLikeZip, readZip, type ZipEntry } from './zip.js';

/** A tensor storage named by the pickle and found in the archive. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}
}

/** A tensor as the pickle describes it: a strided view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const STORAGE_TYPES: Record<string, DType> = {
  FloatStorage: 'f32',
  DoubleStorage: 'f64',
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  LongStorage: 'i64',
  IntStorage: 'i32',
  ShortStorage: 'i16',
  CharStorage: 'i8',
  ByteStorage: 'u8',
  BoolStorage: 'bool',
};

const MAX_DIMS = 8;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** The allow-list: every global a state-dict pickle may name, each implemented here as plain data handling. */
function torchGlobals(source: string): Map<string, AllowedGlobal> {
  const fail = (what: string): never => {
    throw new UserError(`${source}: ${what}`);
  };
  const intTuple = (v: unknown, what: string): number[] => {
    if (!(v instanceof PyTuple) || v.items.length > MAX_DIMS || !v.items.every((x) => isInt(x) && x >= 0))
      fail(`a tensor's ${what} is not a tuple of at most ${MAX_DIMS} non-negative integers`);
    return (v as PyTuple).items as number[];
  };
  const rebuildTensor = (args: unknown[]): TensorRef => {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (args.length < 4 || args.length > 7) fail(`_rebuild_tensor_v2 called with ${args.length} arguments`);
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) fail('a tensor is rebuilt from something that is not a storage');
    if (!isInt(offset) || offset < 0) fail('a tensor has a bad storage offset');
    const shape = intTuple(size, 'size');
    const strides = intTuple(stride, 'stride');
    if (shape.length !== strides.length) fail(`a tensor has ${shape.length} sizes but ${strides.length} strides`);
    const s = storage as StorageRef;
    let count = 1;
    let last = offset as number; // the highest storage index the view touches
    for (let i = 0; i < shape.length; i++) {
      count *= shape[i];
      last += (shape[i] - 1) * strides[i];
    }
    if (count > 0 && (!Number.isSafeInteger(last) || last >= s.numel)) {
      fail(
        `a tensor of shape [${shape.join(', ')}] at offset ${offset} with strides [${strides.join(', ')}] reaches past its storage ${s.key} (${s.numel} elements)`,
      );
    }
    return new TensorRef(s, offset as number, shape, strides);
  };
  const globals = new Map<string, AllowedGlobal>();
  globals.set('collections.OrderedDict', {
    call: (args) => {
      if (args.length !== 0) fail('OrderedDict is built with arguments; only OrderedDict() is supported');
      return new PyDict(true);
    },
    build: (obj, state) => {
      // OrderedDict's instance __dict__ (torch keeps the state dict's `_metadata` there); kept as data.
      const d = obj as PyDict;
      const attrs = state instanceof PyTuple ? state.items[0] : state;
      if (attrs === null) return;
      if (!(attrs instanceof PyDict)) fail('an OrderedDict has state that is not a dict');
      for (const [k, v] of (attrs as PyDict).entries) if (typeof k === 'string') d.attrs.set(k, v);
    },
  });
  globals.set('torch._utils._rebuild_tensor_v2', { call: rebuildTensor });
  globals.set('torch._utils._rebuild_parameter', {
    // _rebuild_parameter(data, requires_grad, backward_hooks): the parameter's data is the tensor.
    call: (args) => {
      if (!(args[0] instanceof TensorRef)) fail('a parameter is rebuilt from something that is not a tensor');
      return args[0];
    },
  });
  globals.set('torch._utils._rebuild_parameter_with_state', {
    call: (args) => {
      if (!(args[0] instanceof TensorRef)) fail('a parameter is rebuilt from something that is not a tensor');
      return args[0];
    },
  });
  // Storage classes are markers inside persistent ids, never called.
  for (const name of Object.keys(STORAGE_TYPES)) globals.set(`torch.${name}`, {});
  return globals;
}

function storageTypeOf(v: unknown): DType | undefined {
  const g = v as { module?: string; name?: string } | null;
  if (g && g.module === 'torch' && typeof g.name === 'string' && g.name in STORAGE_TYPES) return STORAGE_TYPES[g.name];
  return undefined;
}

/** Reads a PyTorch checkpoint (torch.save zip) held in memory. */
export function readTorchCheckpoint(bytes: Uint8Array, source: string): SourceWeights {
  if (!looksLikeZip(bytes)) {
    if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
      throw new UserError(
        `${source}: this is a legacy (pre-1.6, non-zip) PyTorch file; re-save it with a current torch.save: ` +
          `python3 -c "import torch; torch.save(torch.load('OLD.pth', map_location='cpu'), 'NEW.pth')" (only for a file you trust)`,
      );
    }
    if (bytes.length >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
      throw new UserError(`${source}: this is a very old tar-format PyTorch file; re-save it with a current torch.save`);
    }
    throw new UserError(`${source}: not a PyTorch checkpoint (torch.save writes a zip archive; this file does not start like one)`);
  }
  const entries = readZip(bytes, source);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    const names = [...entries.keys()];
    if (names.some((n) => /^[^/]+\/constants\.pkl$/.test(n) || /^[^/]+\/code\//.test(n))) {
      throw new UserError(`${source}: this is a TorchScript archive (torch.jit.save); save the weights with torch.save(model.state_dict(), PATH) instead`);
    }
    throw new UserError(
      `${source}: expected exactly one <archive>/data.pkl in the zip, found ${pkls.length} (entries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`,
    );
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  if (entries.has(`${prefix}constants.pkl`)) {
    throw new UserError(`${source}: this is a TorchScript archive (torch.jit.save); save the weights with torch.save(model.state_dict(), PATH) instead`);
  }
  const order = entries.get(`${prefix}byteorder`);
  let littleEndian = true;
  if (order) {
    const text = new TextDecoder('latin1').decode(order.data).trim();
    if (text !== 'little' && text !== 'big') throw new UserError(`${source}: unknown byte order ${JSON.stringify(text.slice(0, 20))}`);
    littleEndian = text === 'little';
  }

  const storages = new Map<string, StorageRef>();
  const pklSource = `${source} (${pkls[0]})`;
  const persistentLoad = (pid: unknown): StorageRef => {
    // ('storage', storage_type, key, location, numel)
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      throw new UserError(`${pklSource}: a persistent id that is not a tensor storage reference`);
    }
    const [, type, key, , numel] = pid.items;
    const dtype = storageTypeOf(type);
    if (!dtype) throw new UserError(`${pklSource}: a storage of unknown type`);
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw new UserError(`${pklSource}: a storage key that is not a plain name`);
    if (!isInt(numel) || numel < 0) throw new UserError(`${pklSource}: storage ${key} has a bad element count`);
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) throw new UserError(`${pklSource}: storage ${key} is described twice, differently`);
      return known;
    }
    const entry: ZipEntry | undefined = entries.get(`${prefix}data/${key}`);
    if (!entry) throw new UserError(`${source}: storage ${key} is missing from the archive (${prefix}data/${key})`);
    const nbytes = (numel as number) * DTYPE_BYTES[dtype];
    if (entry.data.byteLength < nbytes) {
      throw new UserError(`${source}: storage ${key} should hold ${numel} ${dtype} elements (${nbytes} bytes) but has ${entry.data.byteLength} bytes`);
    }
    const ref = new StorageRef(key, dtype, numel as number, entry.data.subarray(0, nbytes));
    storages.set(key, ref);
    return ref;
  };
  const root = unpickle(entries.get(pkls[0])!.data, { source: pklSource, globals: torchGlobals(pklSource), persistentLoad });

  // Walk the result: dicts give dotted names, tensors are materialised, everything else is skipped.
  const tensors = new Map<string, SourceTensor>();
  const skipped: SourceWeights['skipped'] = [];
  // Tensors may share storages (views); bound the total copied so that aliasing cannot blow up memory.
  let budget = bytes.byteLength + (1 << 20);
  const seen = new Set<unknown>();
  const decoded = new Map<StorageRef, Float32Array>(); // whole storages, decoded once for strided views
  const walk = (value: unknown, name: string, depth: number) => {
    if (value instanceof TensorRef) {
      const count = value.shape.reduce((a, b) => a * b, 1);
      budget -= count;
      if (budget < 0) throw new UserError(`${source}: the tensors add up to far more elements than the file holds (aliased storages?); refusing`);
      tensors.set(name, { name, dtype: value.storage.dtype, shape: value.shape, data: materialise(value, count, littleEndian, decoded) });
      return;
    }
    if (value instanceof PyDict) {
      if (seen.has(value)) return skipped.push({ name: name || '(root)', reason: 'a dict that contains itself' }) && undefined;
      if (depth > 16) throw new UserError(`${source}: dicts nested more than 16 deep`);
      seen.add(value);
      for (const [k, v] of value.entries) {
        const key = typeof k === 'string' || typeof k === 'number' ? String(k) : undefined;
        if (key === undefined) {
          skipped.push({ name: `${name}[?]`, reason: 'a dict entry whose key is not a string' });
          continue;
        }
        walk(v, name ? `${name}.${key}` : key, depth + 1);
      }
      return;
    }
    const kind =
      value === null ? 'None' : Array.isArray(value) ? 'list' : value instanceof PyTuple ? 'tuple' : value instanceof Uint8Array ? 'bytes' : typeof value;
    skipped.push({ name: name || '(root)', reason: `not a tensor (${kind})` });
  };
  walk(root, '', 0);
  if (tensors.size === 0) throw new UserError(`${source}: the checkpoint holds no tensors (expected a state dict: torch.save(model.state_dict(), PATH))`);
  return { format: 'torch', layout: 'torch', tensors, skipped, notes: [] };
}

/** Copies a strided view out of its storage as a contiguous float32 array. */
function materialise(t: TensorRef, count: number, littleEndian: boolean, decoded: Map<StorageRef, Float32Array>): Float32Array {
  const size = DTYPE_BYTES[t.storage.dtype];
  const contiguous = isContiguous(t.shape, t.stride);
  if (contiguous || count <= 1) {
    const begin = t.offset * size;
    return decodeElements(t.storage.bytes.subarray(begin, begin + count * size), t.storage.dtype, count, littleEndian);
  }
  let all = decoded.get(t.storage);
  if (!all) {
    all = decodeElements(t.storage.bytes, t.storage.dtype, t.storage.numel, littleEndian);
    decoded.set(t.storage, all);
  }
  const out = new Float32Array(count);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = t.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d] * t.stride[d];
    out[i] = all[at];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}
