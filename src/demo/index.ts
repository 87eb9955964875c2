// The demo: a shipped model (town16 on video-game scenes, or digits04 on digits) on input-level and output-level
// shifts, swept, analysed and advised, in one report (src/cli/commands/demo.ts is its command).
export { DEMO_DOMAINS, DEMO_FORMAT, type DemoDomain, type DemoPreset, type DemoScenes, type DemoShift, type DomainName, type PresetName } from './presets.js';
export { runDemo, shippedModelDir, type DemoOptions, type DemoResult, type ShiftResult } from './run.js';
export { renderDemoFolder, writeDemoPage } from './page.js';
export { answerOf, answerLine, MIOU_TOLERANCE, type ShiftAnswer } from './findings.js';
