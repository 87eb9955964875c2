// The per-image store of a frozen prefix's outputs (and the image's mask): in memory up to a limit, then
// appended to one spill file on disk and read back by offset. Entries are plain bytes, never tensors, so
// the cache holds no engine memory and batches of any composition are assembled by copying.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { family } from '../engine/addon.js';
import { UserError } from '../util/errors.js';
import type { BoundaryTensor } from './prefix_split.js';

export interface CacheLayout {
  boundary: BoundaryTensor[];
  /** Mask pixels per image (H * W). */
  maskSize: number;
  maskShape: [number, number];
}

export interface CacheStats {
  entries: number;
  memoryBytes: number;
  diskBytes: number;
  bytesPerImage: number;
}

/** Bytes one image takes: every boundary tensor as float32 plus the mask as int32. */
export function bytesPerImage(layout: CacheLayout): number {
  return layout.boundary.reduce((s, b) => s + 4 * b.size, 0) + 4 * layout.maskSize;
}

/** Free bytes on the file system holding `dir` (the folder or its nearest existing parent). */
export function freeDiskBytes(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Deletes spill files left in `dir` by processes that no longer run (a run killed mid-epoch). */
export function removeStaleSpills(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const m = /^activations-(\d+)\.bin$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, name), { force: true });
    }
  }
}

export class ActivationCache {
  readonly bytesPerImage: number;
  private memory = new Map<number, ArrayBuffer>();
  private disk = new Map<number, number>();
  private memoryBytes = 0;
  private diskBytes = 0;
  private fd: number | null = null;
  private readonly spillFile: string;
  /** Batch arrays reused from batch to batch: a fresh multi-MB array costs more in first-touch page faults than the copy. */
  private staging: { parts: Float32Array[]; masks: Int32Array; rows: number } | null = null;
  private scratch: Uint8Array | null = null;
  /** Byte offset of each boundary tensor in an entry, then of the mask. */
  private readonly offsets: number[] = [];
  /** The native parallel copy (layout family), when it loaded. */
  private readonly gather = family('layout')?.gatherCopy as ((dst: Float32Array, sources: Float32Array[]) => void) | undefined;

  constructor(
    readonly layout: CacheLayout,
    private readonly limitBytes: number,
    private readonly spillDir: string,
  ) {
    this.bytesPerImage = bytesPerImage(layout);
    let at = 0;
    for (const b of layout.boundary) {
      this.offsets.push(at);
      at += 4 * b.size;
    }
    this.offsets.push(at);
    this.spillFile = join(spillDir, `activations-${process.pid}.bin`);
  }

  get size(): number {
    return this.memory.size + this.disk.size;
  }

  has(index: number): boolean {
    return this.memory.has(index) || this.disk.has(index);
  }

  stats(): CacheStats {
    return { entries: this.size, memoryBytes: this.memoryBytes, diskBytes: this.diskBytes, bytesPerImage: this.bytesPerImage };
  }

  /**
   * Stores image `row` of a batch under `index`: its slice of each boundary tensor's data and of the masks.
   * `values[k]` is the whole batch's data of boundary tensor k.
   */
  put(index: number, row: number, values: Float32Array[], masks: Int32Array): void {
    if (this.has(index)) return;
    const entry = new ArrayBuffer(this.bytesPerImage);
    this.layout.boundary.forEach((b, k) => new Float32Array(entry, this.offsets[k]!, b.size).set(values[k]!.subarray(row * b.size, (row + 1) * b.size)));
    new Int32Array(entry, this.offsets[this.layout.boundary.length]!, this.layout.maskSize).set(
      masks.subarray(row * this.layout.maskSize, (row + 1) * this.layout.maskSize),
    );
    if (this.memoryBytes + this.bytesPerImage <= this.limitBytes) {
      this.memory.set(index, entry);
      this.memoryBytes += this.bytesPerImage;
      return;
    }
    if (this.fd === null) {
      mkdirSync(this.spillDir, { recursive: true });
      this.fd = openSync(this.spillFile, 'w+', 0o600);
    }
    const offset = this.diskBytes;
    const bytes = new Uint8Array(entry);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
    this.disk.set(index, offset);
    this.diskBytes += this.bytesPerImage;
  }

  private entry(index: number): ArrayBuffer {
    const m = this.memory.get(index);
    if (m) return m;
    const offset = this.disk.get(index);
    if (offset === undefined || this.fd === null) throw new Error(`internal: image ${index} is not in the activation cache`);
    // One read buffer for spilled entries, made on the first read from disk.
    const scratch = (this.scratch ??= new Uint8Array(this.bytesPerImage));
    let done = 0;
    while (done < scratch.length) {
      const n = readSync(this.fd, scratch, done, scratch.length - done, offset + done);
      if (n === 0)
        throw new UserError(
          `${this.spillFile}: the activation cache file is shorter than written (${fstatSync(this.fd).size} bytes); was it removed or truncated?`,
        );
      done += n;
    }
    return scratch.buffer as ArrayBuffer;
  }

  /**
   * The boundary tensors and masks of a batch of cached images, in the given order. They share arrays with
   * the next batch's: the caller must dispose them before asking for the next batch.
   */
  batch(indices: number[]): { boundary: tf.Tensor[]; masks: tf.Tensor3D } {
    const B = indices.length;
    if (!this.staging || this.staging.rows < B) {
      this.staging = { parts: this.layout.boundary.map((b) => new Float32Array(B * b.size)), masks: new Int32Array(B * this.layout.maskSize), rows: B };
    }
    const parts = this.layout.boundary.map((b, k) => this.staging!.parts[k]!.subarray(0, B * b.size));
    const masks = this.staging.masks.subarray(0, B * this.layout.maskSize);
    const maskAt = this.offsets[this.layout.boundary.length]!;
    const inMemory = indices.map((i) => this.memory.get(i));
    const gather = this.gather;
    if (gather && inMemory.every((e) => e !== undefined)) {
      // Copied in parallel, each thread its share of the images (native/src/layout/gather_copy.cc).
      this.layout.boundary.forEach((b, k) =>
        gather(
          parts[k]!,
          inMemory.map((e) => new Float32Array(e!, this.offsets[k]!, b.size)),
        ),
      );
      inMemory.forEach((e, row) => masks.set(new Int32Array(e!, maskAt, this.layout.maskSize), row * this.layout.maskSize));
      return this.tensors(parts, masks, B);
    }
    indices.forEach((index, row) => {
      const entry = this.entry(index);
      this.layout.boundary.forEach((b, k) => parts[k]!.set(new Float32Array(entry, this.offsets[k]!, b.size), row * b.size));
      masks.set(new Int32Array(entry, maskAt, this.layout.maskSize), row * this.layout.maskSize);
    });
    return this.tensors(parts, masks, B);
  }

  private tensors(parts: Float32Array[], masks: Int32Array, B: number): { boundary: tf.Tensor[]; masks: tf.Tensor3D } {
    return {
      boundary: this.layout.boundary.map((b, k) => tf.tensor(parts[k]!, [B, ...b.shape], 'float32')),
      masks: tf.tensor3d(masks, [B, ...this.layout.maskShape], 'int32'),
    };
  }

  /** Drops every entry and deletes the spill file. */
  close(): void {
    this.staging = null;
    this.memory.clear();
    this.disk.clear();
    this.memoryBytes = 0;
    this.diskBytes = 0;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    rmSync(this.spillFile, { force: true });
    try {
      rmdirSync(this.spillDir);
    } catch {
      // Not empty or not there: leave it.
    }
  }
}
