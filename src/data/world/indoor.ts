// The `indoor` world: a room seen from eye height. Floor (planks, tiles or a carpet), walls, ceiling,
// doors and windows in the walls, pictures, and furniture stood on free floor: tables with chairs,
// sofas and beds against the walls, shelves of books, floor lamps, potted plants and people. A ceiling
// light (and the lamps) light it at night; by day the windows show the bright outside.
import type { Rng } from '../random.js';
import { I } from './classes.js';
import { person, place as local } from './props.js';
import { boxQuads, type PointLight, type Primitive, type Quad, type SceneSpec, type Vec3 } from './scene.js';
import type { Material } from './texture.js';

const WALLS: Vec3[] = [
  [0.85, 0.82, 0.75],
  [0.75, 0.8, 0.85],
  [0.88, 0.78, 0.65],
  [0.7, 0.75, 0.65],
  [0.9, 0.9, 0.88],
  [0.8, 0.65, 0.6],
];
const WOODS: Vec3[] = [
  [0.55, 0.38, 0.22],
  [0.4, 0.26, 0.15],
  [0.7, 0.55, 0.38],
  [0.3, 0.2, 0.14],
];
const FABRICS: Vec3[] = [
  [0.3, 0.35, 0.55],
  [0.55, 0.2, 0.2],
  [0.35, 0.45, 0.3],
  [0.6, 0.55, 0.45],
  [0.25, 0.25, 0.27],
  [0.7, 0.6, 0.3],
];

const pick = (rng: Rng, list: Vec3[]): Vec3 => {
  const c = list[rng.int(0, list.length - 1)]!;
  const k = rng.uniform(0.9, 1.1);
  return [c[0] * k, c[1] * k, c[2] * k];
};

/** Axis-aligned footprints on the floor already taken (x0, z0, x1, z1). */
type Rect = [number, number, number, number];
const overlaps = (a: Rect, b: Rect): boolean => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** A random room frame's scene. */
export function indoorScene(rng: Rng): SceneSpec {
  const prims: Primitive[] = [];
  const lights: PointLight[] = [];
  const W = rng.uniform(4, 8);
  const D = rng.uniform(4.5, 9);
  const H = rng.uniform(2.5, 3.2);
  const x0 = -W / 2;
  const x1 = W / 2;
  const z0 = 0;
  const z1 = D;
  const seed = (): number => rng.int(0, 1 << 30);
  const wallMat: Material = { kind: 'plaster', color: pick(rng, WALLS), seed: seed() };
  const floorPick = rng.next();
  const floorMat: Material =
    floorPick < 0.45
      ? { kind: 'planks', color: pick(rng, WOODS), seed: seed() }
      : floorPick < 0.75
        ? { kind: 'tiles', color: [0.8, 0.8, 0.78], color2: [0.55, 0.55, 0.55], seed: seed() }
        : { kind: 'fabric', color: pick(rng, FABRICS), seed: seed() };
  // The room seen from inside: every face points inwards (one-sided, like a box's faces).
  const face = (origin: Vec3, u: Vec3, v: Vec3, classId: number, material: Material): Quad => ({
    kind: 'quad',
    origin,
    u,
    v,
    classId,
    material,
    oneSided: true,
  });
  prims.push(face([x0, 0, z1], [W, 0, 0], [0, 0, -D], I.floor, floorMat));
  prims.push(face([x0, H, z0], [W, 0, 0], [0, 0, D], I.ceiling, { kind: 'plain', color: [0.9, 0.9, 0.88], seed: seed() }));
  // Walls: far (z1), near (z0), left (x0), right (x1); u runs along the wall as seen from inside, v up.
  const walls: { o: Vec3; u: Vec3; len: number; inward: Vec3 }[] = [
    { o: [x0, 0, z1], u: [1, 0, 0], len: W, inward: [0, 0, -1] },
    { o: [x1, 0, z0], u: [-1, 0, 0], len: W, inward: [0, 0, 1] },
    { o: [x0, 0, z0], u: [0, 0, 1], len: D, inward: [1, 0, 0] },
    { o: [x1, 0, z1], u: [0, 0, -1], len: D, inward: [-1, 0, 0] },
  ];
  for (const w of walls) {
    const q = face(w.o, [w.u[0] * w.len, 0, w.u[2] * w.len], [0, H, 0], I.wall, wallMat);
    // Orient inwards: u x v must point into the room.
    const n = [q.u[1] * q.v[2] - q.u[2] * q.v[1], q.u[2] * q.v[0] - q.u[0] * q.v[2], q.u[0] * q.v[1] - q.u[1] * q.v[0]];
    if (n[0]! * w.inward[0] + n[2]! * w.inward[2] < 0) {
      q.origin = [w.o[0] + q.u[0], 0, w.o[2] + q.u[2]];
      q.u = [-q.u[0], 0, -q.u[2]];
    }
    prims.push(q);
  }
  // Things hung on a wall: a flat quad just in front of it, spanning [a, a+len] along it, [b, b+h] up.
  const onWall = (w: (typeof walls)[number], a: number, len: number, b: number, h: number, classId: number, material: Material, offset = 0.02): void => {
    const o: Vec3 = [w.o[0] + w.u[0] * a + w.inward[0] * offset, b, w.o[2] + w.u[2] * a + w.inward[2] * offset];
    prims.push({ kind: 'quad', origin: o, u: [w.u[0] * len, 0, w.u[2] * len], v: [0, h, 0], classId, material });
  };
  // Footprints taken: keep the camera's corner clear.
  const camX = rng.uniform(x0 + 0.8, x1 - 0.8);
  const taken: Rect[] = [[camX - 0.8, z0, camX + 0.8, z0 + 1.6]];
  // Spans along each wall already used by doors, windows, furniture.
  const used: [number, number][][] = walls.map(() => []);
  const freeSpan = (k: number, len: number): number | null => {
    const w = walls[k]!;
    for (let tries = 0; tries < 12; tries++) {
      const a = rng.uniform(0.2, w.len - len - 0.2);
      if (a < 0.2) return null;
      if (used[k]!.every(([s, e]) => a + len < s - 0.1 || a > e + 0.1)) {
        used[k]!.push([a, a + len]);
        return a;
      }
    }
    return null;
  };
  const doorMat = (): Material => ({ kind: 'planks', color: pick(rng, WOODS), seed: seed() });
  for (let k = rng.int(1, 2); k > 0; k--) {
    const wi = rng.int(0, 3);
    const a = freeSpan(wi, 0.95);
    if (a !== null) {
      onWall(walls[wi]!, a, 0.95, 0, 2.05, I.door, doorMat());
      const w = walls[wi]!;
      taken.push(footprint(w, a - 0.1, 1.15, 1.0));
    }
  }
  for (let k = rng.int(0, 3); k > 0; k--) {
    const wi = rng.int(0, 3);
    const ww = rng.uniform(0.9, 1.8);
    const wh = rng.uniform(1.1, 1.5);
    const a = freeSpan(wi, ww);
    if (a !== null)
      onWall(walls[wi]!, a, ww, rng.uniform(0.8, 1.0), wh, I.window, {
        kind: 'window',
        color: [0.75, 0.85, 0.95],
        color2: [0.92, 0.92, 0.9],
        seed: seed(),
        size: [ww, wh],
      });
  }
  for (let k = rng.int(0, 2); k > 0; k--) {
    const wi = rng.int(0, 3);
    const pw = rng.uniform(0.5, 1.1);
    const ph = pw * rng.uniform(0.6, 0.9);
    const a = freeSpan(wi, pw);
    if (a !== null)
      onWall(walls[wi]!, a, pw, rng.uniform(1.3, 1.7), ph, I.picture, {
        kind: 'picture',
        color: [0.3, 0.45, 0.2],
        color2: pick(rng, WOODS),
        seed: seed(),
        size: [pw, ph],
      });
  }

  const place = (w: number, d: number, tries = 20): [number, number] | null => {
    for (let t = 0; t < tries; t++) {
      const cx = rng.uniform(x0 + w / 2 + 0.05, x1 - w / 2 - 0.05);
      const cz = rng.uniform(z0 + d / 2 + 0.05, z1 - d / 2 - 0.05);
      const r: Rect = [cx - w / 2, cz - d / 2, cx + w / 2, cz + d / 2];
      if (taken.every((o) => !overlaps(o, r))) {
        taken.push(r);
        return [cx, cz];
      }
    }
    return null;
  };
  // Against a wall: the footprint's back on the wall, facing into the room.
  const againstWall = (w: number, d: number): { at: Vec3; yaw: number } | null => {
    for (let t = 0; t < 12; t++) {
      const wi = rng.int(0, 3);
      const wall = walls[wi]!;
      if (wall.len < w + 0.4) continue;
      const a = rng.uniform(0.1, wall.len - w - 0.1);
      const r = footprint(wall, a, w, d);
      if (taken.every((o) => !overlaps(o, r)) && used[wi]!.every(([s, e]) => a + w < s || a > e)) {
        taken.push(r);
        const mid = a + w / 2;
        const at: Vec3 = [wall.o[0] + wall.u[0] * mid + wall.inward[0] * (d / 2 + 0.01), 0, wall.o[2] + wall.u[2] * mid + wall.inward[2] * (d / 2 + 0.01)];
        // Local +z (the front) along the inward normal.
        return { at, yaw: Math.atan2(wall.inward[0], wall.inward[2]) };
      }
    }
    return null;
  };

  const furniture = rng.int(2, 6);
  for (let k = 0; k < furniture; k++) {
    const what = rng.next();
    const wood: Material = { kind: 'wood', color: pick(rng, WOODS), seed: seed() };
    const cloth: Material = { kind: 'fabric', color: pick(rng, FABRICS), seed: seed() };
    if (what < 0.25) {
      // A table, with chairs around it.
      const tw = rng.uniform(0.8, 1.8);
      const td = rng.uniform(0.7, 1.0);
      const spot = place(tw + 1.1, td + 1.1);
      if (!spot) continue;
      const [cx, cz] = spot;
      const th = rng.uniform(0.72, 0.78);
      prims.push(...boxQuads({ base: [cx, th - 0.05, cz], size: [tw, 0.05, td], classId: I.table, material: wood }));
      for (const sx of [-1, 1])
        for (const sz of [-1, 1])
          prims.push(
            ...boxQuads({
              base: [cx + sx * (tw / 2 - 0.06), 0, cz + sz * (td / 2 - 0.06)],
              size: [0.06, th - 0.05, 0.06],
              classId: I.table,
              material: wood,
              open: true,
            }),
          );
      const chairMat: Material = { kind: 'wood', color: pick(rng, WOODS), seed: seed() };
      for (const [dx, dz, yaw] of [
        [0, -1, 0],
        [0, 1, Math.PI],
        [-1, 0, Math.PI / 2],
        [1, 0, -Math.PI / 2],
      ] as const) {
        if (rng.next() < 0.4) continue;
        const px = cx + dx * (tw / 2 + 0.35);
        const pz = cz + dz * (td / 2 + 0.35);
        chair(prims, [px, 0, pz], yaw, chairMat);
      }
    } else if (what < 0.42) {
      const sw = rng.uniform(1.6, 2.4);
      const spot = againstWall(sw, 0.9);
      if (!spot) continue;
      sofa(prims, spot.at, spot.yaw, sw, cloth);
    } else if (what < 0.55) {
      const bw = rng.uniform(1.0, 1.8);
      const spot = againstWall(bw, 2.05);
      if (!spot) continue;
      bed(prims, spot.at, spot.yaw, bw, wood, { kind: 'fabric', color: pick(rng, FABRICS), seed: seed() });
    } else if (what < 0.72) {
      const sw = rng.uniform(0.8, 2);
      const spot = againstWall(sw, 0.38);
      if (!spot) continue;
      const sh = rng.uniform(1.2, Math.min(2.3, H - 0.2));
      prims.push(...boxQuads({ base: spot.at, size: [sw, sh, 0.36], yaw: spot.yaw, classId: I.shelf, material: wood }));
      // The open front: book spines in rows.
      const f = local(spot.at, spot.yaw, -sw / 2 + 0.04, 0.05, 0.185);
      const ux = Math.cos(spot.yaw);
      const uz = -Math.sin(spot.yaw);
      prims.push({
        kind: 'quad',
        origin: f,
        u: [ux * (sw - 0.08), 0, uz * (sw - 0.08)],
        v: [0, sh - 0.1, 0],
        classId: I.shelf,
        material: { kind: 'books', color: wood.color, seed: seed() },
      });
    } else if (what < 0.82) {
      const spot = place(0.5, 0.5);
      if (!spot) continue;
      const lh = rng.uniform(1.4, 1.8);
      const at: Vec3 = [spot[0], 0, spot[1]];
      prims.push(...boxQuads({ base: at, size: [0.3, 0.04, 0.3], classId: I.lamp, material: { kind: 'plain', color: [0.2, 0.2, 0.2], seed: seed() } }));
      prims.push(
        ...boxQuads({ base: at, size: [0.04, lh, 0.04], classId: I.lamp, material: { kind: 'plain', color: [0.3, 0.3, 0.3], seed: seed() }, open: true }),
      );
      prims.push({
        kind: 'ellipsoid',
        center: [at[0], lh + 0.08, at[2]],
        radii: [0.22, 0.17, 0.22],
        classId: I.lamp,
        material: { kind: 'lamp', color: [1, 0.9, 0.7], seed: seed() },
      });
      lights.push({ position: [at[0], lh + 0.05, at[2]], color: [0.9, 0.75, 0.5], reach: 1.6 });
    } else if (what < 0.92) {
      const spot = place(0.6, 0.6);
      if (!spot) continue;
      const ph = rng.uniform(0.3, 0.5);
      prims.push(
        ...boxQuads({
          base: [spot[0], 0, spot[1]],
          size: [0.35, ph, 0.35],
          classId: I.plant,
          material: { kind: 'plain', color: [0.6, 0.35, 0.25], seed: seed() },
        }),
      );
      const r = rng.uniform(0.25, 0.5);
      const green: Vec3 = [0.15, rng.uniform(0.35, 0.5), 0.12];
      prims.push({
        kind: 'ellipsoid',
        center: [spot[0], ph + r * 0.9, spot[1]],
        radii: [r, r * rng.uniform(1, 1.6), r],
        classId: I.plant,
        material: { kind: 'foliage', color: green, color2: [green[0] * 1.6, green[1] * 1.4, green[2] * 1.5], seed: seed() },
      });
    } else {
      const spot = place(0.6, 0.6);
      if (!spot) continue;
      person(prims, rng, [spot[0], 0, spot[1]], rng.uniform(-Math.PI, Math.PI), I.person);
    }
  }
  // The ceiling light.
  const lx = rng.uniform(x0 + 1, x1 - 1);
  const lz = rng.uniform(z0 + 1.5, z1 - 1);
  prims.push({
    kind: 'ellipsoid',
    center: [lx, H - 0.05, lz],
    radii: [0.3, 0.1, 0.3],
    classId: I.lamp,
    material: { kind: 'lamp', color: [1, 0.97, 0.9], seed: seed() },
  });
  lights.push({ position: [lx, H - 0.3, lz], color: [0.9, 0.85, 0.75], reach: 2.6 });

  const camera = {
    position: [camX, rng.uniform(1.2, 1.7), z0 + rng.uniform(0.25, 0.6)] as Vec3,
    yaw: rng.uniform(-0.6, 0.6),
    pitch: rng.uniform(-0.3, 0.02),
    fov: (rng.uniform(75, 95) * Math.PI) / 180,
  };
  const sun: Vec3 = [rng.uniform(-1, 1), rng.uniform(0.6, 1.2), rng.uniform(-1, 1)];
  return { world: 'indoor', camera, road: null, primitives: prims, lights, sun, emptyClass: I.unlabeled };
}

/** The floor rectangle of something `w` wide and `d` deep with its back on `wall` from `a` along it. */
function footprint(wall: { o: Vec3; u: Vec3; inward: Vec3 }, a: number, w: number, d: number): Rect {
  const p0: Vec3 = [wall.o[0] + wall.u[0] * a, 0, wall.o[2] + wall.u[2] * a];
  const p1: Vec3 = [p0[0] + wall.u[0] * w + wall.inward[0] * d, 0, p0[2] + wall.u[2] * w + wall.inward[2] * d];
  return [Math.min(p0[0], p1[0]), Math.min(p0[2], p1[2]), Math.max(p0[0], p1[0]), Math.max(p0[2], p1[2])];
}

function chair(out: Primitive[], at: Vec3, yaw: number, m: Material): void {
  out.push(...boxQuads({ base: local(at, yaw, 0, 0.42, 0), size: [0.44, 0.05, 0.42], yaw, classId: I.chair, material: m }));
  for (const sx of [-1, 1])
    for (const sz of [-1, 1])
      out.push(...boxQuads({ base: local(at, yaw, sx * 0.19, 0, sz * 0.18), size: [0.04, 0.42, 0.04], yaw, classId: I.chair, material: m, open: true }));
  out.push(...boxQuads({ base: local(at, yaw, 0, 0.47, -0.19), size: [0.44, 0.45, 0.04], yaw, classId: I.chair, material: m }));
}

function sofa(out: Primitive[], at: Vec3, yaw: number, w: number, m: Material): void {
  out.push(...boxQuads({ base: at, size: [w, 0.42, 0.88], yaw, classId: I.sofa, material: m, open: true }));
  out.push(...boxQuads({ base: local(at, yaw, 0, 0.42, -0.32), size: [w, 0.42, 0.22], yaw, classId: I.sofa, material: m }));
  for (const sx of [-1, 1])
    out.push(...boxQuads({ base: local(at, yaw, sx * (w / 2 - 0.1), 0.42, 0.05), size: [0.2, 0.2, 0.78], yaw, classId: I.sofa, material: m }));
}

function bed(out: Primitive[], at: Vec3, yaw: number, w: number, frame: Material, cover: Material): void {
  out.push(...boxQuads({ base: at, size: [w, 0.3, 2.0], yaw, classId: I.bed, material: frame, open: true }));
  out.push(...boxQuads({ base: local(at, yaw, 0, 0.3, 0.02), size: [w - 0.04, 0.22, 1.94], yaw, classId: I.bed, material: cover }));
  out.push(
    ...boxQuads({
      base: local(at, yaw, 0, 0.52, -0.75),
      size: [w * 0.8, 0.12, 0.4],
      yaw,
      classId: I.bed,
      material: { kind: 'fabric', color: [0.9, 0.9, 0.88], seed: 1 },
    }),
  );
  out.push(...boxQuads({ base: local(at, yaw, 0, 0, -1.02), size: [w, 1.0, 0.06], yaw, classId: I.bed, material: frame }));
}
