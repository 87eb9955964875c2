// What the demo runs: its domains (a shipped model, its source scenes and the shifts it builds target sets for),
// and how big each run is (`--quick`,
// the full demo, and a hidden `--tiny` that only the tests use to walk the same code path in seconds).
import type { WorldName, WorldStyle } from '../data/world/index.js';
import type { Precision } from '../engine/precision.js';
import { NAMED_POLICIES } from '../train/freeze_spec.js';

export const DEMO_FORMAT = 'unet-transfer/demo';

export type PresetName = 'tiny' | 'quick' | 'full';

export interface DemoPreset {
  name: PresetName;
  /** Training and validation scenes of each target set. */
  train: number;
  val: number;
  /** Validation scenes of the source domain: what fine-tuning costs the old task. */
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

/** The digits domain's sizes (the demo of earlier versions, whose README table they made). */
const DIGITS_PRESETS: Record<PresetName, DemoPreset> = {
  tiny: {
    name: 'tiny',
    train: 16,
    val: 8,
    sourceVal: 8,
    policies: ['full', 'head'],
    seeds: 1,
    epochs: 1,
    batch: 8,
    lr: 1e-3,
    probeSamples: 8,
    analysisSamples: 8,
    budget: '25%params',
    parallel: 1,
  },
  quick: {
    name: 'quick',
    train: 128,
    val: 48,
    sourceVal: 32,
    policies: ['full', 'decoder+head', 'encoder', 'head'],
    seeds: 1,
    epochs: 3,
    batch: 8,
    lr: 1e-3,
    probeSamples: 16,
    analysisSamples: 32,
    budget: '25%params',
    parallel: 1,
  },
  full: {
    name: 'full',
    train: 400,
    val: 100,
    sourceVal: 100,
    policies: [...NAMED_POLICIES],
    seeds: 2,
    epochs: 4,
    batch: 8,
    lr: 1e-3,
    probeSamples: 32,
    analysisSamples: 64,
    budget: '25%params',
    parallel: 1,
  },
};

/**
 * The world domain's sizes: a 96x128x3 step costs ~4x a 64x64x1 one, so fewer frames and epochs keep the full
 * demo under 15 minutes on 2 cores, and --quick under a minute and a half.
 */
const WORLD_PRESETS: Record<PresetName, DemoPreset> = {
  tiny: { ...DIGITS_PRESETS.tiny },
  // Timed idle on 2 cores (AVX2 EPYC): 64 frames x 4 policies x 3 epochs took 181 s, 149 of them in the sweep.
  quick: {
    name: 'quick',
    train: 48,
    val: 24,
    sourceVal: 24,
    policies: ['full', 'decoder+head', 'head'],
    seeds: 1,
    epochs: 2,
    batch: 8,
    lr: 1e-3,
    probeSamples: 16,
    analysisSamples: 8,
    budget: '25%params',
    parallel: 1,
  },
  // 240 frames x 10 policies x 2 seeds x 3 epochs took ~18 min of 2 idle AVX-512 cores and would take ~40 on
  // AVX2 ones. Left out here (the sweep command runs them): bottleneck and deep:2, the weakest there on every
  // target, and decoder, within 0.02 of decoder+head there (and the same policy with a new head).
  full: {
    name: 'full',
    train: 96,
    val: 48,
    sourceVal: 48,
    policies: ['full', 'scratch', 'encoder', 'head', 'decoder+head', 'encoder+bottleneck', 'shallow:2'],
    seeds: 2,
    epochs: 2,
    batch: 8,
    lr: 1e-3,
    probeSamples: 32,
    analysisSamples: 32,
    budget: '25%params',
    parallel: 1,
  },
};

/** How a demo data set is made: digit scenes (`data digits`) or rendered video-game frames (`data world`). */
export type DemoScenes =
  | { generator: 'digits'; digits: [number, number]; /** Input-level shift spec for `data digits --shift` ('none' for none). */ shift: string; seed: number }
  | { generator: 'world'; world: WorldName; style: WorldStyle; seed: number };

export interface DemoShift {
  /** Folder name of its data set and sweep. */
  key: string;
  kind: 'input' | 'output';
  title: string;
  description: string;
  scenes: DemoScenes;
}

export type DomainName = 'world' | 'digits';

/** A pretrained model that ships in models/, the scenes it was trained on, and the shifts the demo confronts it with. */
export interface DemoDomain {
  name: DomainName;
  /** Folder under the package's models/. */
  model: string;
  /** What the model must take and predict ([height, width, channels], classes). */
  input: [number, number, number];
  classes: number;
  /** In words, for the page: what the model was pretrained on. */
  pretrainedOn: string;
  /** The source domain: its validation scenes measure what fine-tuning costs the old task. */
  source: DemoScenes;
  shifts: DemoShift[];
  /** How big each size of the demo is in this domain. */
  presets: Record<PresetName, DemoPreset>;
}

/** The course U-Net pretrained on town streets by day (models/town16) meets night, rooms and a cartoon look. */
const WORLD_DOMAIN: DemoDomain = {
  name: 'world',
  model: 'town16',
  input: [96, 128, 3],
  classes: 23,
  pretrainedOn: "rendered town streets by day (CARLA's 23 classes, 96x128 RGB)",
  source: { generator: 'world', world: 'town', style: 'day', seed: 3 },
  shifts: [
    {
      key: 'night',
      kind: 'input',
      title: 'input-level shift',
      description: 'the same kind of streets at night (dark, lit windows, street lamps with falloff, headlights): the pictures change, the classes do not',
      scenes: { generator: 'world', world: 'town', style: 'night', seed: 1 },
    },
    {
      key: 'indoor',
      kind: 'output',
      title: 'output-level shift',
      description: 'indoor rooms (floor, walls, furniture, people: 15 classes of their own): new objects, and a new head for them',
      scenes: { generator: 'world', world: 'indoor', style: 'day', seed: 2 },
    },
    {
      key: 'toon',
      kind: 'input',
      title: 'input-level shift',
      description: 'the same kind of streets drawn as a cartoon (flat colours, banded light, dark outlines): another look, the same classes',
      scenes: { generator: 'world', world: 'town', style: 'toon', seed: 4 },
    },
  ],
  presets: WORLD_PRESETS,
};

/** The course U-Net pretrained on digits 0-4 (models/digits04): the demo of the first sessions. */
const DIGITS_DOMAIN: DemoDomain = {
  name: 'digits',
  model: 'digits04',
  input: [64, 64, 1],
  classes: 6,
  pretrainedOn: 'digit scenes of digits 0-4 on a clean background (64x64 grey)',
  source: { generator: 'digits', digits: [0, 4], shift: 'none', seed: 3 },
  shifts: [
    {
      key: 'speckle',
      kind: 'input',
      title: 'input-level shift',
      description: 'the same digits 0-4, seen through ultrasound-like speckle and a blur (speckle:0.5,blur:1): the pictures change, the classes do not',
      scenes: { generator: 'digits', digits: [0, 4], shift: 'speckle:0.5,blur:1', seed: 1 },
    },
    {
      key: 'newdigits',
      kind: 'output',
      title: 'output-level shift',
      description: 'clean pictures of digits 5-9 in the class slots of 0-4: new objects for the same outputs',
      scenes: { generator: 'digits', digits: [5, 9], shift: 'none', seed: 2 },
    },
  ],
  presets: DIGITS_PRESETS,
};

export const DEMO_DOMAINS: Record<DomainName, DemoDomain> = { world: WORLD_DOMAIN, digits: DIGITS_DOMAIN };

/**
 * The settings that decide the demo's results; a demo folder is resumed only when these are equal. The precision
 * (effective, not requested) is part of it only when not fp32, so that fp32 demo folders keep their key.
 */
export function presetKey(p: DemoPreset, domain: DemoDomain, model: string, precision: Precision = 'fp32'): string {
  return JSON.stringify({ ...p, parallel: undefined, model, domain: { ...domain, presets: undefined }, ...(precision !== 'fp32' ? { precision } : {}) });
}
