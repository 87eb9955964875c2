// The speed peer: PyTorch (Debian's python3-torch) timing the same course U-Net in a child process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { ENV_SET_HERE, packageRoot } from '../engine/addon.js';
import { UserError } from '../util/errors.js';

export interface PeerResult {
  peer: 'pytorch';
  version: string;
  threads: number;
  parameters: number;
  step_ms: number;
  forward_ms: number;
  peak_rss_mb: number;
  /** fp32, or autocast-bf16 (torch.autocast('cpu', torch.bfloat16)) */
  precision: string;
}

export interface PeerOptions {
  filters: number;
  classes: number;
  batch: number;
  height: number;
  width: number;
  threads: number;
  steps: number;
  /** Run the peer under torch.autocast('cpu', dtype=torch.bfloat16). */
  bf16?: boolean;
}

const PYTHON = '/usr/bin/python3';

export function runPytorchPeer(o: PeerOptions): PeerResult {
  const script = join(packageRoot(), 'bench', 'peer', 'torch_unet.py');
  if (!existsSync(PYTHON)) throw new UserError(`--peer needs ${PYTHON} with PyTorch (as root: apt-get install -y python3-torch)`);
  const args = [script, '--filters', o.filters, '--classes', o.classes, '--batch', o.batch, '--height', o.height, '--width', o.width, '--threads', o.threads, '--steps', o.steps, ...(o.bf16 ? ['--bf16'] : [])].map(String);
  // The peer runs with its own defaults: without the OpenMP settings this process chose for itself.
  const env = { ...process.env };
  for (const name of ENV_SET_HERE) delete env[name];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 30 * 60_000, env });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    const hint = /No module named 'torch'/.test(r.stderr ?? '') ? ' (as root: apt-get install -y python3-torch)' : '';
    throw new UserError(`the PyTorch peer failed: ${why}${hint}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PeerResult;
}
