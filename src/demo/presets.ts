// What the demo runs: the two domain shifts it builds target sets for, and how big each run is (`--quick`,
// the full demo, and a hidden `--tiny` that only the tests use to walk the same code path in seconds).
import { NAMED_POLICIES } from '../train/freeze_spec.js';

export const DEMO_FORMAT = 'unet-transfer/demo';

export interface DemoShift {
  /** Folder name of its data set and sweep. */
  key: string;
  kind: 'input' | 'output';
  title: string;
  description: string;
  digits: [number, number];
  /** Input-level shift spec for `data digits --shift` ('none' for none). */
  shift: string;
  seed: number;
}

/** The pretrained model knows digits 0-4 on a clean background. */
export const DEMO_SHIFTS: readonly DemoShift[] = [
  {
    key: 'speckle',
    kind: 'input',
    title: 'input-level shift',
    description: 'the same digits 0-4, seen through ultrasound-like speckle and a blur (speckle:0.5,blur:1): the pictures change, the classes do not',
    digits: [0, 4],
    shift: 'speckle:0.5,blur:1',
    seed: 1,
  },
  {
    key: 'newdigits',
    kind: 'output',
    title: 'output-level shift',
    description: 'clean pictures of digits 5-9 in the class slots of 0-4: new objects for the same outputs',
    digits: [5, 9],
    shift: 'none',
    seed: 2,
  },
];

export type PresetName = 'tiny' | 'quick' | 'full';

export interface DemoPreset {
  name: PresetName;
  /** Training and validation scenes of each target set. */
  train: number;
  val: number;
  /** Validation scenes of the source domain (digits 0-4, no shift): what fine-tuning costs the old task. */
  sourceVal: number;
  policies: string[];
  seeds: number;
  epochs: number;
  batch: number;
  lr: number;
  /** Target samples the advisor's gradient probe averages over. */
  probeSamples: number;
  /** Images for CKA and reset/transplant of the full fine-tune. */
  analysisSamples: number;
  /** The advisor's budget (a share of full fine-tuning). */
  budget: string;
  /** Trials run at once (each its own process). */
  parallel: number;
}

export const PRESETS: Record<PresetName, DemoPreset> = {
  tiny: { name: 'tiny', train: 16, val: 8, sourceVal: 8, policies: ['full', 'head'], seeds: 1, epochs: 1, batch: 8, lr: 1e-3, probeSamples: 8, analysisSamples: 8, budget: '25%params', parallel: 1 },
  quick: { name: 'quick', train: 128, val: 48, sourceVal: 32, policies: ['full', 'decoder+head', 'encoder', 'head'], seeds: 1, epochs: 3, batch: 8, lr: 1e-3, probeSamples: 16, analysisSamples: 32, budget: '25%params', parallel: 1 },
  full: { name: 'full', train: 400, val: 100, sourceVal: 100, policies: [...NAMED_POLICIES], seeds: 2, epochs: 4, batch: 8, lr: 1e-3, probeSamples: 32, analysisSamples: 64, budget: '25%params', parallel: 1 },
};

/** The settings that decide the demo's results; a demo folder is resumed only when these are equal. */
export function presetKey(p: DemoPreset, model: string): string {
  return JSON.stringify({ ...p, parallel: undefined, model, shifts: DEMO_SHIFTS });
}
