// Atomic file writes: a reader (or a process that starts after a crash) sees either the old file or the
// complete new one, never a half-written file. The data goes to a temp file in the same folder (so the
// rename cannot cross file systems), is fsynced, then renamed over the target, and the folder is fsynced
// so that the rename itself survives a power cut.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Temp files this module creates look like `.NAME.tmp-PID-RANDOM`; `isTempFileName` recognises them. */
const TEMP_RE = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

export function isTempFileName(name: string): boolean {
  return TEMP_RE.test(name);
}

/** A fresh temp path beside `path` (same folder, hidden, unique to this process and call). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsync a folder, so that renames and unlinks in it are durable. Ignored where the OS cannot (EISDIR/EINVAL on some systems). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to a new temp file beside `path`, fsynced, and returns the temp path (not yet renamed). */
export function writeTempFile(path: string, data: Uint8Array | string): string {
  const tmp = tempPathFor(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/** Renames a temp file written by `writeTempFile` over its target and makes the rename durable. */
export function commitTempFile(tmp: string, path: string): void {
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Writes `data` to `path` atomically: readers see the old content or the new one, never a mix. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = writeTempFile(path, data);
  try {
    commitTempFile(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** `writeFileAtomic` for a JSON value, pretty-printed with a final newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
