// Any Keras functional U-Net (from .h5 or .keras) as a TF.js model: its config converted (keras_config.ts),
// the final sigmoid/softmax taken off (our models output logits; the head mode records which function
// they feed), its weights found by layer name (or, in a Keras 3 weights file, by the layer's group and
// variable index) and checked against the shapes the config implies before the model is built, then the
// U-Net's blocks inferred from the graph exactly as `model adopt` does (infer.ts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { UserError } from '../../util/errors.js';
import '../layers/resize-bilinear-2x.js'; // a bilinear UpSampling2D converts to our resize layer
import { headModeFromActivation, type HeadMode } from '../head_mode.js';
import { inferLayerMap, type InferredMap } from '../infer.js';
import { convertKerasConfig, tfjsTopology, type ExpectedWeight, type KerasGraph } from './keras_config.js';
import type { SourceTensor, SourceWeights } from './tensors.js';

export interface KerasImport {
  model: tfl.LayersModel;
  inferred: InferredMap;
  headMode: HeadMode;
  /** The activation taken off the output ('linear' when there was none). */
  outputActivation: string;
  mapped: Array<{ source: string; target: string; shape: number[] }>;
  /** Weights of the model not in the file (only with allowMissing: they keep a fresh initialisation). */
  missed: string[];
  skipped: Array<{ name: string; reason: string }>;
  notes: string[];
}

/**
 * Takes the output's sigmoid or softmax off: an output Activation layer is removed, an activation inside
 * the output layer set to linear. Returns the activation found.
 */
function stripOutputActivation(g: KerasGraph, file: string): { graph: KerasGraph; activation: string } {
  const out = g.layers.find((l) => l.name === g.output)!;
  const act = typeof out.config.activation === 'string' ? out.config.activation : 'linear';
  if (act !== 'sigmoid' && act !== 'softmax' && act !== 'linear') {
    throw new UserError(
      `${file}: the output layer ${out.name} (${out.kerasClass}) ends in ${act}; a segmentation head ends in sigmoid, softmax or nothing (logits)`,
    );
  }
  if (out.className === 'Activation' && act !== 'linear') {
    const readers = g.layers.filter((l) => l.inbound.includes(out.name));
    if (readers.length) throw new UserError(`${file}: the output activation ${out.name} is also read by ${readers[0]!.name}`);
    return { graph: { ...g, layers: g.layers.filter((l) => l !== out), output: out.inbound[0]! }, activation: act };
  }
  if (act === 'linear') return { graph: g, activation: act };
  const layers = g.layers.map((l) => (l === out ? { ...l, config: { ...l.config, activation: 'linear' } } : l));
  return { graph: { ...g, layers }, activation: act };
}

/** snake_case of a Keras class name, as Keras 3 names weight groups (keras.src.utils.naming.to_snake_case). */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * The file's tensor for each expected weight. Layer-named files (`conv2d/kernel`) match by name; a Keras 3
 * weights file (`layers/conv2d_1/vars/0`) by group: each layer's group is its class in snake_case with a
 * counter per class, in the model's layer order (keras.src.saving.saving_lib), and its variables are the
 * layer's weights in creation order.
 */
function matchTensors(g: KerasGraph, source: SourceWeights, file: string): Map<ExpectedWeight, SourceTensor> {
  const out = new Map<ExpectedWeight, SourceTensor>();
  if (!source.kerasVars) {
    for (const l of g.layers)
      for (const w of g.weights.get(l.name) ?? []) {
        const t = source.tensors.get(`${l.name}/${w.weight}`);
        if (t) out.set(w, t);
      }
    return out;
  }
  const used = new Map<string, number>();
  for (const l of g.layers) {
    const base = kerasSnakeCase(l.kerasClass);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    const group = `layers/${n === undefined ? base : `${base}_${n + 1}`}`;
    const owner = source.kerasVars.owners.get(group);
    if (owner !== undefined && owner !== l.name)
      throw new UserError(`${file}: weights group ${group} belongs to layer ${owner}, but by the model's layer order it should be ${l.name}'s`);
    const ws = g.weights.get(l.name) ?? [];
    ws.forEach((w, i) => {
      const t = source.tensors.get(`${group}/vars/${i}`);
      if (t) out.set(w, t);
    });
  }
  return out;
}

/** Converts, checks and builds; throws a UserError (nothing allocated that is not released) on anything that does not fit. */
export async function buildKerasModel(
  source: SourceWeights,
  file: string,
  opts: { inputSize?: [number, number]; allowMissing?: boolean } = {},
): Promise<KerasImport> {
  if (source.modelConfig === undefined)
    throw new UserError(`${file}: holds weights but no model config (save_weights?); save the whole model with model.save, or pass a mapping file`);
  const converted = convertKerasConfig(source.modelConfig, file, opts.inputSize);
  const { graph, activation } = stripOutputActivation(converted, file);
  const channels = graph.channels.get(graph.output)!;
  const headMode = headModeFromActivation(activation, channels);
  if (activation === 'softmax' && channels === 1)
    throw new UserError(`${file}: the output is a softmax over 1 channel (always 1); a binary head is one sigmoid channel`);

  // Every weight checked against its expected shape before the model is built.
  const matched = matchTensors(graph, source, file);
  const mapped: KerasImport['mapped'] = [];
  const missed: string[] = [];
  for (const l of graph.layers) {
    for (const w of graph.weights.get(l.name) ?? []) {
      const t = matched.get(w);
      const target = `${w.layer}/${w.weight}`;
      if (!t) {
        missed.push(target);
        continue;
      }
      if (t.shape.join('x') !== w.shape.join('x')) {
        throw new UserError(
          `${file}: ${t.name} has shape [${t.shape.join(', ')}], but layer ${l.name} (${l.kerasClass}) as configured needs ${w.weight} [${w.shape.join(', ')}]`,
        );
      }
      mapped.push({ source: t.name, target, shape: w.shape });
    }
  }
  if (missed.length && !opts.allowMissing)
    throw new UserError(
      `${file}: ${missed.length} weights of the model are not in the file: ${missed.slice(0, 6).join(', ')}${missed.length > 6 ? ', ...' : ''}`,
    );
  const usedNames = new Set([...matched.values()].map((t) => t.name));
  const unused = [...source.tensors.keys()].filter((n) => !usedNames.has(n));
  if (unused.length)
    throw new UserError(`${file}: holds weights no layer of the model has: ${unused.slice(0, 6).join(', ')}${unused.length > 6 ? ', ...' : ''}`);

  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: tfjsTopology(graph) } as never);
  } catch (e) {
    throw new UserError(`${file}: TF.js cannot build the converted model: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    for (const l of graph.layers) {
      const ws = graph.weights.get(l.name) ?? [];
      if (ws.length === 0) continue;
      const layer = model.getLayer(l.name);
      if (layer.weights.length !== ws.length) throw new Error(`layer ${l.name}: TF.js built ${layer.weights.length} weights, the config implies ${ws.length}`);
      const values = ws.map((w, i) => {
        const t = matched.get(w);
        return t ? tf.tensor(t.data, w.shape, 'float32') : layer.weights[i]!.read().clone();
      });
      try {
        layer.setWeights(values);
      } finally {
        tf.dispose(values);
      }
    }
    const inferred = inferLayerMap(model, file);
    const notes = [...source.notes];
    if (activation !== 'linear') notes.push(`the output ${activation} is applied by the ${headMode} head (the model outputs logits)`);
    if (missed.length) notes.push(`${missed.length} weights not in the file keep a fresh initialisation: ${missed.slice(0, 6).join(', ')}`);
    return { model, inferred, headMode, outputActivation: activation, mapped, missed, skipped: [...source.skipped], notes };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
