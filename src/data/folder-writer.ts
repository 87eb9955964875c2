// Writing a generated folder data set atomically: files go into a staging folder beside the target, are
// fsynced (a few in flight at once), and the folder is renamed into place at the end, so the target is
// never half-written; an existing target is replaced only when asked.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { fsyncDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

/** fsyncs files with a few in flight at once (many small fsyncs in a row are slow; in parallel the
 * file system batches them). */
async function syncAll(files: string[], inFlight = 32): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const h = await open(files[next++]!, 'r+');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, files.length) }, worker));
}

export interface StagedFolder {
  /** Writes a file at `rel` (folders are created as needed). */
  put(rel: string, data: Uint8Array | string): void;
}

/**
 * Runs `fill` against a staging folder next to `out`, then makes everything durable and renames the
 * folder to `out`. `out` must be absent or an empty folder unless `force`; `outName` is how errors name it.
 */
export async function writeFolderAtomically(out: string, force: boolean, fill: (folder: StagedFolder) => void | Promise<void>, outName = out): Promise<string> {
  const target = resolve(out);
  if (existsSync(target)) {
    const st = statSync(target);
    if (!st.isDirectory()) throw new UserError(`${outName}: exists and is not a folder`);
    if (readdirSync(target).length > 0 && !force) throw new UserError(`${outName}: folder exists and is not empty (use options.force to replace it)`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);
  const written: string[] = [];
  const dirs = new Set<string>();
  try {
    mkdirSync(staging);
    await fill({
      put(rel, data) {
        const file = join(staging, rel);
        const dir = dirname(file);
        if (!dirs.has(dir)) {
          mkdirSync(dir, { recursive: true });
          dirs.add(dir);
        }
        writeFileSync(file, data, { mode: 0o644 });
        written.push(file);
      },
    });
    // Everything reaches the disk before the folder appears under its name.
    await syncAll(written);
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) if (dir !== staging) fsyncDir(dir);
    fsyncDir(staging);
    if (existsSync(target)) {
      const old = `${staging}.old`;
      renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, target);
    }
    fsyncDir(dirname(target));
    return target;
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
