// Pairing two models weight by weight: the analyses compare a model before and after fine-tuning, which
// only makes sense when both have the same layers (same names, classes, blocks and weight shapes). The one
// allowed difference is a new head: the output layer of a model fine-tuned for another class count has
// other output channels, so it is reported as replaced instead of compared.
// Weights are keyed by layer name + the weight's own name (kernel, bias, gamma, moving_mean...), never by
// the variable name, which TF.js suffixes (`_1`) when a model is built twice in one process.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { LayerInfo, LayerMap } from '../model/layer-map.js';
import { UserError } from '../util/errors.js';

/** What the analyses need of a model: the TF.js model and its layer map (a ModelFolder or a UNet fits). */
export interface AnalysisModel {
  model: tfl.LayersModel;
  layerMap: LayerMap;
}

/** The weight's own name within its layer: `kernel`, `bias`, `gamma`, `moving_mean`... */
export function weightName(originalName: string): string {
  return originalName.slice(originalName.lastIndexOf('/') + 1);
}

/** `<weight name>` -> variable, for one layer. */
export function layerWeights(layer: tfl.layers.Layer): Map<string, tfl.LayerVariable> {
  return new Map(layer.weights.map((w) => [weightName(w.originalName), w]));
}

export interface PairedLayer {
  info: LayerInfo;
  before: tfl.layers.Layer;
  after: tfl.layers.Layer;
  /** True for a new head (the output layer with another class count): its weights are not comparable. */
  replaced: boolean;
}

export interface ModelPair {
  /** Every layer of the model except the input, in model order. */
  layers: PairedLayer[];
  /** Names of replaced layers. */
  replaced: string[];
}

const fmt = (shape: readonly (number | null)[]) => `[${shape.join(',')}]`;

/** The output layer whose weights differ only in their last (class) axis: a new head, or null. */
function isNewHead(name: string, before: tfl.layers.Layer, after: tfl.layers.Layer, outputLayer: string): boolean {
  if (name !== outputLayer) return false;
  const a = layerWeights(before);
  const b = layerWeights(after);
  if (a.size !== b.size) return false;
  let differs = false;
  for (const [k, w] of a) {
    const v = b.get(k);
    if (!v || w.shape.length !== v.shape.length) return false;
    const last = w.shape.length - 1;
    if (w.shape.some((d, i) => i !== last && d !== v.shape[i])) return false;
    if (w.shape[last] !== v.shape[last]) differs = true;
  }
  return differs;
}

/**
 * Pairs the layers of two models, or throws a UserError that lists every layer that differs.
 * `names` label the two models in the message (their folders).
 */
export function pairModels(before: AnalysisModel, after: AnalysisModel, names = { before: 'BEFORE', after: 'AFTER' }): ModelPair {
  const diffs: string[] = [];
  const bMap = before.layerMap;
  const aMap = after.layerMap;
  const outputLayer = after.model.outputLayers[0]?.name ?? '';
  const layers: PairedLayer[] = [];
  for (const info of bMap.layers) {
    const other = aMap.layer(info.name);
    if (!other) {
      diffs.push(`${info.name} (only in ${names.before})`);
      continue;
    }
    if (other.className !== info.className) {
      diffs.push(`${info.name} (${info.className} vs ${other.className})`);
      continue;
    }
    if (other.block !== info.block) {
      diffs.push(`${info.name} (block ${info.block} vs ${other.block})`);
      continue;
    }
    const bl = before.model.getLayer(info.name);
    const al = after.model.getLayer(info.name);
    const bw = layerWeights(bl);
    const aw = layerWeights(al);
    const problems: string[] = [];
    for (const [k, w] of bw) {
      const v = aw.get(k);
      if (!v) problems.push(`${k} only in ${names.before}`);
      else if (fmt(w.shape) !== fmt(v.shape)) problems.push(`${k} ${fmt(w.shape)} vs ${fmt(v.shape)}`);
    }
    for (const k of aw.keys()) if (!bw.has(k)) problems.push(`${k} only in ${names.after}`);
    if (problems.length > 0 && isNewHead(info.name, bl, al, outputLayer)) {
      layers.push({ info, before: bl, after: al, replaced: true });
      continue;
    }
    if (problems.length > 0) {
      diffs.push(`${info.name} (${problems.join('; ')})`);
      continue;
    }
    layers.push({ info, before: bl, after: al, replaced: false });
  }
  for (const info of aMap.layers) if (!bMap.layer(info.name)) diffs.push(`${info.name} (only in ${names.after})`);
  if (diffs.length > 0) {
    const shown = diffs.slice(0, 20).join(', ');
    const more = diffs.length > 20 ? `, and ${diffs.length - 20} more` : '';
    throw new UserError(
      `${names.before} and ${names.after} have different architectures; ${diffs.length} layer${diffs.length === 1 ? ' differs' : 's differ'}: ${shown}${more}`,
    );
  }
  return { layers, replaced: layers.filter((l) => l.replaced).map((l) => l.info.name) };
}

/** The two models take the same input (needed to feed them the same images). */
export function requireSameInput(before: AnalysisModel, after: AnalysisModel, names = { before: 'BEFORE', after: 'AFTER' }): [number, number, number] {
  const a = before.model.inputs[0]!.shape.slice(1);
  const b = after.model.inputs[0]!.shape.slice(1);
  if (a.join('x') !== b.join('x'))
    throw new UserError(`${names.before} takes ${a.join('x')} input and ${names.after} ${b.join('x')}; functional measures feed both the same images`);
  return a as [number, number, number];
}
