// The town's ground plane: which class the ground is at (x, z) for a road layout (road, lane and edge
// lines, crosswalks, sidewalks, verge), and the material it is drawn with there.
import { T } from './classes.js';
import type { RoadLayout } from './scene.js';
import type { Material } from './texture.js';

const DASH = 3;
const DASH_PERIOD = 9;
const LINE = 0.15;

const frac = (x: number): number => x - Math.floor(x);
const dashed = (along: number): boolean => frac(along / DASH_PERIOD) < DASH / DASH_PERIOD;

/** The ground's class at world (x, z). */
export function groundClass(r: RoadLayout, x: number, z: number): number {
  const ax = Math.abs(x);
  const c = r.cross;
  const dz = c ? Math.abs(z - c.z) : Infinity;
  const onMain = ax <= r.halfWidth;
  const onCross = c !== null && dz <= c.halfWidth;
  if (onMain || onCross) {
    if (!r.markings) return T.road;
    if (onMain && !onCross) {
      // Crosswalks just before and after the junction.
      if (c && dz > c.halfWidth + 0.5 && dz < c.halfWidth + 3.5) return frac(x / 1.2) < 0.5 ? T.roadline : T.road;
      if (ax > r.halfWidth - 0.4 && ax < r.halfWidth - 0.4 + LINE) return T.roadline;
      if (r.lanes >= 4) {
        if (ax > 0.08 && ax < 0.08 + LINE) return T.roadline;
        const lane = r.halfWidth / (r.lanes / 2);
        for (let k = 1; k < r.lanes / 2; k++) if (Math.abs(ax - k * lane) < LINE / 2 && dashed(z)) return T.roadline;
      } else if (ax < LINE / 2 && dashed(z)) return T.roadline;
      return T.road;
    }
    if (onCross && !onMain && Math.abs(z - c!.z) < LINE / 2 && dashed(x)) return T.roadline;
    return T.road;
  }
  const side = r.sidewalk;
  if (side > 0 && (ax <= r.halfWidth + side || (c !== null && dz <= c.halfWidth + side))) return T.sidewalk;
  return r.verge === 'terrain' ? T.terrain : T.ground;
}

const WHITE_PAINT: Material = { kind: 'paint', color: [0.85, 0.85, 0.82], seed: 3 };
const YELLOW_PAINT: Material = { kind: 'paint', color: [0.85, 0.7, 0.2], seed: 3 };

/** The material of the ground at (x, z), whose class is `classId`. */
export function groundMaterial(r: RoadLayout, classId: number, x: number, z: number, cache: GroundMaterials): Material {
  switch (classId) {
    case T.roadline:
      return r.lanes >= 4 && Math.abs(x) < 0.3 ? YELLOW_PAINT : WHITE_PAINT;
    case T.road:
      return cache.asphalt;
    case T.sidewalk: {
      // The curb: a lighter strip along the road's edge.
      const ax = Math.abs(x);
      const dz = r.cross ? Math.abs(z - r.cross.z) : Infinity;
      const curb =
        (ax > r.halfWidth && ax < r.halfWidth + 0.25) || (r.cross !== null && ax > r.halfWidth && dz > r.cross.halfWidth && dz < r.cross.halfWidth + 0.25);
      return curb ? cache.curb : cache.paving;
    }
    case T.terrain:
      return cache.grass;
    default:
      return cache.dirt;
  }
}

export interface GroundMaterials {
  asphalt: Material;
  paving: Material;
  curb: Material;
  grass: Material;
  dirt: Material;
}

export function groundMaterials(r: RoadLayout): GroundMaterials {
  const a = r.asphalt;
  return {
    asphalt: { kind: 'asphalt', color: [a, a, a * 1.04], seed: r.seed },
    paving: { kind: 'paving', color: [0.62, 0.6, 0.58], color2: [0.45, 0.44, 0.43], seed: r.seed + 1 },
    curb: { kind: 'plain', color: [0.72, 0.72, 0.7], seed: r.seed + 2 },
    grass: { kind: 'grass', color: [0.28, 0.42, 0.16], color2: [0.42, 0.5, 0.22], seed: r.seed + 3 },
    dirt: { kind: 'dirt', color: [0.42, 0.34, 0.25], seed: r.seed + 4 },
  };
}
