// safetensors reader (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the tensor
// bytes. Everything in the header is checked before a byte of tensor data is read: the header fits the
// file and is at most 100 MB, every dtype is known, every shape's byte size equals its offsets, and the
// tensors tile the data area exactly (no overlap, no gap, nothing past the end).
import { UserError } from '../../util/errors.js';
import { checkShape, decodeElements, DTYPE_BYTES, type DType, type SourceTensor, type SourceWeights } from './tensors.js';

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPE_NAMES: Record<string, DType> = {
  F32: 'f32',
  F64: 'f64',
  F16: 'f16',
  BF16: 'bf16',
  I64: 'i64',
  I32: 'i32',
  I16: 'i16',
  I8: 'i8',
  U8: 'u8',
  BOOL: 'bool',
};

export function readSafetensors(bytes: Uint8Array, source: string): SourceWeights {
  const fail = (what: string): never => {
    throw new UserError(`${source}: not a valid safetensors file: ${what}`);
  };
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes; a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) fail(`the header claims ${headerLen64} bytes; at most ${MAX_HEADER_BYTES} are allowed`);
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.byteLength)
    fail(`the header claims ${headerLen} bytes but the file has only ${bytes.byteLength - 8} after the length (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;

  const entries: Array<{ name: string; dtype: DType; shape: number[]; begin: number; end: number }> = [];
  const skipped: SourceWeights['skipped'] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail('__metadata__ is not an object');
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(`${what} is not described by an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_NAMES))
      fail(`${what} has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_NAMES).join(', ')})`);
    const dt = DTYPE_NAMES[dtype as string];
    let dims: number[];
    try {
      dims = checkShape(shape, dataLen, `${source}: ${what}`);
    } catch (e) {
      return fail((e as Error).message.replace(`${source}: `, ''));
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      fail(`${what} has bad data_offsets ${JSON.stringify(offsets)?.slice(0, 80)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) fail(`${what} has data_offsets [${begin}, ${end}] that run backwards`);
    if (end > dataLen) fail(`${what} has data_offsets [${begin}, ${end}] past the end of the data (${dataLen} bytes)`);
    const expected = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dt];
    if (end - begin !== expected)
      fail(`${what}: shape ${JSON.stringify(dims)} of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] give ${end - begin}`);
    entries.push({ name, dtype: dt, shape: dims, begin, end });
  }
  // The tensors must tile the data area: sorted by offset, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`tensor ${JSON.stringify(e.name)} overlaps another tensor (its data starts at ${e.begin}, before ${cursor})`);
    if (e.begin > cursor) fail(`there is a gap in the data before tensor ${JSON.stringify(e.name)} (bytes ${cursor}..${e.begin})`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`${dataLen - cursor} bytes after the last tensor belong to no tensor`);

  const tensors = new Map<string, SourceTensor>();
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = decodeElements(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, count);
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  // safetensors files of U-Nets almost always come from PyTorch, so kernels are taken as OIHW.
  return { format: 'safetensors', layout: 'torch', tensors, skipped, notes: [] };
}
