// A user mapping file for other U-Nets: JSON, either a plain object {"source name": "layer/weight"} or
// {"layout": "torch" | "keras", "tensors": {...}, "skip": ["source name", ...]}. Targets are our layer
// names (see `unet-transfer model summary`) with the TF.js weight name: kernel, bias, gamma, beta,
// moving_mean, moving_variance. `layout` overrides how 4-D kernels are read (default: the file's own).
import { readFileSync, statSync } from 'node:fs';

import { UserError } from '../../../util/errors.js';
import type { Assignment, Mapping } from '../mapping.js';
import type { SourceLayout, SourceWeights } from '../tensors.js';

const TARGET_RE = /^(enc\d|bottleneck|dec\d|head)_[a-z]+\d*\/(kernel|bias|gamma|beta|moving_mean|moving_variance)$/;
const MAX_MAPPING_BYTES = 16 * 1024 * 1024;

export interface UserMapping {
  mapping: Mapping;
  layout?: SourceLayout;
}

export function readUserMapping(path: string, w: SourceWeights): UserMapping {
  let text: string;
  try {
    if (statSync(path).size > MAX_MAPPING_BYTES) throw new UserError(`${path}: a mapping file larger than 16 MB`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: cannot read the mapping file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${path}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const structured = 'tensors' in o;
  const table = structured ? o.tensors : o;
  if (table === null || typeof table !== 'object' || Array.isArray(table))
    throw new UserError(`${path}: "tensors" must be an object {"source name": "layer/weight"}`);
  let layout: SourceLayout | undefined;
  if (structured && o.layout !== undefined) {
    if (o.layout !== 'torch' && o.layout !== 'keras') throw new UserError(`${path}: "layout" must be "torch" or "keras", got ${JSON.stringify(o.layout)}`);
    layout = o.layout;
  }
  const assignments: Assignment[] = [];
  for (const [source, target] of Object.entries(table as Record<string, unknown>)) {
    if (typeof target !== 'string' || !TARGET_RE.test(target)) {
      throw new UserError(
        `${path}: the target of ${JSON.stringify(source)} must look like "enc1_conv1/kernel" (our layer / kernel, bias, gamma, beta, moving_mean or moving_variance), got ${JSON.stringify(target)}`,
      );
    }
    if (!w.tensors.has(source)) throw new UserError(`${path}: source tensor ${JSON.stringify(source)} is not in the weights file`);
    assignments.push({ source, target });
  }
  const skipped: Mapping['skipped'] = [];
  if (structured && o.skip !== undefined) {
    if (!Array.isArray(o.skip) || !o.skip.every((s) => typeof s === 'string')) throw new UserError(`${path}: "skip" must be a list of source tensor names`);
    for (const s of o.skip as string[]) skipped.push({ name: s, reason: 'skipped by the mapping file' });
  }
  if (assignments.length === 0) throw new UserError(`${path}: the mapping maps no tensors`);
  return { mapping: { name: path, assignments, skipped }, layout };
}
