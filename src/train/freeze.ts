// Applying a resolved freeze spec to a model. A frozen layer gets `trainable = false` (its weights get
// no gradient and no update, see step.ts); frozen BatchNormalization layers and the Dropout layers of
// frozen blocks run in inference mode whatever the caller asks: BN normalises with its moving
// statistics and leaves them untouched, Dropout passes its input through (TF2 Keras' and segmentation_models.pytorch's
// freeze semantics). `trainBn` keeps the BN layers of frozen blocks trainable and in training mode
// (fastai's train_bn). Inference mode is forced by wrapping that layer instance's `call`, because
// tfjs-layers passes one `training` flag to every layer of a model.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { LayerMap } from '../model/layer-map.js';
import type { ResolvedSpec } from './freeze_spec.js';

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** A trainable weight: its stable name `<layer>/<weight>` and the engine variable behind it. */
export interface TrainableVariable {
  /** `<layer>/<weight>`, the same in every process (checkpoints use it). */
  stable: string;
  layer: string;
  block: string;
  variable: tf.Variable;
}

export interface FreezeState {
  /** Layers whose weights train, in model order. */
  trainableLayers: string[];
  /** Layers forced into inference mode (BN and Dropout of frozen blocks). */
  inferenceLayers: string[];
  /** The engine variables to differentiate and update, in model order. */
  variables: TrainableVariable[];
}

const ORIGINAL_CALL = Symbol('unet-transfer.originalCall');
type Wrappable = tfl.layers.Layer & { [ORIGINAL_CALL]?: CallFn; call: CallFn };

/** The weight's own name within its layer: `kernel`, `gamma`, `moving_mean`... */
export function weightShortName(originalName: string): string {
  return originalName.slice(originalName.lastIndexOf('/') + 1);
}

/** `<layer>/<weight>` -> the weight, for every weight of the model (trainable or not). */
export function stableWeights(model: tfl.LayersModel): Map<string, tfl.LayerVariable> {
  const out = new Map<string, tfl.LayerVariable>();
  for (const layer of model.layers) {
    for (const w of layer.weights) out.set(`${layer.name}/${weightShortName(w.originalName)}`, w);
  }
  return out;
}

function setInferenceOnly(layer: Wrappable, on: boolean): void {
  const original = layer[ORIGINAL_CALL];
  if (on && !original) {
    const call = layer.call.bind(layer);
    layer[ORIGINAL_CALL] = call;
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  } else if (!on && original) {
    layer.call = original;
    delete layer[ORIGINAL_CALL];
  }
}

/**
 * Makes exactly the spec's layers trainable (plus the BN layers of frozen blocks with `trainBn`) and puts
 * the BN and Dropout layers of frozen blocks in inference mode. Can be applied again with another spec
 * (gradual unfreezing): every layer is set, none is left from before.
 */
export function applyFreeze(model: tfl.LayersModel, layerMap: LayerMap, spec: ResolvedSpec, opts: { trainBn?: boolean } = {}): FreezeState {
  const chosen = new Set(spec.trainable);
  const trainableBlocks = new Set(spec.blocks);
  const trainableLayers: string[] = [];
  const inferenceLayers: string[] = [];
  const variables: TrainableVariable[] = [];
  for (const layer of model.layers) {
    const info = layerMap.layer(layer.name);
    if (!info) continue; // the input layer
    const blockFrozen = !trainableBlocks.has(info.block);
    const keepBn = info.kind === 'bn' && opts.trainBn === true;
    const trains = chosen.has(layer.name) || (blockFrozen && keepBn);
    layer.trainable = trains;
    // A frozen BN layer normalises with its moving statistics and keeps them; a frozen block's Dropout is off.
    const inference = (info.kind === 'bn' && !trains) || (info.kind === 'dropout' && blockFrozen);
    setInferenceOnly(layer as Wrappable, inference);
    if (inference) inferenceLayers.push(layer.name);
    if (!trains) continue;
    trainableLayers.push(layer.name);
    for (const w of layer.trainableWeights) {
      variables.push({ stable: `${layer.name}/${weightShortName(w.originalName)}`, layer: layer.name, block: info.block, variable: w.read() as tf.Variable });
    }
  }
  return { trainableLayers, inferenceLayers, variables };
}

/** Undoes applyFreeze: every layer trainable and following the caller's training flag again. */
export function clearFreeze(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    layer.trainable = true;
    setInferenceOnly(layer as Wrappable, false);
  }
}
