// The PyTorch checkpoint reader: real torch.save files, and hostile zips and pickles that must be refused
// with a clear error (never executed, never a crash).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { unpickle, PyDict } from '../../src/model/import/pickle.js';
import { readTorchCheckpoint } from '../../src/model/import/torch_state_dict.js';
import { readZip } from '../../src/model/import/zip.js';
import { UserError } from '../../src/util/errors.js';
import { makeZip, pickleBytes } from './helpers.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'import');

function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('reads a real torch.save state dict: nested dicts, a transposed (strided) view, f16/bf16/f64, skipped non-tensors', () => {
  const w = readTorchCheckpoint(readFileSync(join(FIXTURES, 'tiny_mixed.pth')), 'tiny_mixed.pth');
  const t = w.tensors.get('model_state_dict.t')!;
  assert.deepEqual(t.shape, [4, 3]);
  // arange(12).reshape(3, 4).t(): row i of the result is column i of the original.
  assert.deepEqual(Array.from(t.data), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual(Array.from(w.tensors.get('model_state_dict.h')!.data), [1.5, -2.25]);
  assert.equal(w.tensors.get('model_state_dict.h')!.dtype, 'f16');
  assert.deepEqual(Array.from(w.tensors.get('model_state_dict.b')!.data), [3]);
  assert.deepEqual(Array.from(w.tensors.get('model_state_dict.d')!.data), [0.125]);
  assert.deepEqual(w.skipped, [{ name: 'epoch', reason: 'not a tensor (number)' }]);
});

test('reads a milesial checkpoint with its mask_values and BatchNorm counters', () => {
  const w = readTorchCheckpoint(readFileSync(join(FIXTURES, 'milesial_f2_transpose.pth')), 'm.pth');
  assert.deepEqual(w.tensors.get('inc.double_conv.0.weight')!.shape, [2, 1, 3, 3]);
  assert.deepEqual(w.tensors.get('up1.up.weight')!.shape, [32, 16, 2, 2]);
  assert.equal(w.tensors.get('inc.double_conv.1.num_batches_tracked')!.dtype, 'i64');
  assert.deepEqual(w.skipped, [{ name: 'mask_values', reason: 'not a tensor (list)' }]);
});

test('a truncated checkpoint is refused at every cut, never crashes', () => {
  const bytes = readFileSync(join(FIXTURES, 'tiny_mixed.pth'));
  for (const cut of [0, 10, 100, bytes.length / 2, bytes.length - 23, bytes.length - 1]) {
    assert.throws(() => readTorchCheckpoint(bytes.subarray(0, Math.floor(cut)), 'cut.pth'), UserError, `cut at ${cut}`);
  }
});

test('random byte flips in a checkpoint give UserErrors (CRC, offsets), never another exception', () => {
  const bytes = readFileSync(join(FIXTURES, 'tiny_mixed.pth'));
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1_000_000) / 1_000_000;
  for (let i = 0; i < 300; i++) {
    const b = Uint8Array.from(bytes);
    const at = Math.floor(rand() * b.length);
    b[at] ^= 1 + Math.floor(rand() * 255);
    try {
      readTorchCheckpoint(b, 'flipped.pth');
    } catch (e) {
      assert.ok(e instanceof UserError, `flip at ${at}: ${(e as Error).stack}`);
    }
  }
});

test('zip: corrupt CRC, compressed entries, overlapping entries and a central directory past the end are refused', () => {
  const pkl = pickleBytes('\x80\x02}q\x00.');
  refuses(() => readZip(makeZip([['a/data.pkl', pkl]], { badCrc: 'a/data.pkl' }), 'x.pth'), /CRC-32/);
  refuses(() => readZip(makeZip([['a/data.pkl', pkl]], { method: 8 }), 'x.pth'), /compressed \(method 8\)/);
  const ok = makeZip([
    ['a/data.pkl', pkl],
    ['a/version', new Uint8Array([0x33])],
  ]);
  // Point the second central entry's local offset at the first entry: overlap.
  const overlapping = Uint8Array.from(ok);
  const view = new DataView(overlapping.buffer);
  const cdOffset = view.getUint32(overlapping.length - 6, true);
  const second = cdOffset + 46 + 'a/data.pkl'.length;
  view.setUint32(second + 42, 0, true);
  refuses(() => readZip(overlapping, 'x.pth'), /local header of a\/version disagrees|overlap|bad signature|CRC/);
  const farCd = Uint8Array.from(ok);
  new DataView(farCd.buffer).setUint32(farCd.length - 6, 0x7fffffff, true);
  refuses(() => readZip(farCd, 'x.pth'), /beyond the end of the file/);
});

test('a pickle naming os.system is refused by name, and nothing runs', () => {
  // What `pickle.dumps(Evil())` gives for a class whose __reduce__ returns (os.system, ('touch /tmp/pwned',)).
  const evil = pickleBytes('\x80\x02cposix\nsystem\nq\x00X\x10\x00\x00\x00touch /tmp/pwnedq\x01\x85q\x02Rq\x03.');
  refuses(() => readTorchCheckpoint(makeZip([['archive/data.pkl', evil]]), 'evil.pth'), /global posix\.system.*nothing was imported or executed/);
  const evil2 = pickleBytes('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.');
  refuses(() => unpickle(evil2, { source: 'evil', globals: new Map() }), /os\.system/);
});

test('unknown globals are refused however they are spelled (GLOBAL, STACK_GLOBAL) and even if never called', () => {
  const globals = new Map([['collections.OrderedDict', { call: () => new PyDict(true) }]]);
  refuses(() => unpickle(pickleBytes('\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94.'), { source: 's', globals }), /builtins\.eval/);
  refuses(() => unpickle(pickleBytes('\x80\x02ctorch\nload\n.'), { source: 's', globals }), /torch\.load/);
  refuses(() => unpickle(pickleBytes('\x80\x02c__builtin__\nexec\n.'), { source: 's', globals }), /__builtin__\.exec/);
});

test('malformed pickles are refused: truncation, bad memo reads, stack underflow, code-building opcodes', () => {
  const o = { source: 'p', globals: new Map() };
  refuses(() => unpickle(pickleBytes('\x80\x02X\xff\xff\xff\x7fabc'), o), /truncated/);
  refuses(() => unpickle(pickleBytes('\x80\x02h\x05.'), o), /memo slot 5/);
  refuses(() => unpickle(pickleBytes('\x80\x02s.'), o), /empty stack/);
  refuses(() => unpickle(pickleBytes('\x80\x02(i__main__\nEvil\n.'), o), /INST/);
  refuses(() => unpickle(pickleBytes('\x80\x02N\x81.'), o), /NEWOBJ/);
  refuses(() => unpickle(pickleBytes('\x80\x02}N.'), o), /2 values/);
  refuses(() => unpickle(pickleBytes('\x80\x02'), o), /truncated/);
  // A list appended into itself is data, not a hang.
  const cyclic = unpickle(pickleBytes('\x80\x02]q\x00h\x00a.'), o) as unknown[];
  assert.equal(cyclic[0], cyclic);
});

test('storages: a tensor reaching past its storage, a missing storage and a wrong storage size are refused', () => {
  const rebuild = (storageNumel: number, size: number, offset: number, dataBytes: number, key = '0') =>
    makeZip([
      [
        'a/data.pkl',
        pickleBytes(
          '\x80\x02ccollections\nOrderedDict\n)RX\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK',
          [storageNumel],
          'tQK',
          [offset],
          'K',
          [size],
          '\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.',
        ),
      ],
      [`a/data/${key}`, new Uint8Array(dataBytes)],
    ]);
  assert.deepEqual(readTorchCheckpoint(rebuild(4, 4, 0, 16), 'ok.pth').tensors.get('w')!.shape, [4]);
  refuses(() => readTorchCheckpoint(rebuild(4, 4, 1, 16), 'x.pth'), /reaches past its storage/);
  refuses(() => readTorchCheckpoint(rebuild(4, 4, 0, 8), 'x.pth'), /should hold 4 f32 elements/);
  refuses(() => readTorchCheckpoint(rebuild(4, 4, 0, 16, '1'), 'x.pth'), /storage 0 is missing/);
});

test('legacy, TorchScript and non-checkpoint files get messages that say what to do', () => {
  refuses(() => readTorchCheckpoint(pickleBytes('\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.'), 'old.pth'), /legacy.*re-save it with a current torch\.save/);
  refuses(
    () =>
      readTorchCheckpoint(
        makeZip([
          ['m/data.pkl', pickleBytes('\x80\x02}.')],
          ['m/constants.pkl', pickleBytes('\x80\x02).')],
        ]),
        'jit.pt',
      ),
    /TorchScript/,
  );
  refuses(() => readTorchCheckpoint(new TextEncoder().encode('hello world'), 'x.pth'), /not a PyTorch checkpoint/);
  refuses(() => readTorchCheckpoint(makeZip([['a/data.pkl', pickleBytes('\x80\x02}.')]]), 'empty.pth'), /holds no tensors/);
});
