// The U-Net family: builder, layer map, FLOP counts, model folders (save, load, adopt).
export { buildUNet, type UNet } from './unet.js';
export {
  ARCHS,
  ENCODER_ARCHS,
  ENCODER_DEFAULTS,
  FLAVOURS,
  PLAIN_ARCHS,
  UPSAMPLES,
  MIN_DEPTH,
  MAX_DEPTH,
  DEFAULTS,
  defaultDropout,
  formatInputSize,
  inputNormalizationOf,
  isEncoderArch,
  namedNormalization,
  parseInputSize,
  resolveOptions,
  sampleNormalizationOf,
  type Arch,
  type EncoderArch,
  type Flavour,
  type InputNormalization,
  type Upsample,
  type UNetOptions,
  type UNetOptionsInput,
} from './options.js';
export { ENCODERS, encoderFeatureLayers, type EncoderEntry, type EncoderFeatures } from './encoders/registry.js';
export { MOBILENETV2_TAPS } from './encoders/mobilenetv2.js';
export { buildPretrainedUNet, PRETRAINED, type Pretrained, type PretrainedResult } from './pretrained/imagenet.js';
export { NSFWJS_FILES, NSFWJS_PACKAGE, readNsfwjsMobileNetV2, type KerasArtifacts } from './pretrained/nsfwjs.js';
export {
  LayerMap,
  REGIONS,
  blockOrder,
  blockPlace,
  layerKind,
  type BlockInfo,
  type LayerInfo,
  type LayerKind,
  type LayerMapJSON,
  type Region,
} from './layer-map.js';
export { layerFlops, trainingStepFlops, type LayerFlops, type StepFlops } from './flops.js';
export { classColor, defaultClasses, parseClasses, type ClassInfo } from './classes.js';
export { inferLayerMap, type InferredMap } from './infer.js';
export { HEAD_MODES, MAX_MULTILABEL_LABELS, headChannels, headClasses, headModeFromActivation, checkHeadModeFits, type HeadMode } from './head_mode.js';
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
