// The run folder (../shared/DESIGN.md, Files): run.json (config, seed, versions), metrics.jsonl (one line
// per completed epoch), checkpoints/ (see checkpoint.ts) and model/ (the best model, for other commands).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';

import { addon, packageRoot } from '../engine/addon.js';
import { UserError } from '../util/errors.js';
import { packageDir } from '../util/package_dir.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

export const RUN_JSON_FORMAT = 'unet-transfer/run';
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export const runPaths = (dir: string) => ({
  runJson: join(dir, 'run.json'),
  metrics: join(dir, 'metrics.jsonl'),
  checkpoints: join(dir, 'checkpoints'),
  model: join(dir, 'model'),
});

export interface Versions {
  unetTransfer: string;
  tfjsCore: string;
  tfjsLayers: string;
  node: string;
  backend: string;
  threads: number;
}

function readPackageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function versions(): Versions {
  const root = packageRoot();
  return {
    unetTransfer: readPackageVersion(root),
    tfjsCore: tf.version_core,
    tfjsLayers: readPackageVersion(packageDir('@tensorflow/tfjs-layers') ?? join(root, 'node_modules', '@tensorflow', 'tfjs-layers')),
    node: process.version,
    backend: tf.getBackend(),
    threads: tf.getBackend() === 'native' ? (addon.loaded.conv?.threads ?? cpus().length) : 1,
  };
}

export interface RunJson {
  format: typeof RUN_JSON_FORMAT;
  version: 1;
  /** `pretrain` or `finetune`. */
  command: string;
  createdAt: string;
  seed: number;
  versions: Versions;
  /** Everything that decides the result (see TrainConfig). */
  config: Record<string, unknown>;
  /** Facts found while setting up: class counts, split sizes, a new head... */
  setup: Record<string, unknown>;
}

/** Reads a JSON file of bounded size, naming the file in errors. */
export function readJson(file: string, what = 'file'): unknown {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UserError(`${file}: no such ${what}`);
  }
  if (size > MAX_JSON_BYTES) throw new UserError(`${file}: ${size} bytes is too large for a ${what}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function writeRunJson(dir: string, run: RunJson): void {
  writeJsonAtomic(runPaths(dir).runJson, run);
}

export function readRunJson(dir: string): RunJson {
  const file = runPaths(dir).runJson;
  const v = readJson(file, 'run.json') as Partial<RunJson> | null;
  if (!v || typeof v !== 'object' || v.format !== RUN_JSON_FORMAT || typeof v.config !== 'object' || v.config === null) {
    throw new UserError(`${file}: not a run.json written by unet-transfer (expected "format": "${RUN_JSON_FORMAT}" and a "config")`);
  }
  return v as RunJson;
}

export function isRunFolder(dir: string): boolean {
  return existsSync(runPaths(dir).runJson);
}

/** One line per epoch; appended and fsynced, so a line is complete once the epoch's checkpoint exists. */
export function appendMetrics(dir: string, line: Record<string, unknown>): void {
  const fd = openSync(runPaths(dir).metrics, 'a', 0o644);
  try {
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readMetrics(dir: string): Record<string, unknown>[] {
  const file = runPaths(dir).metrics;
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by a crash: dropped (the epoch is redone on resume).
    }
  }
  return out;
}

/** Keeps the lines of epochs 1..epoch (a resumed run rewrites what it redoes). */
export function truncateMetrics(dir: string, epoch: number): void {
  const kept = readMetrics(dir).filter((l) => typeof l.epoch === 'number' && l.epoch <= epoch);
  writeFileAtomic(runPaths(dir).metrics, kept.map((l) => `${JSON.stringify(l)}\n`).join(''));
}
