// Splitting a model at the boundary of its frozen prefix: the layers on the input side whose outputs do
// not depend on anything that trains and are the same every time an image passes (frozen, and no
// batch statistics or random draws in training mode). The prefix runs once per image and its boundary
// tensors (the skips and deeper features the trainable rest consumes) are cached; the rest runs from them.
//
// Both parts run the layers of the model's own graph, each called exactly as tfjs-layers' executor
// calls it inside model.apply (`layer.apply([inputs], { training })`), so the rest computes bitwise what
// the whole model computes, and so do its gradients.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { LayerKind, LayerMap } from '../model/layer-map.js';

/** One layer call of the graph: the layer, the symbolic tensors it takes, the one it makes. */
export interface GraphNode {
  layer: tfl.layers.Layer;
  inputs: tfl.SymbolicTensor[];
  output: tfl.SymbolicTensor;
}

/** A boundary tensor: a cached value per image. */
export interface BoundaryTensor {
  /** The layer that makes it (`input` for the model input itself). */
  layer: string;
  /** Its shape without the batch dimension. */
  shape: number[];
  /** Floats per image. */
  size: number;
}

export interface PrefixSplit {
  /** Layers whose output is computed once per image (model order). */
  prefixLayers: string[];
  boundary: BoundaryTensor[];
  /** The prefix on a batch of images: the boundary tensors, computed without recording gradients. */
  runPrefix(images: tf.Tensor4D): tf.Tensor[];
  /** The rest from the boundary tensors, in training mode: the model's output, or `target` (a tensor of the rest). */
  runRest(boundary: tf.Tensor[], target?: tfl.SymbolicTensor): tf.Tensor4D;
}

/** Layer kinds that compute the same output from the same input whatever the training flag. */
const DETERMINISTIC: ReadonlySet<LayerKind> = new Set(['conv', 'transpose', 'upsample', 'pool', 'concat', 'add', 'pad', 'activation']);
/** Kinds that are deterministic only when forced into inference mode (a frozen block's BN and Dropout). */
const DETERMINISTIC_IN_INFERENCE: ReadonlySet<LayerKind> = new Set(['dropout', 'bn']);

/** The layer calls of a single-input, single-output functional model, in an order that respects the data flow. */
export function graphNodes(model: tfl.LayersModel): GraphNode[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Error(`the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the prefix cache handles one of each`);
  const nodes: GraphNode[] = [];
  const seen = new Set<number>();
  const visit = (t: tfl.SymbolicTensor): void => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    const layer = t.sourceLayer;
    if (layer.getClassName() === 'InputLayer') return;
    const node = layer.inboundNodes[t.nodeIndex];
    if (!node || node.outputTensors.length !== 1)
      throw new Error(`layer ${layer.name} has ${node?.outputTensors.length ?? 0} outputs; the prefix cache handles layers with one`);
    for (const i of t.inputs) visit(i);
    nodes.push({ layer, inputs: [...t.inputs], output: t });
  };
  visit(model.outputs[0]!);
  return nodes;
}

/** The nodes of `nodes` (in order) that the `targets` depend on, down to the tensors in `given`. */
export function nodesFor(nodes: GraphNode[], targets: tfl.SymbolicTensor[], given: ReadonlySet<number> = new Set()): GraphNode[] {
  const needed = new Set<number>(targets.map((t) => t.id));
  const out: GraphNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!needed.has(n.output.id) || given.has(n.output.id)) continue;
    out.push(n);
    for (const x of n.inputs) needed.add(x.id);
  }
  return out.reverse();
}

/**
 * Calls the layers of `nodes` in order on the tensors in `feeds` (symbolic tensor id -> value), as
 * tfjs-layers' executor does inside model.apply (`layer.apply(inputs, { training })`), so the values are
 * bitwise those of model.apply. Adds every output to `feeds`.
 */
export function executeNodes(nodes: GraphNode[], feeds: Map<number, tf.Tensor>, training: boolean): Map<number, tf.Tensor> {
  const kwargs = { training };
  for (const n of nodes) {
    const args = n.inputs.map((i) => {
      const v = feeds.get(i.id);
      if (!v) throw new Error(`internal: ${n.layer.name} runs before its input ${i.name}`);
      return v;
    });
    feeds.set(n.output.id, n.layer.apply(args, kwargs) as tf.Tensor);
  }
  return feeds;
}

/** Per model, the nodes that lead from its input to a target tensor (by the target's id): found once. */
const pathCache = new WeakMap<tfl.LayersModel, Map<number, GraphNode[]>>();

/** The model on a batch in training mode, up to `target` (a tensor of its graph) instead of its output. */
export function runModelTo(model: tfl.LayersModel, images: tf.Tensor, target: tfl.SymbolicTensor): tf.Tensor4D {
  const input = model.inputs[0]!;
  let paths = pathCache.get(model);
  if (!paths) pathCache.set(model, (paths = new Map()));
  let list = paths.get(target.id);
  if (!list) paths.set(target.id, (list = nodesFor(graphNodes(model), [target], new Set([input.id]))));
  const nodes = list;
  return tf.tidy(() => executeNodes(nodes, new Map([[input.id, images]]), true).get(target.id) as tf.Tensor4D);
}

export interface SplitInput {
  model: tfl.LayersModel;
  layerMap: LayerMap;
  /** Layers with a weight that gets a gradient this phase (their outputs change every step). */
  differentiated: ReadonlySet<string>;
  /** Layers forced into inference mode (freeze.ts: BN and Dropout of frozen blocks). */
  inferenceLayers: ReadonlySet<string>;
}

export type SplitDecision = { split: PrefixSplit; reason: string } | { split: null; reason: string };

/**
 * Finds the frozen prefix and its boundary. Returns no split (and why) when the prefix does no
 * convolution, e.g. when the first layer trains.
 */
export function splitFrozenPrefix(s: SplitInput): SplitDecision {
  let nodes: GraphNode[];
  try {
    nodes = graphNodes(s.model);
  } catch (e) {
    return { split: null, reason: (e as Error).message };
  }
  const input = s.model.inputs[0]!;
  const cacheable = new Set<number>([input.id]);
  let firstBlocker: string | null = null;
  for (const n of nodes) {
    const name = n.layer.name;
    const kind = s.layerMap.layer(name)?.kind;
    const fixed =
      kind !== undefined && !s.differentiated.has(name) && (DETERMINISTIC.has(kind) || (DETERMINISTIC_IN_INFERENCE.has(kind) && s.inferenceLayers.has(name)));
    if (fixed && n.inputs.every((i) => cacheable.has(i.id))) cacheable.add(n.output.id);
    else if (firstBlocker === null && n.inputs.every((i) => cacheable.has(i.id))) firstBlocker = name;
  }
  const prefix = nodes.filter((n) => cacheable.has(n.output.id));
  const rest = nodes.filter((n) => !cacheable.has(n.output.id));
  if (rest.length === 0) return { split: null, reason: 'nothing trains' };
  const heavy = prefix.filter((n) => ['conv', 'transpose'].includes(s.layerMap.layer(n.layer.name)?.kind ?? ''));
  if (heavy.length === 0)
    return {
      split: null,
      reason: `${firstBlocker ?? rest[0]!.layer.name} trains (or is random in training), so no frozen convolution precedes the trainable part`,
    };

  // Boundary: values the prefix makes (or the input) that the rest consumes, in order of first use.
  const boundarySym: tfl.SymbolicTensor[] = [];
  for (const n of rest) for (const i of n.inputs) if (cacheable.has(i.id) && !boundarySym.some((b) => b.id === i.id)) boundarySym.push(i);
  const boundary = boundarySym.map((t): BoundaryTensor => {
    const shape = t.shape.slice(1).map((d) => {
      if (d === null || d === undefined) throw new Error(`boundary tensor of ${t.sourceLayer.name} has an unknown dimension`);
      return d;
    });
    return { layer: t.sourceLayer.getClassName() === 'InputLayer' ? 'input' : t.sourceLayer.name, shape, size: shape.reduce((a, b) => a * b, 1) };
  });
  // Only the prefix nodes some boundary value depends on.
  const prefixNeeded = nodesFor(prefix, boundarySym);
  const output = s.model.outputs[0]!;
  const boundaryIds = new Set(boundarySym.map((b) => b.id));
  const restFor = new Map<number, GraphNode[]>();

  const split: PrefixSplit = {
    prefixLayers: prefixNeeded.map((n) => n.layer.name),
    boundary,
    runPrefix(images) {
      return tf.tidy(() => {
        const values = executeNodes(prefixNeeded, new Map([[input.id, images]]), true);
        return boundarySym.map((b) => values.get(b.id)!);
      });
    },
    runRest(values, target = output) {
      if (values.length !== boundarySym.length) throw new Error(`internal: ${values.length} boundary tensors for ${boundarySym.length}`);
      let list = restFor.get(target.id);
      if (!list) restFor.set(target.id, (list = nodesFor(rest, [target], boundaryIds)));
      const nodes = list;
      return tf.tidy(() => executeNodes(nodes, new Map(boundarySym.map((b, i) => [b.id, values[i]!])), true).get(target.id) as tf.Tensor4D);
    },
  };
  const blocks = [...new Set(split.prefixLayers.map((l) => s.layerMap.layer(l)?.block).filter((b): b is string => !!b))];
  return { split, reason: `frozen prefix ${blocks.join(', ')} (${heavy.length} convolutions) computed once per image` };
}
