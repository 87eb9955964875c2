// Counts and times every kernel that runs on the `native` backend, and whether it ran natively.
// Off by default (one boolean test per kernel); `bench --profile` and the tests switch it on.

export interface KernelRecord {
  kernel: string;
  native: boolean;
  calls: number;
  ms: number;
}

class KernelProfiler {
  active = false;
  private records = new Map<string, KernelRecord>();

  record(kernel: string, native: boolean, ms: number): void {
    const key = `${kernel}|${native}`;
    let r = this.records.get(key);
    if (!r) this.records.set(key, (r = { kernel, native, calls: 0, ms: 0 }));
    r.calls++;
    r.ms += ms;
  }

  /** Runs fn with profiling on and returns what ran, slowest first. */
  capture<T>(fn: () => T): { result: T; kernels: KernelRecord[] } {
    const was = this.active;
    this.records = new Map();
    this.active = true;
    try {
      const result = fn();
      return { result, kernels: this.snapshot() };
    } finally {
      this.active = was;
    }
  }

  snapshot(): KernelRecord[] {
    return [...this.records.values()].sort((a, b) => b.ms - a.ms);
  }
}

export const profiler = new KernelProfiler();
