// A progress bar on stderr with the batch, running loss, the last validation metric and the ETA. Drawn
// only where stderr is a terminal and the command is not --json/--quiet; logs get epoch lines instead.
export interface ProgressOptions {
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const ss = String(Math.floor(s % 60)).padStart(2, '0');
  return h > 0 ? `${h}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private started = performance.now();
  private lastDraw = 0;

  constructor(o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
    this.enabled = o.enabled && this.stream.isTTY === true;
  }

  /** Call once when the run's steps start (or resume); ETA counts from here. */
  start(): void {
    this.started = performance.now();
  }

  /** `done` of `total` steps in the run; `doneHere` of them in this process (for the rate). */
  update(p: { epoch: number; epochs: number; batch: number; batches: number; loss: number; metric?: string; doneHere: number; remaining: number }): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.batch < p.batches) return;
    this.lastDraw = now;
    const perStep = (now - this.started) / 1000 / Math.max(1, p.doneHere);
    const width = 24;
    const filled = Math.round((width * p.batch) / Math.max(1, p.batches));
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const line = `epoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}${p.metric ? ` ${p.metric}` : ''} ETA ${formatDuration(perStep * p.remaining)}`;
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
  }

  /** Clears the bar so that a normal line can be printed. */
  clear(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}
