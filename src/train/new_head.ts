// A new head for a target with another number of classes (or another head mode): the model is rebuilt
// with the head's channel count and every layer except the logits layer gets the pretrained weights; the
// logits layer starts from a fresh initialisation (seeded). Our architectures are rebuilt by the builder;
// a model from elsewhere (adopted, or imported from Keras) through its own topology, with only the output
// convolution's filters changed. Such a head must be trained, so a freeze spec that leaves it frozen is
// refused. The head mode stays the model's unless the caller asks for another.
import * as tfl from '@tensorflow/tfjs-layers';

import { openFolderDataset } from '../data/folder-dataset.js';
import { buildUNet } from '../model/index.js';
import type { ModelArchitecture } from '../model/folder.js';
import { headChannels, headClasses, type HeadMode } from '../model/head_mode.js';
import type { LayerMap } from '../model/layer-map.js';
import { LayerMap as LayerMapClass } from '../model/layer-map.js';
import { badInputOption, UserError } from '../util/errors.js';
import { resolveTrainSpec } from './freeze_spec.js';

/** The layer whose output channels are the classes: the model's output layer (head_logits in our U-Nets). */
export function logitsLayerName(model: tfl.LayersModel): string {
  const out = model.outputLayers[0];
  if (!out) throw new Error('model has no output layer');
  return out.name;
}

/** Refuses a spec (the first phase's trainable layers) that freezes a fresh head. */
export function requireTrainableHead(
  model: tfl.LayersModel,
  trainable: string[],
  fromClasses: number,
  toClasses: number,
  spec: string,
  modes?: { from: HeadMode; to: HeadMode },
): void {
  const logits = logitsLayerName(model);
  if (!trainable.includes(logits)) {
    const why =
      modes && modes.from !== modes.to
        ? `the model's head is ${modes.from} and the run trains a ${modes.to} one`
        : `the model predicts ${fromClasses} classes and the data has ${toClasses}`;
    throw badInputOption(
      'train',
      `${spec} freezes the head, but ${why}: its ${logits} layer is replaced by a new, untrained one, which must train (add head, e.g. options.train ${spec}+head)`,
    );
  }
}

/**
 * The policies as they can run on a target with a new head (other classes than the model): the head must
 * train, so a policy that freezes it trains it too (`encoder` becomes `encoder+head`). Without one: as given.
 */
export function withTrainedHead(policies: readonly string[], newHead: boolean, unet: { model: tfl.LayersModel; layerMap: LayerMap }): string[] {
  if (!newHead) return [...policies];
  const logits = logitsLayerName(unet.model);
  return [...new Set(policies.map((p) => (resolveTrainSpec(p, unet.layerMap).trainable.includes(logits) ? p : `${p}+head`)))];
}

export interface HeadedModel {
  model: tfl.LayersModel;
  options: ModelArchitecture;
  layerMap: LayerMap;
  headMode: HeadMode;
}

/** The topology of `model` with the output convolution's filters set to `channels` and a seeded initialiser. */
async function rebuildWithOutputChannels(model: tfl.LayersModel, channels: number, seed: number): Promise<tfl.LayersModel> {
  const logits = logitsLayerName(model);
  const topology = model.toJSON(null, false) as unknown as { config: { layers: Array<{ class_name: string; name: string; config: Record<string, unknown> }> } };
  const layer = topology.config.layers.find((l) => l.name === logits);
  if (!layer || layer.class_name !== 'Conv2D')
    throw new UserError(
      `a new head replaces the output layer's filters, but the output layer ${logits} is a ${layer?.class_name ?? 'missing layer'}, not a Conv2D`,
    );
  layer.config.filters = channels;
  layer.config.kernel_initializer = { class_name: 'GlorotUniform', config: { seed } };
  layer.config.bias_initializer = { class_name: 'Zeros', config: {} };
  return tfl.models.modelFromJSON({ modelTopology: topology } as never);
}

/**
 * A copy of the model for `classes` classes in `headMode` (default: the model's): fresh logits layer,
 * every other layer's weights copied.
 */
export async function withNewHead(
  source: { model: tfl.LayersModel; options: ModelArchitecture; layerMap: LayerMap; headMode?: HeadMode },
  classes: number,
  seed: number,
  headMode?: HeadMode,
): Promise<HeadedModel> {
  const mode = headMode ?? source.headMode ?? 'multiclass';
  const channels = headChannels(mode, classes);
  const logits = logitsLayerName(source.model);
  let model: tfl.LayersModel;
  let options: ModelArchitecture;
  let layerMap: LayerMap;
  if (source.options.arch === 'adopted') {
    model = await rebuildWithOutputChannels(source.model, channels, seed);
    options = { ...source.options, classes: channels };
    const blockOf = new Map(source.layerMap.layers.map((l) => [l.name, l.block]));
    const origins = new Map(source.layerMap.layers.map((l) => [l.name, { sourceName: l.sourceName }]));
    try {
      layerMap = LayerMapClass.fromAssignments(model, source.layerMap.depth, blockOf, 'the new head', origins);
    } catch (e) {
      model.dispose();
      throw e;
    }
  } else {
    const rebuilt = buildUNet({ ...source.options, classes: channels, seed });
    ({ model, options, layerMap } = rebuilt);
  }
  try {
    for (const layer of model.layers) {
      if (layer.name === logits || layer.weights.length === 0) continue;
      const old = source.model.getLayer(layer.name);
      layer.setWeights(old.getWeights());
    }
    // The copied layers keep their "came pretrained" marks; the new logits layer is fresh.
    const marked = source.layerMap.pretrainedLayers().filter((n) => n !== logits);
    return { model, options, layerMap: layerMap.withPretrained(model, marked), headMode: mode };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The model as fine-tuning on a target starts it: itself, or (when the target has other classes) a copy with a new head. */
export interface TargetModel {
  model: tfl.LayersModel;
  layerMap: LayerMap;
  newHead: boolean;
  /** The target's classes as the model's head counts them (a binary head: 2, background and foreground). */
  targetClasses: number;
}

/** Decides from the target's classes.json whether a new head is needed; the caller disposes `model` when `newHead`. */
export async function modelForTarget(folder: HeadedModel, dataDir: string, seed: number): Promise<TargetModel> {
  const modelClasses = headClasses(folder.headMode, folder.options.classes);
  const targetClasses = folder.headMode === 'binary' ? 2 : (openFolderDataset(dataDir).classes?.numClasses ?? modelClasses);
  if (targetClasses === modelClasses) return { model: folder.model, layerMap: folder.layerMap, newHead: false, targetClasses };
  const u = await withNewHead(folder, targetClasses, seed);
  return { model: u.model, layerMap: u.layerMap, newHead: true, targetClasses };
}
