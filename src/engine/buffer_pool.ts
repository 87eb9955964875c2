// Reuses the typed arrays of disposed tensors for new kernel outputs.
//
// Why: on this kind of VM the first write to freshly allocated memory costs about 12 µs per 4 KiB page, so a
// fresh 6 MB output adds ~18 ms to a kernel that computes it in 3 ms, and a U-Net training step allocates
// hundreds of MB. A training step allocates the same sizes every time, so a pool keyed by size removes that cost.
//
// Safety: only arrays that the pool itself handed out are ever taken back, and an array "escapes" (is never
// reused) once anything outside the kernels may hold it: dataSync()/data() return the stored array itself, and
// a few CPU kernels return views (subarray) of their input (see VIEW_KERNELS in backend.ts).

type PoolArray = Float32Array | Int32Array | Uint8Array;
type PoolCtor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

/** Arrays below this many bytes come from V8's heap cheaply; pooling them would only cost bookkeeping. */
const MIN_BYTES = 64 * 1024;

/**
 * UNET_TRANSFER_POOL_POISON=1 (a test mode) pools every size and fills each array it hands out with garbage
 * (NaN / -1) instead of leaving it uninitialised: a kernel that reads its output before writing all of it then
 * fails the native-vs-cpu tests instead of passing by luck.
 */
const POISON = process.env.UNET_TRANSFER_POOL_POISON === '1';

export class BufferPool {
  private free = new Map<string, PoolArray[]>();
  private owned = new WeakSet<PoolArray>();
  private pooledBytes = 0;

  constructor(private maxBytes = Number(process.env.UNET_TRANSFER_POOL_MB ?? 4096) * 2 ** 20) {}

  /**
   * An array of `length` elements with UNDEFINED contents (a reused one holds old values): for outputs that the
   * caller overwrites completely. Use `takeZeroed` for outputs that are accumulated into.
   */
  take<C extends PoolCtor>(ctor: C, length: number): InstanceType<C> {
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    if (bytes < MIN_BYTES && !POISON) return new ctor(length) as InstanceType<C>;
    const list = this.free.get(key(ctor, length));
    let array = list?.pop() as InstanceType<C> | undefined;
    if (array) this.pooledBytes -= bytes;
    else array = new ctor(length) as InstanceType<C>;
    this.owned.add(array);
    if (POISON) array.fill(ctor === Float32Array ? NaN : -1);
    return array;
  }

  /** A zero-filled array of `length` elements. */
  takeZeroed<C extends PoolCtor>(ctor: C, length: number): InstanceType<C> {
    const array = this.take(ctor, length);
    array.fill(0);
    return array;
  }

  /** Takes back an array whose tensor was disposed (ignored unless the pool handed it out and it did not escape). */
  release(values: unknown): void {
    if (!isPoolArray(values) || !this.owned.has(values)) return;
    // Not owned while free: a second release of the same array is ignored, never pooled twice.
    this.owned.delete(values);
    if (this.pooledBytes + values.byteLength > this.maxBytes) return;
    const k = key(values.constructor as PoolCtor, values.length);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    list.push(values);
    this.pooledBytes += values.byteLength;
  }

  /** Whether the pool handed this array out and nothing outside the engine has seen it since. */
  owns(values: unknown): boolean {
    return isPoolArray(values) && this.owned.has(values);
  }

  /** Marks an array as visible outside the engine: it will never be reused. */
  escape(values: unknown): void {
    if (isPoolArray(values)) this.owned.delete(values);
  }

  /** Drops every free array (the garbage collector frees them). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  get bytesHeld(): number {
    return this.pooledBytes;
  }
}

function key(ctor: PoolCtor, length: number): string {
  return `${ctor.name}:${length}`;
}

function isPoolArray(v: unknown): v is PoolArray {
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array;
}

export const bufferPool = new BufferPool();
