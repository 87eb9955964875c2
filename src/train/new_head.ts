// A new head for a target with another number of classes: the model is rebuilt with the target's class
// count (same architecture and options) and every layer except the logits layer gets the pretrained
// weights; the logits layer starts from a fresh initialisation (seeded). Such a head must be trained, so
// a freeze spec that leaves it frozen is refused.
import type * as tfl from '@tensorflow/tfjs-layers';

import { buildUNet, type UNet } from '../model/index.js';
import type { ModelArchitecture } from '../model/folder.js';
import type { LayerMap } from '../model/layer-map.js';
import { badInputOption, UserError } from '../util/errors.js';

/** The layer whose output channels are the classes: the model's output layer (head_logits in our U-Nets). */
export function logitsLayerName(model: tfl.LayersModel): string {
  const out = model.outputLayers[0];
  if (!out) throw new Error('model has no output layer');
  return out.name;
}

/** Refuses a spec (the first phase's trainable layers) that freezes a fresh head. */
export function requireTrainableHead(model: tfl.LayersModel, trainable: string[], fromClasses: number, toClasses: number, spec: string): void {
  const logits = logitsLayerName(model);
  if (!trainable.includes(logits)) {
    throw badInputOption(
      'train',
      `${spec} freezes the head, but the model predicts ${fromClasses} classes and the data has ${toClasses}: its ${logits} layer is replaced by a new, untrained one, which must train (add head, e.g. options.train ${spec}+head)`,
    );
  }
}

/** A copy of the model with `classes` outputs: fresh logits layer, every other layer's weights copied. */
export function withNewHead(source: { model: tfl.LayersModel; options: ModelArchitecture; layerMap: LayerMap }, classes: number, seed: number): UNet {
  if (source.options.arch === 'adopted') {
    throw new UserError(`the model has ${source.options.classes} classes and the data ${classes}; a new head needs a model built by unet-transfer (this one was adopted, so it cannot be rebuilt)`);
  }
  const logits = logitsLayerName(source.model);
  const rebuilt = buildUNet({ ...source.options, classes, seed });
  try {
    for (const layer of rebuilt.model.layers) {
      if (layer.name === logits || layer.weights.length === 0) continue;
      const old = source.model.getLayer(layer.name);
      layer.setWeights(old.getWeights());
    }
    // The copied layers keep their "came pretrained" marks; the new logits layer is fresh.
    const marked = source.layerMap.pretrainedLayers().filter((n) => n !== logits);
    return { ...rebuilt, layerMap: rebuilt.layerMap.withPretrained(rebuilt.model, marked) };
  } catch (e) {
    rebuilt.model.dispose();
    throw e;
  }
}
