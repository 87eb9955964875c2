// Infers the blocks of a plain TF.js layers U-Net (one without unet.json) from its graph, never from
// its layer names: the resolution level of each layer's output (input size / 2^(level-1)), whether an
// up-sampling layer lies upstream (decoder side) or not (encoder side), and the skip concatenations.
//
//   - no up-sampling upstream, level L <= depth     -> encL (a pooling layer belongs to the level it leaves)
//   - no up-sampling upstream, deepest level        -> bottleneck
//   - up-sampling upstream (or itself), level L      -> decL
//   - at level 1, after dec1 has as many convs past its concatenation as decD has past its own -> head
//     (at depth 1, or when dec1 has no more convs than decD: its last conv and what follows)
//
// Anything that does not fit (a second input, a dense layer, a pooling step in the decoder, a decoder
// level without a skip from the encoder) is an error naming the layer.
import type * as tfl from '@tensorflow/tfjs-layers';

import { UserError } from '../util/errors.js';
import { isInputLayer, LayerMap, layerKind } from './layer-map.js';

export interface InferredMap {
  layerMap: LayerMap;
  depth: number;
  /** Filters of the first encoder conv; classes = channels of the output. */
  filters: number;
  classes: number;
  input: [number, number, number];
}

interface Node {
  layer: tfl.layers.Layer;
  level: number;
  decoder: boolean;
  inbound: tfl.layers.Layer[];
}

function describe(layer: tfl.layers.Layer): string {
  return `${layer.name} (${layer.getClassName()})`;
}

export function inferLayerMap(model: tfl.LayersModel, what = 'model.json'): InferredMap {
  const fail = (layer: tfl.layers.Layer, why: string): never => {
    throw new UserError(`${what}: could not place layer ${describe(layer)} in a U-Net block: ${why}`);
  };
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UserError(`${what}: a U-Net has one input and one output; this model has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new UserError(`${what}: the input must be an image batch [N, H, W, C] with a fixed size, got ${JSON.stringify(inShape)}`);
  }
  const [H, W, C] = inShape.slice(1) as number[];

  const nodes = new Map<string, Node>();
  const order: Node[] = [];
  for (const layer of model.layers) {
    if (isInputLayer(layer)) {
      nodes.set(layer.name, { layer, level: 1, decoder: false, inbound: [] });
      continue;
    }
    if (layer.inboundNodes.length !== 1) fail(layer, `it is applied ${layer.inboundNodes.length} times (shared layers are not part of a U-Net)`);
    const inbound = layer.inboundNodes[0].inboundLayers;
    const out = (Array.isArray(layer.output) ? layer.output : [layer.output]) as tfl.SymbolicTensor[];
    if (out.length !== 1 || out[0].shape.length !== 4) fail(layer, `its output ${JSON.stringify(out.map((t) => t.shape))} is not one image batch [N, H, W, C]`);
    const [, h, w] = out[0].shape as number[];
    const ratio = H / h;
    const level = Math.log2(ratio) + 1;
    if (!Number.isInteger(level) || W / w !== ratio) fail(layer, `its output ${h}x${w} is not the input ${H}x${W} divided by a power of 2`);
    const ins = inbound.map((l) => nodes.get(l.name)!);
    const inLevel = Math.max(...ins.map((n) => n.level));
    const upsamples = level < inLevel;
    if (level < inLevel - 1 || level > inLevel + 1)
      fail(layer, `it changes the resolution level from ${inLevel} to ${level}; a U-Net goes one level at a time`);
    const node: Node = { layer, level, decoder: upsamples || ins.some((n) => n.decoder), inbound };
    if (node.decoder && level > inLevel) fail(layer, 'it down-samples after the decoder has started up-sampling');
    nodes.set(layer.name, node);
    order.push(node);
  }

  const deepest = Math.max(...order.map((n) => n.level));
  const depth = deepest - 1;
  if (depth < 1) throw new UserError(`${what}: the model never lowers the resolution; a U-Net pools at least once (encoder) and up-samples back (decoder)`);

  const blockOf = new Map<string, string>();
  const concatAt = new Map<number, tfl.layers.Layer>();
  for (const n of order) {
    const inLevel = Math.max(...n.inbound.map((l) => nodes.get(l.name)!.level));
    if (!n.decoder) {
      // A pooling (or strided) layer belongs to the block whose level it leaves.
      blockOf.set(n.layer.name, n.level > inLevel ? `enc${inLevel}` : n.level === deepest ? 'bottleneck' : `enc${n.level}`);
      continue;
    }
    if (n.level === deepest) fail(n.layer, 'it is on the decoder side at the bottleneck level');
    blockOf.set(n.layer.name, `dec${n.level}`);
    // The up-sampling layer that starts the decoder reads the bottleneck; any other encoder input is a skip.
    const upsamples = n.level < inLevel;
    if (upsamples && n.inbound.length !== 1) fail(n.layer, 'an up-sampling layer takes one input');
    const fromEncoder = upsamples ? [] : n.inbound.filter((l) => !nodes.get(l.name)!.decoder && !isInputLayer(l));
    if (fromEncoder.length > 0) {
      if (layerKind(n.layer.getClassName()) !== 'concat')
        fail(n.layer, `it joins the encoder layer ${fromEncoder[0].name} to the decoder without a concatenation`);
      if (fromEncoder.length !== 1 || n.inbound.length !== 2) fail(n.layer, 'a skip concatenation joins exactly one encoder output and one decoder output');
      const skipLevel = nodes.get(fromEncoder[0].name)!.level;
      if (skipLevel !== n.level) fail(n.layer, `it concatenates a level-${skipLevel} encoder output at level ${n.level}`);
      if (concatAt.has(n.level)) fail(n.layer, `level ${n.level} already has its skip concatenation ${concatAt.get(n.level)!.name}`);
      concatAt.set(n.level, n.layer);
    }
  }
  for (let level = 1; level <= depth; level++) {
    if (concatAt.has(level)) continue;
    if (concatAt.size === 0) {
      throw new UserError(
        `${what}: an encoder-decoder without skip connections (no Concatenate joins an encoder output to the decoder; no skip concatenation at level ${level} (decoder block dec${level})); a U-Net needs them`,
      );
    }
    throw new UserError(`${what}: no skip concatenation at level ${level} (decoder block dec${level}); this does not look like a U-Net`);
  }

  // Head: dec1 keeps as many convs after its concatenation as decD has after its own; the rest is the head.
  const convsAfterConcat = (level: number): tfl.layers.Layer[] => {
    const layers = order.filter((n) => n.decoder && n.level === level).map((n) => n.layer);
    const at = layers.indexOf(concatAt.get(level)!);
    return layers.slice(at + 1).filter((l) => layerKind(l.getClassName()) === 'conv');
  };
  // A depth-1 U-Net (or a dec1 with no extra convs) has nothing to compare with: then the last conv is the head.
  const perBlock = convsAfterConcat(depth).length;
  const dec1Convs = convsAfterConcat(1);
  const headFrom = dec1Convs.length > perBlock && depth > 1 ? perBlock : dec1Convs.length >= 2 ? dec1Convs.length - 1 : -1;
  if (headFrom >= 0) {
    const headStart = order.findIndex((n) => n.layer === dec1Convs[headFrom]);
    for (const n of order.slice(headStart)) {
      if (!n.decoder || n.level !== 1) fail(n.layer, 'it follows the head but is not at full resolution');
      blockOf.set(n.layer.name, 'head');
    }
  }

  const firstConv = order.find((n) => layerKind(n.layer.getClassName()) === 'conv');
  const filters = Number((firstConv?.layer.getConfig() as { filters?: number } | undefined)?.filters ?? 0);
  const outShape = model.outputs[0].shape as number[];
  return {
    layerMap: LayerMap.fromAssignments(model, depth, blockOf, what),
    depth,
    filters,
    classes: outShape[3],
    input: [H, W, C],
  };
}
