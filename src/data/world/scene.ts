// The scene description the renderer draws: a camera, an optional ground plane with a road layout, point
// lights and a list of primitives (planar quads, axis-aligned ellipsoids) each carrying one class id and a
// material. Plain data (JSON-able), so a test can set up a scene whose geometry it knows. Boxes, the
// building block of every object, expand into their visible quads here.
//
// World axes (metres): x to the right of the road, y up, z along the road (away from the start).
import type { Material } from './texture.js';

export type Vec3 = [number, number, number];

export interface CameraSpec {
  position: Vec3;
  /** Turn about y, radians; 0 looks along +z, positive turns towards +x. */
  yaw: number;
  /** Radians; positive looks up. */
  pitch: number;
  /** Horizontal field of view, radians. */
  fov: number;
}

/** Where a quad is solid, in its own (u, v) in [0, 1]^2. */
export type QuadShape =
  | { kind: 'rect' }
  | { kind: 'disc' }
  /** The triangle (0,0), (1,0), (0.5,1). */
  | { kind: 'triangle' }
  /** A fence: `bars` vertical bars of relative width `fill`, and a rail at the top and bottom (relative height `rail`). */
  | { kind: 'bars'; bars: number; fill: number; rail: number };

export interface Quad {
  kind: 'quad';
  /** One corner; the quad is origin + s*u + t*v for s, t in [0, 1]. */
  origin: Vec3;
  u: Vec3;
  v: Vec3;
  classId: number;
  material: Material;
  shape?: QuadShape;
  /** Drawn only from the side u x v points to (faces of closed solids). */
  oneSided?: boolean;
}

export interface Ellipsoid {
  kind: 'ellipsoid';
  center: Vec3;
  radii: Vec3;
  classId: number;
  material: Material;
}

export type Primitive = Quad | Ellipsoid;

/** The town's road layout on the ground plane y = 0: the ground's class at (x, z) comes from it. */
export interface RoadLayout {
  /** Road half width (m), centred on x = 0. */
  halfWidth: number;
  lanes: number;
  /** Sidewalk width on each side (0: none). */
  sidewalk: number;
  /** Verge beyond the sidewalks: grass (terrain) or bare earth (ground). */
  verge: 'terrain' | 'ground';
  /** Dashed centre and lane lines, solid edge lines. */
  markings: boolean;
  /** A cross street at z = cross.z. */
  cross: { z: number; halfWidth: number } | null;
  /** How far the ground reaches (m); beyond is sky. */
  far: number;
  /** Seeds the ground's textures. */
  seed: number;
  /** Asphalt grey, 0..1. */
  asphalt: number;
}

export interface PointLight {
  position: Vec3;
  color: Vec3;
  /** Distance (m) at which the light has fallen to half. */
  reach: number;
}

export interface SceneSpec {
  world: 'town' | 'indoor';
  camera: CameraSpec;
  /** Town only: the ground plane with its road. */
  road: RoadLayout | null;
  primitives: Primitive[];
  /** Street lamps, ceiling lights: used by the night look. */
  lights: PointLight[];
  /** Direction towards the sun (day light), normalised by the renderer. */
  sun: Vec3;
  /** The class of pixels where nothing is hit (sky in the town). */
  emptyClass: number;
}

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

export interface BoxSpec {
  /** Centre of the bottom face. */
  base: Vec3;
  /** Width (local x), height (y), depth (local z). */
  size: Vec3;
  /** Turn about y, radians. */
  yaw?: number;
  classId: number;
  material: Material;
  /** Another material for the top face (roofs, table tops). */
  top?: Material;
  /** Leave out the bottom face (boxes standing on the ground never show it). */
  open?: boolean;
}

/** The faces of a box as one-sided quads facing outwards; side faces have v pointing up, so a
 * material's v is the height above the box's bottom. */
export function boxQuads(b: BoxSpec): Quad[] {
  const yaw = b.yaw ?? 0;
  const ax: Vec3 = [Math.cos(yaw), 0, -Math.sin(yaw)];
  const az: Vec3 = [Math.sin(yaw), 0, Math.cos(yaw)];
  const [w, h, d] = b.size;
  const X = scale(ax, w);
  const Z = scale(az, d);
  const Y: Vec3 = [0, h, 0];
  // Corner (-w/2, 0, -d/2) of the box.
  const c0 = add(b.base, add(scale(ax, -w / 2), scale(az, -d / 2)));
  const centre = add(b.base, [0, h / 2, 0]);
  const faces: [Vec3, Vec3, Vec3, Material][] = [
    [c0, X, Y, b.material], // front (-z local)
    [add(c0, Z), X, Y, b.material], // back
    [c0, Z, Y, b.material], // left
    [add(c0, X), Z, Y, b.material], // right
    [add(c0, Y), X, Z, b.top ?? b.material], // top
  ];
  if (!b.open) faces.push([c0, X, Z, b.material]);
  return faces.map(([o, u, v, material]) => {
    // Orient each face outwards: mirror u where u x v points into the box.
    const mid = add(o, add(scale(u, 0.5), scale(v, 0.5)));
    const out = dot(cross(u, v), [mid[0] - centre[0], mid[1] - centre[1], mid[2] - centre[2]]) >= 0;
    return out
      ? { kind: 'quad', origin: o, u, v, classId: b.classId, material, oneSided: true }
      : { kind: 'quad', origin: add(o, u), u: scale(u, -1), v, classId: b.classId, material, oneSided: true };
  });
}
