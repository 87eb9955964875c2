// What a name mapping produces, and the layout conversion from a source tensor to the TF.js weight it
// becomes. Targets are `<our layer>/<weight>` (e.g. `enc1_conv1/kernel`, `enc1_bn1/gamma`,
// `dec3_up/kernel`); a 4-D kernel of a layer named `*_up` is a transposed convolution.
import { UserError } from '../../util/errors.js';
import type { SourceLayout, SourceTensor, SourceWeights } from './tensors.js';

export interface Assignment {
  source: string;
  target: string;
  /**
   * Reorders a conv kernel's input channels after layout conversion: the first `skipChannels` inputs of
   * the source go last (PyTorch U-Nets concatenate [skip, up], ours [up, skip]).
   */
  moveFirstInputsLast?: number;
}

export interface Mapping {
  /** Which mapping this is: `milesial`, `keras-course`, or the user mapping file's path. */
  name: string;
  assignments: Assignment[];
  /** Source tensors deliberately left out, and why (e.g. BatchNorm step counters). */
  skipped: Array<{ name: string; reason: string }>;
}

/** A converted weight: TF.js layout, ready for setWeights. */
export interface TargetWeight {
  source: string;
  target: string;
  shape: number[];
  data: Float32Array;
}

/** PyTorch's [A, B, kh, kw] -> TF.js [kh, kw, B, A] (conv OIHW -> HWIO, and transposed IOHW -> HWOI alike). */
export function torchKernelToTf(t: SourceTensor): { shape: number[]; data: Float32Array } {
  const [a, b, h, w] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let ia = 0; ia < a; ia++) {
    for (let ib = 0; ib < b; ib++) {
      for (let ih = 0; ih < h; ih++) {
        for (let iw = 0; iw < w; iw++) out[((ih * w + iw) * b + ib) * a + ia] = t.data[((ia * b + ib) * h + ih) * w + iw];
      }
    }
  }
  return { shape: [h, w, b, a], data: out };
}

/** Moves the first `k` input channels of an HWIO kernel after the others. */
function moveInputs(shape: number[], data: Float32Array, k: number, what: string): Float32Array {
  const [h, w, cin, cout] = shape;
  if (!(k > 0 && k < cin)) throw new UserError(`${what}: cannot split ${cin} input channels at ${k}`);
  const out = new Float32Array(data.length);
  for (let p = 0; p < h * w; p++) {
    for (let i = 0; i < cin; i++) {
      const j = i < k ? cin - k + i : i - k;
      out.set(data.subarray((p * cin + i) * cout, (p * cin + i + 1) * cout), (p * cin + j) * cout);
    }
  }
  return out;
}

/** Converts every assigned tensor into TF.js layout; errors name the source tensor. */
export function convertAssignments(weights: SourceWeights, mapping: Mapping): TargetWeight[] {
  const out: TargetWeight[] = [];
  const targets = new Set<string>();
  for (const a of mapping.assignments) {
    const t = weights.tensors.get(a.source);
    if (!t) throw new UserError(`mapping ${mapping.name}: source tensor ${a.source} is not in the file`);
    if (targets.has(a.target)) throw new UserError(`mapping ${mapping.name}: two source tensors map to ${a.target}`);
    targets.add(a.target);
    const converted = convertOne(t, weights.layout, a.target);
    const data = a.moveFirstInputsLast ? moveInputs(converted.shape, converted.data, a.moveFirstInputsLast, a.source) : converted.data;
    out.push({ source: a.source, target: a.target, shape: converted.shape, data });
  }
  return out;
}

function convertOne(t: SourceTensor, layout: SourceLayout, target: string): { shape: number[]; data: Float32Array } {
  if (t.shape.length === 4 && layout === 'torch') return torchKernelToTf(t);
  if (t.shape.length === 4 || t.shape.length === 1) return { shape: [...t.shape], data: t.data };
  throw new UserError(`${t.name} has shape [${t.shape.join(', ')}]; ${target} expects a 4-D kernel or a 1-D vector`);
}
