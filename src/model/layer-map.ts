// The layer map: every layer of a U-Net -> its block -> its region, with levels and parameter counts.
// It is the one place that knows how a model divides into enc1..encD, bottleneck, decD..dec1, head
// (../shared/DESIGN.md); freeze specs, drift tables and pictures ask it instead of parsing layer names.
import type * as tfl from '@tensorflow/tfjs-layers';

import { UserError } from '../util/errors.js';

export const REGIONS = ['encoder', 'bottleneck', 'decoder', 'head'] as const;
export type Region = (typeof REGIONS)[number];

/** What a layer does, from its class (never from its name). */
export type LayerKind = 'conv' | 'transpose' | 'upsample' | 'pool' | 'concat' | 'add' | 'pad' | 'dropout' | 'bn' | 'activation' | 'other';

export interface LayerInfo {
  name: string;
  block: string;
  region: Region;
  /** Resolution level: 1 = full input resolution, L = input / 2^(L-1); the bottleneck is depth + 1. */
  level: number;
  kind: LayerKind;
  /** The TF.js class name, e.g. Conv2D. */
  className: string;
  /** All weights (including BatchNormalization's moving statistics). */
  parameters: number;
  /** Weights a fresh model would train (BatchNormalization's moving statistics excluded). */
  trainableParameters: number;
  /** The layer's name in the architecture it follows (`block_13_expand_relu`, `layer3.1.conv2`), if it has one. */
  sourceName?: string;
  /** True when its weights came pretrained (ImageNet backbone), not from this tool's initialisation. */
  pretrained?: boolean;
}

/** What a builder or an import knows about a layer beyond its block. */
export interface LayerOrigin {
  sourceName?: string;
  pretrained?: boolean;
}

export interface BlockInfo {
  name: string;
  region: Region;
  level: number;
  parameters: number;
  trainableParameters: number;
  /** The block's layers in model (topological) order. */
  layers: string[];
}

/** The form of the map inside unet.json; counts are informational (recomputed from the model on load). */
export interface LayerMapJSON {
  depth: number;
  input: string;
  blocks: { name: string; region: Region; level: number; parameters: number; layers: string[] }[];
  layers: { name: string; block: string; kind: LayerKind; parameters: number; source_name?: string; pretrained?: boolean }[];
}

/** The blocks of a U-Net of this depth in U order: enc1..encD, bottleneck, decD..dec1, head. */
export function blockOrder(depth: number): string[] {
  const enc = Array.from({ length: depth }, (_, i) => `enc${i + 1}`);
  const dec = Array.from({ length: depth }, (_, i) => `dec${depth - i}`);
  return [...enc, 'bottleneck', ...dec, 'head'];
}

/** Region and level of a block name of a U-Net of this depth, or null if the name is not one of its blocks. */
export function blockPlace(block: string, depth: number): { region: Region; level: number } | null {
  if (block === 'bottleneck') return { region: 'bottleneck', level: depth + 1 };
  if (block === 'head') return { region: 'head', level: 1 };
  const m = /^(enc|dec)([1-9]\d*)$/.exec(block);
  if (!m || Number(m[2]) > depth) return null;
  return { region: m[1] === 'enc' ? 'encoder' : 'decoder', level: Number(m[2]) };
}

export function layerKind(className: string): LayerKind {
  switch (className) {
    case 'Conv2D':
    case 'SeparableConv2D':
    case 'DepthwiseConv2D':
      return 'conv';
    case 'Conv2DTranspose':
      return 'transpose';
    case 'UpSampling2D':
    case 'ResizeBilinear2x':
      return 'upsample';
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return 'pool';
    case 'Concatenate':
      return 'concat';
    case 'Add':
      return 'add';
    case 'ZeroPadding2D':
      return 'pad';
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return 'dropout';
    case 'BatchNormalization':
      return 'bn';
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'PReLU':
    case 'Softmax':
      return 'activation';
    default:
      return 'other';
  }
}

function countParams(layer: tfl.layers.Layer): { all: number; trainable: number } {
  let all = 0;
  let trainable = 0;
  for (const w of layer.weights) {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 0), 1);
    all += n;
    // Moving statistics are non-trainable by construction; a layer frozen for fine-tuning still counts its kernel.
    if (!/moving_(mean|variance)/.test(w.originalName)) trainable += n;
  }
  return { all, trainable };
}

export function isInputLayer(layer: tfl.layers.Layer): boolean {
  return layer.getClassName() === 'InputLayer';
}

export class LayerMap {
  /** Every layer except the input layer, in model (topological) order. */
  readonly layers: readonly LayerInfo[];
  /** Blocks in U order (enc1..encD, bottleneck, decD..dec1, head); blocks without layers are left out. */
  readonly blocks: readonly BlockInfo[];
  readonly parameters: number;
  readonly trainableParameters: number;
  private readonly byLayer: Map<string, LayerInfo>;
  private readonly byBlock: Map<string, BlockInfo>;

  private constructor(
    readonly depth: number,
    /** The name of the model's input layer (not part of any block). */
    readonly input: string,
    layers: LayerInfo[],
  ) {
    this.layers = layers;
    this.byLayer = new Map(layers.map((l) => [l.name, l]));
    const blocks: BlockInfo[] = [];
    for (const name of blockOrder(depth)) {
      const members = layers.filter((l) => l.block === name);
      if (members.length === 0) continue;
      const place = blockPlace(name, depth)!;
      blocks.push({
        name,
        region: place.region,
        level: place.level,
        parameters: members.reduce((s, l) => s + l.parameters, 0),
        trainableParameters: members.reduce((s, l) => s + l.trainableParameters, 0),
        layers: members.map((l) => l.name),
      });
    }
    this.blocks = blocks;
    this.byBlock = new Map(blocks.map((b) => [b.name, b]));
    this.parameters = layers.reduce((s, l) => s + l.parameters, 0);
    this.trainableParameters = layers.reduce((s, l) => s + l.trainableParameters, 0);
  }

  /**
   * Builds the map from a model and the block of each of its layers. Every layer but the input must
   * be assigned, to a block that a U-Net of this depth has; `what` names the source in errors.
   */
  static fromAssignments(
    model: tfl.LayersModel,
    depth: number,
    blockOf: ReadonlyMap<string, string>,
    what = 'the layer map',
    origins: ReadonlyMap<string, LayerOrigin> = new Map(),
  ): LayerMap {
    if (model.inputs.length !== 1) throw new UserError(`${what}: a U-Net has one input, this model has ${model.inputs.length}`);
    let input = '';
    const layers: LayerInfo[] = [];
    const known = new Set<string>();
    for (const layer of model.layers) {
      known.add(layer.name);
      if (isInputLayer(layer)) {
        input = layer.name;
        continue;
      }
      const block = blockOf.get(layer.name);
      if (block === undefined) throw new UserError(`${what}: layer ${layer.name} (${layer.getClassName()}) has no block`);
      const place = blockPlace(block, depth);
      if (!place)
        throw new UserError(`${what}: layer ${layer.name} is in "${block}", which is not a block of a depth-${depth} U-Net (${blockOrder(depth).join(', ')})`);
      const { all, trainable } = countParams(layer);
      const origin = origins.get(layer.name);
      layers.push({
        name: layer.name,
        block,
        region: place.region,
        level: place.level,
        kind: layerKind(layer.getClassName()),
        className: layer.getClassName(),
        parameters: all,
        trainableParameters: trainable,
        ...(origin?.sourceName !== undefined ? { sourceName: origin.sourceName } : {}),
        ...(origin?.pretrained ? { pretrained: true } : {}),
      });
    }
    for (const name of blockOf.keys()) {
      if (!known.has(name)) throw new UserError(`${what}: names layer ${name}, which the model does not have`);
    }
    return new LayerMap(depth, input, layers);
  }

  /** Reads the map of unet.json against the model it describes (counts are recomputed from the model). */
  static fromJSON(json: unknown, model: tfl.LayersModel, file = 'unet.json'): LayerMap {
    const j = json as Partial<LayerMapJSON> | null;
    if (!j || typeof j !== 'object' || !Number.isInteger(j.depth) || !Array.isArray(j.layers)) {
      throw new UserError(`${file}: "layerMap" must be an object with an integer "depth" and a "layers" list`);
    }
    const blockOf = new Map<string, string>();
    const origins = new Map<string, LayerOrigin>();
    for (const l of j.layers) {
      if (!l || typeof l.name !== 'string' || typeof l.block !== 'string')
        throw new UserError(`${file}: every entry of layerMap.layers needs a string "name" and "block"`);
      if (blockOf.has(l.name)) throw new UserError(`${file}: layer ${l.name} appears twice in layerMap.layers`);
      if (l.source_name !== undefined && typeof l.source_name !== 'string')
        throw new UserError(`${file}: layerMap.layers entry ${l.name}: "source_name" must be a string`);
      if (l.pretrained !== undefined && typeof l.pretrained !== 'boolean')
        throw new UserError(`${file}: layerMap.layers entry ${l.name}: "pretrained" must be true or false`);
      blockOf.set(l.name, l.block);
      origins.set(l.name, { sourceName: l.source_name, pretrained: l.pretrained });
    }
    return LayerMap.fromAssignments(model, j.depth!, blockOf, file, origins);
  }

  toJSON(): LayerMapJSON {
    return {
      depth: this.depth,
      input: this.input,
      blocks: this.blocks.map((b) => ({ name: b.name, region: b.region, level: b.level, parameters: b.parameters, layers: [...b.layers] })),
      layers: this.layers.map((l) => ({
        name: l.name,
        block: l.block,
        kind: l.kind,
        parameters: l.parameters,
        ...(l.sourceName !== undefined ? { source_name: l.sourceName } : {}),
        ...(l.pretrained ? { pretrained: true } : {}),
      })),
    };
  }

  /** The same map with `names` marked as pretrained (the others keep their mark); unknown names are an error. */
  withPretrained(model: tfl.LayersModel, names: Iterable<string>): LayerMap {
    const marked = new Set(names);
    for (const n of marked) if (!this.byLayer.has(n)) throw new Error(`withPretrained: no layer ${n}`);
    const blockOf = new Map(this.layers.map((l) => [l.name, l.block]));
    const origins = new Map(this.layers.map((l) => [l.name, { sourceName: l.sourceName, pretrained: l.pretrained === true || marked.has(l.name) }]));
    return LayerMap.fromAssignments(model, this.depth, blockOf, 'the layer map', origins);
  }

  /** Layers whose weights came pretrained, in model order. */
  pretrainedLayers(): string[] {
    return this.layers.filter((l) => l.pretrained === true).map((l) => l.name);
  }

  /** The layer's entry, or undefined for the input layer and unknown names. */
  layer(name: string): LayerInfo | undefined {
    return this.byLayer.get(name);
  }

  block(name: string): BlockInfo | undefined {
    return this.byBlock.get(name);
  }

  blockOfLayer(name: string): BlockInfo | undefined {
    const l = this.byLayer.get(name);
    return l && this.byBlock.get(l.block);
  }

  /** Blocks of one region, in U order. */
  blocksIn(region: Region): BlockInfo[] {
    return this.blocks.filter((b) => b.region === region);
  }

  /** Layers of one block, in model order. */
  layersIn(block: string): LayerInfo[] {
    return this.layers.filter((l) => l.block === block);
  }

  /** Parameter totals per region, in region order (regions without layers are left out). */
  regions(): { name: Region; parameters: number; trainableParameters: number; blocks: string[] }[] {
    return REGIONS.map((r) => {
      const bs = this.blocksIn(r);
      return {
        name: r,
        parameters: bs.reduce((s, b) => s + b.parameters, 0),
        trainableParameters: bs.reduce((s, b) => s + b.trainableParameters, 0),
        blocks: bs.map((b) => b.name),
      };
    }).filter((r) => r.blocks.length > 0);
  }
}
