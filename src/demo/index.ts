// The demo: the shipped digits model on an input-level and an output-level shift, swept, analysed and
// advised, in one report (src/cli/commands/demo.ts is its command).
export { DEMO_FORMAT, DEMO_SHIFTS, PRESETS, type DemoPreset, type DemoShift, type PresetName } from './presets.js';
export { runDemo, shippedModelDir, type DemoOptions, type DemoResult, type ShiftResult } from './run.js';
export { renderDemoFolder, writeDemoPage } from './page.js';
export { answerOf, answerLine, MIOU_TOLERANCE, type ShiftAnswer } from './findings.js';
