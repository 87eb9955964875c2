// The speed peer: PyTorch (Debian's python3-torch) running the same U-Net in a child process (bench/peer/*.py).
//
// The peer serves (step_timing.py's --serve): it builds and warms up its model once, then times as many steps or
// forward passes as each `steps N` / `forward N` line asks. bench alternates rounds of its own steps with rounds of
// the peer's, so that both see the same phases of a machine whose speed drifts (on the VMs here PyTorch's step
// went from 528 to 1,047 ms within ten minutes: a ratio of two runs minutes apart measured the drift).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { ENV_SET_HERE, packageRoot } from '../src/engine/addon.js';
import { ENCODER_ARCHS, isEncoderArch, type Arch } from '../src/model/options.js';
import { UserError } from '../src/util/errors.js';

/** What the peer says about itself when it ends (its times come from the rounds). */
export interface PeerInfo {
  peer: 'pytorch';
  version: string;
  threads: number;
  /** Trainable parameters (PyTorch's count; BN running statistics are `buffers`, encoder peers only). */
  parameters: number;
  buffers?: number;
  peak_rss_mb: number;
  /** fp32, or autocast-bf16 (torch.autocast('cpu', torch.bfloat16)) */
  precision?: string;
}

export interface PeerOptions {
  /** course (torch_unet.py) or an encoder arch (encoder_unet.py: torchvision backbone + the same decoder). */
  arch?: Arch;
  filters: number;
  classes: number;
  batch: number;
  height: number;
  width: number;
  threads: number;
  /** Untimed steps before the peer says it is ready, as many as ours get. */
  warmup: number;
  /** Run the peer under torch.autocast('cpu', dtype=torch.bfloat16). */
  bf16?: boolean;
}

const PYTHON = '/usr/bin/python3';
/** How long the peer may take for one answer (a build and warm-up, or a round) before it counts as hung. */
const REPLY_TIMEOUT_MS = 30 * 60_000;

/** A running peer: ask it for timed steps or forward passes, then close it for its PeerInfo. */
export class PeerSession {
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.push(line));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.on('close', () => {
      this.ended = true;
      this.push(null);
    });
    child.on('error', (e) => {
      this.stderr += `\n${e.message}`;
    });
  }

  /** Starts the peer and waits until its model is built and warmed up. */
  static async start(o: PeerOptions): Promise<PeerSession> {
    const arch = o.arch ?? 'course';
    if (arch !== 'course' && !isEncoderArch(arch))
      throw new UserError(`options.arch: the PyTorch peer builds course, ${ENCODER_ARCHS.join(', ')}; not ${arch}`);
    const encoder = isEncoderArch(arch);
    if (!existsSync(PYTHON))
      throw new UserError(`options.peer needs ${PYTHON} with PyTorch (as root: apt-get install -y python3-torch${encoder ? ' python3-torchvision' : ''})`);
    const script = join(packageRoot(), 'bench', 'peer', encoder ? 'encoder_unet.py' : 'torch_unet.py');
    const shape = ['--classes', o.classes, '--batch', o.batch, '--height', o.height, '--width', o.width, '--threads', o.threads, '--warmup', o.warmup];
    const args = [script, ...(encoder ? ['--arch', arch] : ['--filters', o.filters]), ...shape, ...(o.bf16 ? ['--bf16'] : []), '--serve'].map(String);
    // The peer runs with its own defaults: without the OpenMP settings this process chose for itself.
    const env = { ...process.env };
    for (const name of ENV_SET_HERE) delete env[name];
    const session = new PeerSession(spawn(PYTHON, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const ready = await session.reply();
    if (ready.ready !== true) throw session.failure();
    return session;
  }

  /** The times (ms) of n training steps. */
  async steps(n: number): Promise<number[]> {
    return this.ask(`steps ${n}`);
  }

  /** The times (ms) of n inference forward passes. */
  async forwards(n: number): Promise<number[]> {
    return this.ask(`forward ${n}`);
  }

  /** The peer's peak resident memory so far (MB). */
  async peakRssMb(): Promise<number> {
    this.child.stdin.write('rss\n');
    const r = await this.reply();
    if (typeof r.peak_rss_mb !== 'number') throw this.failure(typeof r.error === 'string' ? r.error : undefined);
    return r.peak_rss_mb;
  }

  /** Ends the peer; returns what it said about itself. */
  async close(): Promise<PeerInfo> {
    this.child.stdin.end();
    const info = await this.reply();
    if (info.peer !== 'pytorch') throw this.failure();
    return info as unknown as PeerInfo;
  }

  /** Stops the peer at once (after an error elsewhere). */
  kill(): void {
    if (!this.ended) this.child.kill();
  }

  private async ask(command: string): Promise<number[]> {
    this.child.stdin.write(`${command}\n`);
    const r = await this.reply();
    if (!Array.isArray(r.times_ms)) throw this.failure(typeof r.error === 'string' ? r.error : undefined);
    return r.times_ms as number[];
  }

  private push(line: string | null): void {
    if (line !== null) this.lines.push(line);
    const w = this.waiting;
    if (w && (this.lines.length > 0 || this.ended)) {
      this.waiting = null;
      w(this.lines.shift() ?? null);
    }
  }

  /** The peer's next JSON line ({} when it ended without one, or said nothing for REPLY_TIMEOUT_MS: then it is stopped). */
  private async reply(): Promise<Record<string, unknown>> {
    const line = this.lines.length > 0 ? this.lines.shift()! : this.ended ? null : await this.nextLine();
    if (line === null) return {};
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { error: line };
    }
  }

  private nextLine(): Promise<string | null> {
    return new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.stderr += `\nno reply within ${REPLY_TIMEOUT_MS / 60_000} minutes`;
        resolve(null);
      }, REPLY_TIMEOUT_MS);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  private failure(said?: string): UserError {
    this.kill();
    const why = said ?? (this.stderr.trim().split('\n').pop() || 'it stopped without a reply');
    const hint = /No module named 'torch'/.test(this.stderr)
      ? ' (as root: apt-get install -y python3-torch)'
      : /No module named 'torchvision'/.test(this.stderr)
        ? ' (as root: apt-get install -y python3-torchvision)'
        : '';
    return new UserError(`the PyTorch peer failed: ${why}${hint}`);
  }
}
