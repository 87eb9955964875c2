// The class lists of the two worlds. `town` uses CARLA 0.9.x's 23 semantic tags with its CityScapes-style
// palette (ids 0..22, the course data set's classes), so a course U-Net's 23-way head fits as it is.
// `indoor` is a different label space (mostly new objects: an output-level shift) with its own colours.
import type { ClassInfo } from '../classes.js';

type Entry = [name: string, color: [number, number, number]];

const CARLA: Entry[] = [
  ['unlabeled', [0, 0, 0]],
  ['building', [70, 70, 70]],
  ['fence', [100, 40, 40]],
  ['other', [55, 90, 80]],
  ['pedestrian', [220, 20, 60]],
  ['pole', [153, 153, 153]],
  ['roadline', [157, 234, 50]],
  ['road', [128, 64, 128]],
  ['sidewalk', [244, 35, 232]],
  ['vegetation', [107, 142, 35]],
  ['vehicles', [0, 0, 142]],
  ['wall', [102, 102, 156]],
  ['trafficsign', [220, 220, 0]],
  ['sky', [70, 130, 180]],
  ['ground', [81, 0, 81]],
  ['bridge', [150, 100, 100]],
  ['railtrack', [230, 150, 140]],
  ['guardrail', [180, 165, 180]],
  ['trafficlight', [250, 170, 30]],
  ['static', [110, 190, 160]],
  ['dynamic', [170, 120, 50]],
  ['water', [45, 60, 150]],
  ['terrain', [145, 170, 100]],
];

/** Town class ids (CARLA's tags). */
export const T = {
  unlabeled: 0,
  building: 1,
  fence: 2,
  other: 3,
  pedestrian: 4,
  pole: 5,
  roadline: 6,
  road: 7,
  sidewalk: 8,
  vegetation: 9,
  vehicles: 10,
  wall: 11,
  trafficsign: 12,
  sky: 13,
  ground: 14,
  bridge: 15,
  railtrack: 16,
  guardrail: 17,
  trafficlight: 18,
  static: 19,
  dynamic: 20,
  water: 21,
  terrain: 22,
} as const;

const INDOOR: Entry[] = [
  ['unlabeled', [0, 0, 0]],
  ['wall', [120, 120, 180]],
  ['floor', [150, 100, 60]],
  ['ceiling', [220, 220, 150]],
  ['door', [0, 200, 80]],
  ['window', [120, 220, 255]],
  ['table', [255, 0, 80]],
  ['chair', [255, 140, 0]],
  ['sofa', [0, 80, 255]],
  ['bed', [200, 0, 255]],
  ['shelf', [120, 60, 0]],
  ['lamp', [255, 255, 0]],
  ['plant', [60, 140, 20]],
  ['person', [220, 20, 60]],
  ['picture', [0, 200, 200]],
];

/** Indoor class ids. */
export const I = {
  unlabeled: 0,
  wall: 1,
  floor: 2,
  ceiling: 3,
  door: 4,
  window: 5,
  table: 6,
  chair: 7,
  sofa: 8,
  bed: 9,
  shelf: 10,
  lamp: 11,
  plant: 12,
  person: 13,
  picture: 14,
} as const;

const toInfo = (list: Entry[]): ClassInfo[] => list.map(([name, color], id) => ({ id, name, color: [...color] as [number, number, number] }));

export const TOWN_CLASSES: readonly ClassInfo[] = toInfo(CARLA);
export const INDOOR_CLASSES: readonly ClassInfo[] = toInfo(INDOOR);

export type WorldName = 'town' | 'indoor';

export function worldClasses(world: WorldName): ClassInfo[] {
  return (world === 'town' ? TOWN_CLASSES : INDOOR_CLASSES).map((c) => ({ ...c, color: [...c.color!] as [number, number, number] }));
}
