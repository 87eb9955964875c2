// The rasteriser: for every pixel, the primitive nearest the camera along that pixel's ray (a depth
// buffer of exact ray-surface hits), where on its surface the ray hit it, and the class id mask.
// Coverage is decided per pixel centre by the exact intersection, never by anti-aliased edges, so a
// pixel's class is exactly that of the surface drawn there. Primitives are bounded in screen space first
// (camera.pixelBounds) so each is tested only over the pixels it may cover.
import { makeCamera, NEAR, pixelBounds, type Camera } from './camera.js';
import { groundClass } from './ground.js';
import type { Ellipsoid, Quad, QuadShape, RoadLayout, SceneSpec, Vec3 } from './scene.js';

/** Primitive index of the ground plane and of "nothing hit" in GBuffer.prim. */
export const GROUND = -2;
export const NOTHING = -1;

export interface GBuffer {
  camera: Camera;
  /** Index into scene.primitives, GROUND or NOTHING, per pixel. */
  prim: Int32Array;
  /** View depth of the hit (Infinity where nothing is hit). */
  depth: Float64Array;
  /** Surface coordinates of the hit in metres (quads: along u and v; ground: world x and z). */
  u: Float64Array;
  v: Float64Array;
  /** Class id per pixel: the mask. */
  mask: Uint8Array;
}

const frac = (x: number): number => x - Math.floor(x);
const RECT: QuadShape = { kind: 'rect' };

function drawGround(cam: Camera, road: RoadLayout, g: GBuffer): void {
  const [cx, cy, cz] = cam.position;
  const n = cam.width * cam.height;
  const rays = cam.rays;
  for (let i = 0; i < n; i++) {
    const dy = rays[i * 3 + 1]!;
    if (dy >= 0) continue;
    const t = -cy / dy;
    const x = cx + t * rays[i * 3]!;
    const z = cz + t * rays[i * 3 + 2]!;
    if ((x - cx) * (x - cx) + (z - cz) * (z - cz) > road.far * road.far || t < NEAR || t >= g.depth[i]!) continue;
    g.depth[i] = t;
    g.prim[i] = GROUND;
    g.u[i] = x;
    g.v[i] = z;
  }
}

function drawQuad(cam: Camera, q: Quad, index: number, g: GBuffer): void {
  const [ox, oy, oz] = q.origin;
  const [ux, uy, uz] = q.u;
  const [vx, vy, vz] = q.v;
  const [cx, cy, cz] = cam.position;
  // Plane normal n = u x v.
  const nx = uy * vz - uz * vy;
  const ny = uz * vx - ux * vz;
  const nz = ux * vy - uy * vx;
  const num = (ox - cx) * nx + (oy - cy) * ny + (oz - cz) * nz;
  if (q.oneSided && num >= 0) return; // the camera is behind the face
  if (num === 0) return; // seen edge-on
  const box = pixelBounds(cam, [q.origin, [ox + ux, oy + uy, oz + uz], [ox + vx, oy + vy, oz + vz], [ox + ux + vx, oy + uy + vy, oz + uz + vz]]);
  if (!box) return;
  // Dual basis: s = w . ud and r = w . vd for w = hit - origin in the plane.
  let udx = vy * nz - vz * ny;
  let udy = vz * nx - vx * nz;
  let udz = vx * ny - vy * nx;
  const uk = 1 / (ux * udx + uy * udy + uz * udz);
  udx *= uk;
  udy *= uk;
  udz *= uk;
  let vdx = ny * uz - nz * uy;
  let vdy = nz * ux - nx * uz;
  let vdz = nx * uy - ny * ux;
  const vk = 1 / (vx * vdx + vy * vdy + vz * vdz);
  vdx *= vk;
  vdy *= vk;
  vdz *= vk;
  // w = (c - o) + t d
  const wx = cx - ox;
  const wy = cy - oy;
  const wz = cz - oz;
  const s0 = wx * udx + wy * udy + wz * udz;
  const r0 = wx * vdx + wy * vdy + wz * vdz;
  const lu = Math.sqrt(ux * ux + uy * uy + uz * uz);
  const lv = Math.sqrt(vx * vx + vy * vy + vz * vz);
  const shape = q.shape ?? RECT;
  const W = cam.width;
  const rays = cam.rays;
  const depth = g.depth;
  for (let py = box.y0; py <= box.y1; py++) {
    for (let px = box.x0; px <= box.x1; px++) {
      const i = py * W + px;
      const dx = rays[i * 3]!;
      const dy = rays[i * 3 + 1]!;
      const dz = rays[i * 3 + 2]!;
      const den = dx * nx + dy * ny + dz * nz;
      if (den === 0) continue;
      const t = num / den;
      if (t < NEAR || t >= depth[i]!) continue;
      const s = s0 + t * (dx * udx + dy * udy + dz * udz);
      if (s < 0 || s > 1) continue;
      const r = r0 + t * (dx * vdx + dy * vdy + dz * vdz);
      if (r < 0 || r > 1) continue;
      if (shape.kind === 'disc') {
        if ((s - 0.5) * (s - 0.5) + (r - 0.5) * (r - 0.5) > 0.25) continue;
      } else if (shape.kind === 'triangle') {
        if (s < r / 2 || s > 1 - r / 2) continue;
      } else if (shape.kind === 'bars') {
        if (r > shape.rail && r < 1 - shape.rail && frac(s * shape.bars) >= shape.fill) continue;
      }
      depth[i] = t;
      g.prim[i] = index;
      g.u[i] = s * lu;
      g.v[i] = r * lv;
    }
  }
}

function drawEllipsoid(cam: Camera, e: Ellipsoid, index: number, g: GBuffer): void {
  const [ex, ey, ez] = e.center;
  const [rx, ry, rz] = e.radii;
  const corners: Vec3[] = [];
  for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) corners.push([ex + sx * rx, ey + sy * ry, ez + sz * rz]);
  const box = pixelBounds(cam, corners);
  if (!box) return;
  // In the ellipsoid's unit-sphere space: o + t d with o = (c - centre) / radii, d = ray / radii.
  const ox = (cam.position[0] - ex) / rx;
  const oy = (cam.position[1] - ey) / ry;
  const oz = (cam.position[2] - ez) / rz;
  const cc = ox * ox + oy * oy + oz * oz - 1;
  const W = cam.width;
  const rays = cam.rays;
  const depth = g.depth;
  for (let py = box.y0; py <= box.y1; py++) {
    for (let px = box.x0; px <= box.x1; px++) {
      const i = py * W + px;
      const dx = rays[i * 3]! / rx;
      const dy = rays[i * 3 + 1]! / ry;
      const dz = rays[i * 3 + 2]! / rz;
      const a = dx * dx + dy * dy + dz * dz;
      const b = ox * dx + oy * dy + oz * dz;
      const disc = b * b - a * cc;
      if (disc < 0) continue;
      const root = Math.sqrt(disc);
      let t = (-b - root) / a;
      if (t < NEAR) t = (-b + root) / a;
      if (t < NEAR || t >= depth[i]!) continue;
      depth[i] = t;
      g.prim[i] = index;
      // Texture coordinates: the hit point's horizontal position and height (metres).
      const hx = cam.position[0] + t * rays[i * 3]!;
      const hz = cam.position[2] + t * rays[i * 3 + 2]!;
      g.u[i] = hx + hz;
      g.v[i] = cam.position[1] + t * rays[i * 3 + 1]!;
    }
  }
}

/** Rasterises `scene` at height x width: the depth-tested G-buffer and the class mask. */
export function rasterise(scene: SceneSpec, height: number, width: number): GBuffer {
  const camera = makeCamera(scene.camera, height, width);
  const n = width * height;
  const g: GBuffer = {
    camera,
    prim: new Int32Array(n).fill(NOTHING),
    depth: new Float64Array(n).fill(Infinity),
    u: new Float64Array(n),
    v: new Float64Array(n),
    mask: new Uint8Array(n),
  };
  if (scene.road) drawGround(camera, scene.road, g);
  const prims = scene.primitives;
  const classOf = new Uint8Array(prims.length);
  for (let k = 0; k < prims.length; k++) {
    const p = prims[k]!;
    classOf[k] = p.classId;
    if (p.kind === 'quad') drawQuad(camera, p, k, g);
    else drawEllipsoid(camera, p, k, g);
  }
  for (let i = 0; i < n; i++) {
    const p = g.prim[i]!;
    g.mask[i] = p >= 0 ? classOf[p]! : p === GROUND ? groundClass(scene.road!, g.u[i]!, g.v[i]!) : scene.emptyClass;
  }
  return g;
}
