// Running the missing trials of a sweep locally, N at a time, each as its own process
// (worker.ts), so that each trial's peak memory and time are its own and one
// trial's crash does not take the others down. A trial another live worker holds is waited for, not rerun.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { readPlan } from './plan.js';
import { missingTrials, readTrialResult } from './run.js';

/** Set in trial processes: the driver's pid, so that a trial stops when its driver is gone (killed). */
export const PARENT_ENV = 'UNET_TRANSFER_SWEEP_PARENT';

export interface DriveResult {
  ran: number[];
  skipped: number[];
  failed: { index: number; message: string }[];
}

/** In a trial process started by a driver: exit when the driver has died, instead of running on orphaned. */
export function watchParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.exit(137);
  }, 500);
  timer.unref();
}

function runChild(dir: string, index: number, log: (l: string) => void): Promise<{ code: number; status: string; lastErr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./worker.js', import.meta.url)), dir, String(index)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [PARENT_ENV]: String(process.pid) },
    });
    let out = '';
    let errTail = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      errTail = (errTail + c).slice(-4000);
      for (const line of c.split('\n')) if (line.trim()) log(`  [${index}] ${line}`);
    });
    child.on('close', (code, signal) => {
      let status = 'failed';
      try {
        status = (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { status?: string }).status ?? status;
      } catch {
        /* a crashed child prints no JSON */
      }
      const lastErr = errTail.trim().split('\n').pop() ?? (signal ? `killed by ${signal}` : '');
      resolvePromise({ code: code ?? 128, status, lastErr: lastErr || (signal ? `killed by ${signal}` : `exit code ${code}`) });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs every trial of the sweep in DIR that has no result, `parallel` at a time. */
export async function runMissing(dir: string, parallel: number, log: (l: string) => void): Promise<DriveResult> {
  const plan = readPlan(dir);
  const todo = missingTrials(dir, plan).map((t) => t.index);
  const skipped = plan.trials.map((t) => t.index).filter((i) => !todo.includes(i));
  const result: DriveResult = { ran: [], skipped, failed: [] };
  if (skipped.length) log(`${skipped.length} trial(s) already done: ${skipped.join(', ')}`);
  const queue = [...todo];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const t = plan.trials[i]!;
      log(`trial ${i}/${plan.trials.length - 1}: ${t.policy}, seed ${t.seed}`);
      const r = await runChild(dir, i, log);
      if (r.code === 0 && r.status === 'busy') {
        // Another worker holds it: come back to it after the others.
        log(`trial ${i}: another worker is running it; waiting`);
        await sleep(1000);
        if (!readTrialResult(dir, t)) queue.push(i);
        else result.skipped.push(i);
      } else if (r.code === 0 && r.status === 'done-before') {
        result.skipped.push(i);
      } else if (r.code === 0) {
        result.ran.push(i);
      } else {
        result.failed.push({ index: i, message: r.lastErr });
        log(`trial ${i} failed: ${r.lastErr}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, todo.length)) }, worker));
  result.skipped.sort((a, b) => a - b);
  return result;
}
