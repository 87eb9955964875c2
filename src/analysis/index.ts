// Layer-by-layer analysis of a fine-tuned U-Net against its pretrained self: what changed (weight drift),
// how the representations differ (linear CKA per block), which changes matter on the target (reset
// sensitivity, transplant gain) and, before fine-tuning, where the target pulls (Auto-RGN probe). Every
// function returns plain data; the CLI (src/cli/commands/analysis.ts) only formats it.
export { pairModels, requireSameInput, weightName, type AnalysisModel, type ModelPair, type PairedLayer } from './pairing.js';
export {
  diffModels,
  type AggregateDrift,
  type DiffOptions,
  type DriftMeasures,
  type DriftReport,
  type LayerDrift,
  type ReplacedLayer,
} from './weight_drift.js';
export { asMatrix, largestEigenvalue, largestSingularValue } from './spectral.js';
export { blockOutputLayer, blockOutputs, type BlockOutputs } from './activations.js';
export { blockCka, blockCka as cka, ckaFromGrams, centerGram, gramOf, linearCka, type BlockCka, type CkaOptions, type CkaReport } from './cka.js';
export { disposeData, evaluateOn, loadAnalysisData, type AnalysisData, type LoadOptions } from './data.js';
export { resetSensitivity, type BlockReset, type ResetOptions, type ResetReport } from './reset.js';
export { probe, type BlockRgn, type LayerRgn, type ProbeOptions, type ProbeReport } from './probe.js';
export { compareModels, DEFAULT_SAMPLES, type CompareOptions, type Comparison, type SourceComparison, type TargetComparison } from './compare.js';
export { driftCsv, MEASURES, type FunctionalBlock } from './drift_csv.js';
export { probeTarget, type ProbeTargetOptions, type ProbeTargetReport } from './probe_target.js';
