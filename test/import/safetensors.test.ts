// The safetensors reader: valid files in f32/f16/bf16, and every kind of bad header refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readSafetensors } from '../../src/model/import/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { makeSafetensors } from './helpers.js';

function refuses(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => readSafetensors(bytes, 'x.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
      assert.match((e as Error).message, /^x\.safetensors: /);
      assert.match((e as Error).message, pattern);
      return true;
    },
  );
}

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

test('reads f32, f16 and bf16 tensors (converted to f32), at any alignment, ignoring __metadata__', () => {
  const data = new Uint8Array([...f32(1, -2, 3.5), 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f]); // f16 [1, -2], bf16 [1]
  const bytes = makeSafetensors(
    {
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      h: { dtype: 'F16', shape: [2], data_offsets: [12, 16] },
      b: { dtype: 'BF16', shape: [1, 1], data_offsets: [16, 18] },
    },
    data,
  );
  const w = readSafetensors(bytes, 'ok.safetensors');
  assert.deepEqual(Array.from(w.tensors.get('a')!.data), [1, -2, 3.5]);
  assert.deepEqual(Array.from(w.tensors.get('h')!.data), [1, -2]);
  assert.deepEqual(Array.from(w.tensors.get('b')!.data), [1]);
  assert.deepEqual(w.tensors.get('b')!.shape, [1, 1]);
});

test('overlapping, out-of-range and gapped offsets are refused', () => {
  const data = f32(1, 2, 3, 4);
  refuses(
    makeSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data),
    /overlaps/,
  );
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, data), /past the end/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /gap/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), /belong to no tensor/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, data), /backwards/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, data), /needs 12 bytes/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 2 ** 60] } }, data), /bad data_offsets|past the end/);
});

test('a header length beyond the file, or above 100 MB, and non-JSON headers are refused', () => {
  const data = f32(1);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data, 1000n), /header claims 1000 bytes/);
  refuses(makeSafetensors({}, data, 2n ** 63n), /at most 104857600/);
  refuses(makeSafetensors({}, data, 101n * 1024n * 1024n), /at most/);
  refuses(new Uint8Array([1, 2, 3]), /only 3 bytes/);
  const notJson = new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b, 0x7b, 0x7b]);
  refuses(notJson, /not valid UTF-8 JSON/);
});

test('bad dtypes and shapes are refused before any data is read', () => {
  const data = f32(1, 2);
  refuses(makeSafetensors({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, data), /unsupported dtype/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data), /bad dimension/);
  refuses(makeSafetensors({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data), /more elements than the file/);
  refuses(makeSafetensors({ a: 'nope' }, data), /not described by an object/);
  refuses(makeSafetensors([1, 2], data), /not a JSON object/);
});

test('truncating a valid file anywhere gives a UserError', () => {
  const bytes = makeSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1, 2));
  for (let cut = 0; cut < bytes.length; cut++) assert.throws(() => readSafetensors(bytes.subarray(0, cut), 't'), UserError);
});
