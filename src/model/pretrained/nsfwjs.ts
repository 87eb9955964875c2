// The ImageNet-derived MobileNetV2 that ships offline inside the npm package nsfwjs@4.4.0
// (dist/models/mobilenet_v2/): a Keras 2.2.4 layers model of keras.applications MobileNetV2 (224x224,
// alpha 1.0) plus nsfwjs' classifier, every tensor 8-bit quantised. Its two files are UMD JavaScript
// wrappers around an object literal (model.json) and a base64 string (the weights): they are read as data
// (js-literal.ts; never required, imported or evaluated), checked against the sha256 below, and the
// weights dequantised (min + scale * q, as TF.js does).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type * as tf from '@tensorflow/tfjs-core';

import { UserError } from '../../util/errors.js';
import { readExportedLiteral, type JsonValue } from './js-literal.js';

export const NSFWJS_PACKAGE = 'nsfwjs@4.4.0';
const MODEL_DIR = join('dist', 'models', 'mobilenet_v2');
/** The files' sha256 in nsfwjs 4.4.0; any other bytes are refused. */
export const NSFWJS_FILES = {
  'model.min.js': 'c32f104fd562b08cdff5ed69dfe1209643afa47e792fb12751d2949aa61a397a',
  'group1-shard1of1.min.js': 'ef2e0a63f7d2c4960b37b024b669313f65d3c45cd59e9042636c55b39de53517',
} as const;
const MAX_TENSORS = 10_000;

/** A Keras model's TF.js artifacts, weights in float32 (what tf.io.fromMemory takes). */
export interface KerasArtifacts {
  modelTopology: JsonValue;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  /** The quantisation the weights came with: per-tensor uint8, and the largest step (scale) of any tensor. */
  quantization: { dtype: 'uint8'; tensors: number; maxScale: number };
  files: { file: string; sha256: string }[];
}

/** The folder holding nsfwjs' MobileNetV2, found the way Node finds the package (its code is never loaded). */
export function nsfwjsModelDir(): string {
  const require = createRequire(import.meta.url);
  for (const base of require.resolve.paths('nsfwjs') ?? []) {
    const dir = join(base, 'nsfwjs', MODEL_DIR);
    if (existsSync(join(dir, 'model.min.js'))) return dir;
  }
  throw new UserError(`the ImageNet MobileNetV2 weights come from the npm package ${NSFWJS_PACKAGE}, which is not installed (run npm install in the project)`);
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readChecked(dir: string, name: keyof typeof NSFWJS_FILES): { text: string; file: string; sha256: string } {
  const file = join(dir, name);
  const bytes = readFileSync(file);
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== NSFWJS_FILES[name]) {
    throw new UserError(
      `${file}: refused: its sha256 ${hash.slice(0, 16)}... is not the ${NSFWJS_FILES[name].slice(0, 16)}... of ${NSFWJS_PACKAGE}; the file was changed or is another version`,
    );
  }
  return { text: bytes.toString('utf8'), file, sha256: hash };
}

/** Reads, checks and dequantises nsfwjs' MobileNetV2 (the Keras topology with its classifier, and every weight). */
export function readNsfwjsMobileNetV2(dir = nsfwjsModelDir()): KerasArtifacts {
  const model = readChecked(dir, 'model.min.js');
  const shard = readChecked(dir, 'group1-shard1of1.min.js');
  const json = readExportedLiteral(model.text, model.file);
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest) || json.weightsManifest.length !== 1) {
    throw new UserError(`${model.file}: expected {modelTopology, weightsManifest: [one group]}`);
  }
  const group = json.weightsManifest[0];
  if (!isObject(group) || !Array.isArray(group.weights) || group.weights.length > MAX_TENSORS)
    throw new UserError(`${model.file}: weightsManifest[0].weights must be a list`);
  const b64 = readExportedLiteral(shard.text, shard.file);
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new UserError(`${shard.file}: expected one base64 string`);
  const q = Buffer.from(b64, 'base64');

  const specs: tf.io.WeightsManifestEntry[] = [];
  let total = 0;
  let maxScale = 0;
  const entries = group.weights.map((w, i) => {
    const where = `${model.file}: weightsManifest[0].weights[${i}]`;
    if (
      !isObject(w) ||
      typeof w.name !== 'string' ||
      !Array.isArray(w.shape) ||
      !w.shape.every((d) => Number.isInteger(d) && (d as number) > 0 && (d as number) < 1 << 20)
    )
      throw new UserError(`${where}: needs a name and a shape of positive integers`);
    const qz = w.quantization;
    if (
      w.dtype !== 'float32' ||
      !isObject(qz) ||
      qz.dtype !== 'uint8' ||
      typeof qz.min !== 'number' ||
      typeof qz.scale !== 'number' ||
      !Number.isFinite(qz.min) ||
      !(qz.scale >= 0)
    ) {
      throw new UserError(`${where} (${w.name}): expected a float32 tensor with uint8 quantisation {min, scale}`);
    }
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    total += size;
    maxScale = Math.max(maxScale, qz.scale);
    specs.push({ name: w.name, shape, dtype: 'float32' });
    return { size, min: qz.min, scale: qz.scale };
  });
  if (total !== q.length) throw new UserError(`${shard.file}: holds ${q.length} bytes, but ${model.file} describes ${total} uint8 weights`);
  const data = new Float32Array(total);
  let at = 0;
  for (const e of entries) {
    for (let k = 0; k < e.size; k++, at++) data[at] = e.min + e.scale * q[at]!;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: data.buffer,
    quantization: { dtype: 'uint8', tensors: entries.length, maxScale },
    files: [model, shard].map((f) => ({ file: `${NSFWJS_PACKAGE}/${MODEL_DIR}/${f.file.split(/[\\/]/).pop()}`, sha256: f.sha256 })),
  };
}

/** The dequantised weights by name (`block_13_expand/kernel`), as views into the artifacts' buffer. */
export function weightsByName(a: KerasArtifacts): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let at = 0;
  for (const s of a.weightSpecs) {
    const size = s.shape.reduce((x, y) => x * y, 1);
    out.set(s.name, { shape: s.shape, data: new Float32Array(a.weightData, at * 4, size) });
    at += size;
  }
  return out;
}
