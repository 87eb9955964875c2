// The U-Net family: builder, layer map, FLOP counts, model folders (save, load, adopt).
export { buildUNet, type UNet } from './unet.js';
export { ARCHS, UPSAMPLES, MIN_DEPTH, MAX_DEPTH, DEFAULTS, defaultDropout, formatInputSize, parseInputSize, resolveOptions, type Arch, type Upsample, type UNetOptions, type UNetOptionsInput } from './options.js';
export { LayerMap, REGIONS, blockOrder, blockPlace, layerKind, type BlockInfo, type LayerInfo, type LayerKind, type LayerMapJSON, type Region } from './layer-map.js';
export { layerFlops, trainingStepFlops, type LayerFlops, type StepFlops } from './flops.js';
export { classColor, defaultClasses, parseClasses, type ClassInfo } from './classes.js';
export { inferLayerMap, type InferredMap } from './infer.js';
export { HEAD_MODES, MAX_MULTILABEL_LABELS, headChannels, headClasses, headModeFromActivation, parseHeadMode, type HeadMode } from './head_mode.js';
export { convertKerasConfig, isFunctionalGraph, tfjsTopology, type ExpectedWeight, type KerasGraph, type KerasLayer } from './import/keras_config.js';
export { buildKerasModel, type KerasImport } from './import/keras_model.js';
export { MAX_WEIGHT_BYTES, readModelJson, readWeightBytes, resolveWeightPath, type ModelJsonFile, type WeightGroup, type WeightSpec } from './manifest.js';
export {
  adoptModelFolder,
  loadModelFolder,
  saveModelFolder,
  UNET_JSON_FORMAT,
  UNET_JSON_VERSION,
  type AdoptedArchitecture,
  type AdoptOptions,
  type ModelArchitecture,
  type ModelFolder,
  type Provenance,
  type SaveOptions,
  type SaveStep,
  type UnetJson,
  type WeightsRecord,
} from './folder.js';
