// Shading: the colour of every pixel from the G-buffer (which surface, where on it, how far), the
// scene's lights and a look. Day light is a sun and a sky; night light is a dim sky, the street lamps and
// ceiling lights of the scene, the camera car's headlights and whatever glows (lit windows, lamps,
// traffic lights, car lights). The sky is a gradient with clouds by day, stars by night. Nothing here
// reads or writes the mask: a look changes only the picture.
import { fbm, hash2, shadeMaterial, WARM, type MaterialSample } from './texture.js';
import { groundMaterial, groundMaterials } from './ground.js';
import { GROUND, NOTHING, type GBuffer } from './rasterise.js';
import type { SceneSpec, Vec3 } from './scene.js';

export interface Lighting {
  night: boolean;
  /** Flat colours and banded light (the toon look). */
  flat: boolean;
  /** Sun strength (0: overcast) and sky (ambient) light. */
  sun: number;
  ambient: number;
}

const WINDOW = 1;
const FACADE = 2;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

function skyColour(dx: number, dy: number, dz: number, len: number, light: Lighting, seed: number, out: Float32Array, o: number): void {
  const e = dy / len;
  if (light.night) {
    const k = clamp01(e * 3);
    out[o] = 0.06 - 0.05 * k;
    out[o + 1] = 0.07 - 0.05 * k;
    out[o + 2] = 0.14 - 0.09 * k;
    if (e > 0.05 && hash2(Math.floor((dx / dy) * 60), Math.floor((dz / dy) * 60), seed) > 0.996) {
      out[o] = out[o + 1] = out[o + 2] = 0.8;
    }
    return;
  }
  const k = light.flat ? (e > 0.25 ? 1 : e > 0.08 ? 0.5 : 0) : clamp01(e * 2.5);
  let r = 0.8 + (0.33 - 0.8) * k;
  let g = 0.85 + (0.52 - 0.85) * k;
  let b = 0.93 + (0.84 - 0.93) * k;
  if (e > 0.02 && !light.flat) {
    // Clouds on a plane 1 km up.
    const c = clamp01((fbm((dx / dy) * 1.5, (dz / dy) * 1.5, seed) - 0.5) * 4);
    r += (0.95 - r) * c * 0.8;
    g += (0.95 - g) * c * 0.8;
    b += (0.96 - b) * c * 0.8;
  }
  out[o] = r;
  out[o + 1] = g;
  out[o + 2] = b;
}

/** The scene's colours at the G-buffer's pixels, RGB float (0..1, may exceed 1 where things glow). */
export function shade(scene: SceneSpec, g: GBuffer, light: Lighting, skySeed: number): Float32Array {
  const cam = g.camera;
  const n = cam.width * cam.height;
  const img = new Float32Array(n * 3);
  const [cx, cy, cz] = cam.position;
  const sunLen = Math.hypot(...scene.sun) || 1;
  const L: Vec3 = [scene.sun[0] / sunLen, scene.sun[1] / sunLen, scene.sun[2] / sunLen];
  const ground = scene.road ? groundMaterials(scene.road) : null;
  // Unit normals of the quads (u x v), and which primitives are windows (lit from outside) or facades (warm glow).
  const count = scene.primitives.length;
  const normals = new Float64Array(count * 3);
  const role = new Uint8Array(count);
  scene.primitives.forEach((p, k) => {
    role[k] = p.material.kind === 'window' ? WINDOW : p.material.kind === 'facade' ? FACADE : 0;
    if (p.kind !== 'quad') return;
    const nx = p.u[1] * p.v[2] - p.u[2] * p.v[1];
    const ny = p.u[2] * p.v[0] - p.u[0] * p.v[2];
    const nz = p.u[0] * p.v[1] - p.u[1] * p.v[0];
    const l = Math.hypot(nx, ny, nz) || 1;
    normals[k * 3] = nx / l;
    normals[k * 3 + 1] = ny / l;
    normals[k * 3 + 2] = nz / l;
  });
  // Headlights: from the camera car's front, along the ground in the view direction.
  const fl = Math.hypot(cam.forward[0], cam.forward[2]) || 1;
  const hx = cam.forward[0] / fl;
  const hz = cam.forward[2] / fl;
  const sample: MaterialSample = { r: 0, g: 0, b: 0, glow: 0 };
  const indoor = scene.world === 'indoor';
  for (let i = 0; i < n; i++) {
    const p = g.prim[i]!;
    const dx = cam.rays[i * 3]!;
    const dy = cam.rays[i * 3 + 1]!;
    const dz = cam.rays[i * 3 + 2]!;
    if (p === NOTHING) {
      skyColour(dx, dy, dz, cam.rayLength[i]!, light, skySeed, img, i * 3);
      continue;
    }
    const t = g.depth[i]!;
    const px = cx + t * dx;
    const py = cy + t * dy;
    const pz = cz + t * dz;
    let nx = 0;
    let ny = 1;
    let nz = 0;
    let kind = 0;
    if (p === GROUND) {
      shadeMaterial(groundMaterial(scene.road!, g.mask[i]!, px, pz, ground!), g.u[i]!, g.v[i]!, light.flat, sample);
    } else {
      const prim = scene.primitives[p]!;
      kind = role[p]!;
      shadeMaterial(prim.material, g.u[i]!, g.v[i]!, light.flat, sample);
      if (prim.kind === 'quad') {
        nx = normals[p * 3]!;
        ny = normals[p * 3 + 1]!;
        nz = normals[p * 3 + 2]!;
        if (nx * dx + ny * dy + nz * dz > 0) {
          nx = -nx;
          ny = -ny;
          nz = -nz;
        }
      } else {
        const [rx, ry, rz] = prim.radii;
        nx = (px - prim.center[0]) / (rx * rx);
        ny = (py - prim.center[1]) / (ry * ry);
        nz = (pz - prim.center[2]) / (rz * rz);
        const l = Math.hypot(nx, ny, nz) || 1;
        nx /= l;
        ny /= l;
        nz /= l;
      }
    }
    let lr: number;
    let lg: number;
    let lb: number;
    let glow = 0;
    if (!light.night) {
      let diffuse = Math.max(0, nx * L[0] + ny * L[1] + nz * L[2]);
      if (light.flat) diffuse = diffuse > 0.45 ? 1 : diffuse > 0.1 ? 0.55 : 0.15;
      // Outdoors the sky lights what faces up most; a room's light comes from all round.
      const sky = light.ambient * (indoor ? 0.95 + 0.05 * ny : 0.75 + 0.25 * ny);
      const sun = indoor ? light.sun * 0.35 : light.sun;
      lr = sky + sun * diffuse;
      lg = sky + sun * diffuse * 0.97;
      lb = sky * 1.04 + sun * diffuse * 0.9;
      // Windows of a room show the bright day outside, whatever the room's light.
      if (kind === WINDOW) glow = sample.glow;
    } else {
      lr = 0.05;
      lg = 0.06;
      lb = 0.1;
      for (const l of scene.lights) {
        const ldx = l.position[0] - px;
        const ldy = l.position[1] - py;
        const ldz = l.position[2] - pz;
        const d2 = ldx * ldx + ldy * ldy + ldz * ldz;
        // Beyond 5 reaches a lamp adds under 4% of its light: skip it.
        if (d2 > 25 * l.reach * l.reach) continue;
        const d = Math.sqrt(d2) || 1;
        const facing = Math.max(0, (nx * ldx + ny * ldy + nz * ldz) / d);
        if (facing === 0) continue;
        const k = facing / (1 + d2 / (l.reach * l.reach));
        lr += l.color[0] * k;
        lg += l.color[1] * k;
        lb += l.color[2] * k;
      }
      if (scene.world === 'town') {
        // Headlights: a cone along the road ahead, falling off with distance.
        const ox = px - cx;
        const oz = pz - cz;
        const oy = py - 0.7;
        const d = Math.hypot(ox, oy, oz) || 1;
        const along = (ox * hx + oz * hz) / d;
        if (along > 0.8) {
          const cone = (along - 0.8) / 0.2;
          const facing = Math.max(0, -(nx * ox + ny * oy + nz * oz) / d);
          const k = (1.2 * cone * cone * facing) / (1 + (d / 14) * (d / 14));
          lr += k;
          lg += k * 0.95;
          lb += k * 0.8;
        }
      }
      glow = kind === WINDOW ? 0 : sample.glow;
      if (kind === WINDOW) {
        sample.r = 0.04;
        sample.g = 0.05;
        sample.b = 0.1;
      }
    }
    const o = i * 3;
    if (glow > 0) {
      const warm = kind === FACADE;
      const k = (kind === WINDOW && !light.night ? 1 : warm ? 1.05 : 1.3) * glow;
      img[o] = sample.r * lr * (1 - glow) + (warm ? WARM[0] : sample.r) * k;
      img[o + 1] = sample.g * lg * (1 - glow) + (warm ? WARM[1] : sample.g) * k;
      img[o + 2] = sample.b * lb * (1 - glow) + (warm ? WARM[2] : sample.b) * k;
    } else {
      img[o] = sample.r * lr;
      img[o + 1] = sample.g * lg;
      img[o + 2] = sample.b * lb;
    }
  }
  return img;
}
