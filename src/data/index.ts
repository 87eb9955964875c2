// The data layer: folder data sets of images and masks, built-in MNIST digit scenes with domain shifts,
// built-in world scenes (town streets, rooms) in several looks.
export { parseAugment, NO_AUGMENT, type AugmentSpec } from './augment.js';
export { batchesPerEpoch, loadInMemory, streamBatches, streamSamples, type Batch, type StreamOptions } from './batches.js';
export { classStats, ClassCounter, type ClassStat, type ClassStats } from './class-stats.js';
export { classesJson, colorOf, makeClassSet, numberedClasses, readClassesFile, type ClassInfo, type ClassSet } from './classes.js';
export { renderContactSheet, type SheetItem } from './contact-sheet.js';
export { DEFAULT_MAX_PIXELS, decodeImageBytes, readImageFile, readImageHeaderSync, readPicture } from './decode.js';
export { DEFAULT_DIGIT_SCENES, digitSceneClasses, generateDigitScenes, renderScene, type DigitSceneOptions } from './digit-scenes.js';
export { describeBad, openFolderDataset, type BadFile, type FolderDataset, type SamplePair } from './folder-dataset.js';
export { inspectDataset, type InspectReport } from './inspect.js';
export { encodeJpeg } from './jpeg.js';
export { readMnist } from './mnist.js';
export { encodePng } from './png.js';
export { epochOrder, Rng } from './random.js';
export { toChannels, type Raster } from './raster.js';
export { loadSample, type Sample, type SampleOptions } from './sample.js';
export { applyShifts, formatShifts, parseShifts, type ShiftStep } from './shifts.js';
export { seededSplit, splitDataset, type Split } from './split.js';
export * from './world/index.js';
