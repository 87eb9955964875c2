// The pinhole camera: its orthonormal frame, one ray per pixel centre and the projection of world points
// to pixel coordinates (used only to bound the pixels a primitive may cover; coverage itself is decided
// per pixel by intersecting that pixel's ray).
import type { CameraSpec, Vec3 } from './scene.js';

/** Nearest distance (m, along the view axis) anything is drawn at. */
export const NEAR = 0.05;

export interface Camera {
  width: number;
  height: number;
  position: Vec3;
  forward: Vec3;
  right: Vec3;
  up: Vec3;
  /** Focal length in pixels. */
  focal: number;
  /** Ray directions, 3 per pixel, row-major; each has forward component 1, so a ray's t is view depth. */
  rays: Float64Array;
  /** Length of each ray direction: distance = t * rayLength. */
  rayLength: Float64Array;
}

export function makeCamera(spec: CameraSpec, height: number, width: number): Camera {
  const { yaw, pitch } = spec;
  const cy = Math.cos(yaw);
  const sy = Math.sin(yaw);
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  const forward: Vec3 = [sy * cp, sp, cy * cp];
  const right: Vec3 = [cy, 0, -sy];
  const up: Vec3 = [-sy * sp, cp, -cy * sp];
  const focal = width / 2 / Math.tan(spec.fov / 2);
  const rays = new Float64Array(width * height * 3);
  const rayLength = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const b = -(y + 0.5 - height / 2) / focal;
    for (let x = 0; x < width; x++) {
      const a = (x + 0.5 - width / 2) / focal;
      const i = y * width + x;
      const dx = forward[0] + a * right[0] + b * up[0];
      const dy = forward[1] + a * right[1] + b * up[1];
      const dz = forward[2] + a * right[2] + b * up[2];
      rays[i * 3] = dx;
      rays[i * 3 + 1] = dy;
      rays[i * 3 + 2] = dz;
      rayLength[i] = Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return { width, height, position: spec.position, forward, right, up, focal, rays, rayLength };
}

/** View-space coordinates (right, up, depth) of a world point. */
export function toView(cam: Camera, p: Vec3): Vec3 {
  const rx = p[0] - cam.position[0];
  const ry = p[1] - cam.position[1];
  const rz = p[2] - cam.position[2];
  const f = cam.forward;
  const r = cam.right;
  const u = cam.up;
  return [rx * r[0] + ry * r[1] + rz * r[2], rx * u[0] + ry * u[1] + rz * u[2], rx * f[0] + ry * f[1] + rz * f[2]];
}

/** Pixel-space position (x to the right, y down; pixel i's centre is at i + 0.5) of a view-space point in front of the camera. */
export function project(cam: Camera, v: Vec3): [number, number] {
  return [cam.width / 2 + (cam.focal * v[0]) / v[2], cam.height / 2 - (cam.focal * v[1]) / v[2]];
}

export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The pixels (inclusive range, clamped to the picture, one pixel of margin) whose centres may see the
 * convex hull of `points`; null when it lies wholly behind the near plane or off the picture. The hull is
 * clipped at the near plane by intersecting every pair of points with it (a superset of the hull's edges).
 */
export function pixelBounds(cam: Camera, points: Vec3[]): PixelBox | null {
  const n = points.length;
  const vx = new Float64Array(n);
  const vy = new Float64Array(n);
  const vz = new Float64Array(n);
  const [cx, cy, cz] = cam.position;
  const f = cam.forward;
  const r = cam.right;
  const u = cam.up;
  let front = 0;
  for (let k = 0; k < n; k++) {
    const p = points[k]!;
    const rx = p[0] - cx;
    const ry = p[1] - cy;
    const rz = p[2] - cz;
    vx[k] = rx * r[0] + ry * r[1] + rz * r[2];
    vy[k] = rx * u[0] + ry * u[1] + rz * u[2];
    vz[k] = rx * f[0] + ry * f[1] + rz * f[2];
    if (vz[k]! >= NEAR) front++;
  }
  if (front === 0) return null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const hw = cam.width / 2;
  const hh = cam.height / 2;
  const fl = cam.focal;
  const take = (x: number, y: number, z: number): void => {
    const sx = hw + (fl * x) / z;
    const sy = hh - (fl * y) / z;
    if (sx < minX) minX = sx;
    if (sx > maxX) maxX = sx;
    if (sy < minY) minY = sy;
    if (sy > maxY) maxY = sy;
  };
  for (let k = 0; k < n; k++) if (vz[k]! >= NEAR) take(vx[k]!, vy[k]!, vz[k]!);
  if (front < n) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (vz[i]! >= NEAR === vz[j]! >= NEAR) continue;
        const t = (NEAR - vz[i]!) / (vz[j]! - vz[i]!);
        take(vx[i]! + (vx[j]! - vx[i]!) * t, vy[i]! + (vy[j]! - vy[i]!) * t, NEAR);
      }
    }
  }
  const x0 = Math.max(0, Math.floor(minX - 0.5) - 1);
  const y0 = Math.max(0, Math.floor(minY - 0.5) - 1);
  const x1 = Math.min(cam.width - 1, Math.ceil(maxX - 0.5) + 1);
  const y1 = Math.min(cam.height - 1, Math.ceil(maxY - 0.5) + 1);
  if (!(x0 <= x1 && y0 <= y1)) return null;
  return { x0, y0, x1, y1 };
}
