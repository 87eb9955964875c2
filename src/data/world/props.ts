// Objects built from boxes, quads and ellipsoids: people, cars, trees, street furniture. Each builder
// appends its primitives (all of one class unless it says otherwise) and returns nothing else; sizes are
// in metres, `at` is the point on the ground the object stands on, `yaw` its heading.
import type { Rng } from '../random.js';
import { boxQuads, type Primitive, type Vec3 } from './scene.js';
import type { Material } from './texture.js';

const rgb = (rng: Rng, palette: Vec3[]): Vec3 => {
  const c = palette[rng.int(0, palette.length - 1)]!;
  const k = rng.uniform(0.85, 1.1);
  return [c[0] * k, c[1] * k, c[2] * k];
};

const CLOTHES: Vec3[] = [
  [0.15, 0.18, 0.3],
  [0.5, 0.1, 0.1],
  [0.2, 0.35, 0.2],
  [0.6, 0.55, 0.45],
  [0.1, 0.1, 0.1],
  [0.7, 0.7, 0.72],
  [0.3, 0.2, 0.45],
  [0.75, 0.5, 0.15],
];
const SKIN: Vec3[] = [
  [0.93, 0.76, 0.62],
  [0.78, 0.57, 0.42],
  [0.55, 0.38, 0.26],
  [0.36, 0.24, 0.16],
];
const CAR_PAINT: Vec3[] = [
  [0.75, 0.08, 0.08],
  [0.1, 0.2, 0.55],
  [0.85, 0.85, 0.85],
  [0.12, 0.12, 0.13],
  [0.45, 0.47, 0.5],
  [0.15, 0.4, 0.25],
  [0.85, 0.65, 0.1],
  [0.55, 0.55, 0.6],
];

const plain = (color: Vec3, seed: number, kind: Material['kind'] = 'plain'): Material => ({ kind, color, seed });

/** Offsets a local (x sideways, z forward) position by heading `yaw` from `at`. */
export function place(at: Vec3, yaw: number, x: number, y: number, z: number): Vec3 {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return [at[0] + x * c + z * s, at[1] + y, at[2] - x * s + z * c];
}

/** A standing person about `height` tall: legs, torso, arms and a head. */
export function person(out: Primitive[], rng: Rng, at: Vec3, yaw: number, classId: number, height = rng.uniform(1.55, 1.9)): void {
  const k = height / 1.75;
  const seed = rng.int(0, 1 << 30);
  const top = plain(rgb(rng, CLOTHES), seed, 'fabric');
  const legs = plain(rgb(rng, CLOTHES), seed + 1, 'fabric');
  const skin = plain(rgb(rng, SKIN), seed + 2);
  const stride = rng.uniform(-0.12, 0.12);
  for (const side of [-1, 1]) {
    out.push(...boxQuads({ base: place(at, yaw, side * 0.1 * k, 0, side * stride * k), size: [0.14 * k, 0.86 * k, 0.16 * k], yaw, classId, material: legs }));
    out.push(
      ...boxQuads({
        base: place(at, yaw, side * 0.25 * k, 0.78 * k, -side * stride * 0.6 * k),
        size: [0.09 * k, 0.6 * k, 0.1 * k],
        yaw,
        classId,
        material: top,
      }),
    );
  }
  out.push(...boxQuads({ base: place(at, yaw, 0, 0.84 * k, 0), size: [0.42 * k, 0.6 * k, 0.24 * k], yaw, classId, material: top }));
  out.push({ kind: 'ellipsoid', center: place(at, yaw, 0, 1.6 * k, 0), radii: [0.11 * k, 0.14 * k, 0.12 * k], classId, material: skin });
}

export interface CarSize {
  length: number;
  width: number;
  height: number;
}

/** A car (or, `van`, a taller box van): body, cabin with windows, wheels, head and tail lights. */
export function car(out: Primitive[], rng: Rng, at: Vec3, yaw: number, classId: number, van = false): CarSize {
  const seed = rng.int(0, 1 << 30);
  const paint: Material = { kind: 'metal', color: rgb(rng, CAR_PAINT), seed };
  const glass: Material = { kind: 'glass', color: [0.12, 0.15, 0.2], seed: seed + 1 };
  const rubber: Material = { kind: 'rubber', color: [0.05, 0.05, 0.05], seed };
  const L = van ? rng.uniform(5, 6.5) : rng.uniform(3.9, 4.8);
  const W = van ? rng.uniform(1.9, 2.2) : rng.uniform(1.7, 1.9);
  const bodyH = van ? rng.uniform(1.6, 2.1) : rng.uniform(0.6, 0.75);
  const clear = 0.3;
  out.push(...boxQuads({ base: place(at, yaw, 0, clear, 0), size: [W, bodyH, L], yaw, classId, material: paint }));
  let height = clear + bodyH;
  if (!van) {
    const cabL = L * rng.uniform(0.45, 0.55);
    const cabH = rng.uniform(0.45, 0.6);
    out.push(...boxQuads({ base: place(at, yaw, 0, clear + bodyH, -L * 0.06), size: [W * 0.9, cabH, cabL], yaw, classId, material: glass, top: paint }));
    height += cabH;
  } else {
    // The van's windscreen.
    const f = place(at, yaw, -W * 0.45, clear + bodyH * 0.55, L / 2 + 0.01);
    out.push({ kind: 'quad', origin: f, u: place([0, 0, 0], yaw, W * 0.9, 0, 0), v: [0, bodyH * 0.4, 0], classId, material: glass });
  }
  for (const sx of [-1, 1]) {
    for (const sz of [-1, 1]) {
      out.push(...boxQuads({ base: place(at, yaw, sx * (W / 2 - 0.12), 0, sz * (L / 2 - 0.75)), size: [0.26, 0.62, 0.62], yaw, classId, material: rubber }));
    }
    // Lights: white at the front (+z local), red at the back, just outside the body.
    const lamp = (z: number, color: Vec3): void => {
      const o = place(at, yaw, sx * (W / 2 - 0.2) - 0.15, clear + bodyH * 0.55, z);
      out.push({ kind: 'quad', origin: o, u: place([0, 0, 0], yaw, 0.3, 0, 0), v: [0, 0.12, 0], classId, material: { kind: 'lamp', color, seed } });
    };
    lamp(L / 2 + 0.01, [1, 0.95, 0.8]);
    lamp(-L / 2 - 0.01, [0.9, 0.05, 0.05]);
  }
  return { length: L, width: W, height };
}

/** A tree: a trunk and one to three crown ellipsoids, all vegetation. */
export function tree(out: Primitive[], rng: Rng, at: Vec3, classId: number): { top: number } {
  const seed = rng.int(0, 1 << 30);
  const h = rng.uniform(2, 4);
  out.push(...boxQuads({ base: at, size: [0.3, h + 0.5, 0.3], classId, material: { kind: 'bark', color: [0.3, 0.22, 0.15], seed }, open: true }));
  const green: Vec3 = [rng.uniform(0.1, 0.2), rng.uniform(0.28, 0.4), rng.uniform(0.06, 0.14)];
  const leaves: Material = { kind: 'foliage', color: green, color2: [green[0] * 1.8, green[1] * 1.5, green[2] * 1.4], seed: seed + 1 };
  const r = rng.uniform(1.4, 2.6);
  const blobs = rng.int(1, 3);
  for (let b = 0; b < blobs; b++) {
    const ox = b === 0 ? 0 : rng.uniform(-0.8, 0.8);
    const oz = b === 0 ? 0 : rng.uniform(-0.8, 0.8);
    const rr = b === 0 ? r : r * rng.uniform(0.6, 0.85);
    out.push({
      kind: 'ellipsoid',
      center: [at[0] + ox, h + rr * 0.8 + rng.uniform(-0.3, 0.4), at[2] + oz],
      radii: [rr, rr * rng.uniform(0.8, 1.1), rr],
      classId,
      material: leaves,
    });
  }
  return { top: h + 2 * r };
}

/** A street lamp on the pavement: the pole with an arm over the road (`towards` +1 or -1 in x) and its lamp. */
export function streetLamp(out: Primitive[], rng: Rng, at: Vec3, towards: number, classId: number): Vec3 {
  const seed = rng.int(0, 1 << 30);
  const metal: Material = { kind: 'plain', color: [0.35, 0.36, 0.38], seed };
  const h = rng.uniform(6, 8);
  const arm = rng.uniform(1.2, 2.2);
  out.push(...boxQuads({ base: at, size: [0.18, h, 0.18], classId, material: metal, open: true }));
  out.push(...boxQuads({ base: [at[0] + (towards * arm) / 2, h - 0.1, at[2]], size: [arm, 0.12, 0.12], classId, material: metal }));
  const head: Vec3 = [at[0] + towards * arm, h - 0.25, at[2]];
  out.push(...boxQuads({ base: head, size: [0.5, 0.2, 0.3], classId, material: { kind: 'lamp', color: [1, 0.9, 0.7], seed } }));
  return head;
}

/** A traffic sign on a pole, facing -z (towards oncoming traffic); the pole is `poleClass`. */
export function trafficSign(out: Primitive[], rng: Rng, at: Vec3, poleClass: number, signClass: number): void {
  const seed = rng.int(0, 1 << 30);
  const h = rng.uniform(2.2, 2.8);
  out.push(...boxQuads({ base: at, size: [0.08, h, 0.08], classId: poleClass, material: { kind: 'plain', color: [0.5, 0.5, 0.52], seed }, open: true }));
  const variant = rng.int(0, 3);
  const s = rng.uniform(0.6, 0.8);
  const shape = variant <= 1 ? { kind: 'disc' as const } : variant === 2 ? { kind: 'rect' as const } : { kind: 'triangle' as const };
  out.push({
    kind: 'quad',
    origin: [at[0] - s / 2, h - 0.05, at[2] - 0.06],
    u: [s, 0, 0],
    v: [0, s, 0],
    classId: signClass,
    material: { kind: 'sign', color: [0.9, 0.9, 0.9], seed, size: [s, s], variant },
    shape,
  });
  // The sign's back (grey metal), so it shows from behind too.
  out.push({
    kind: 'quad',
    origin: [at[0] + s / 2, h - 0.05, at[2] - 0.055],
    u: [-s, 0, 0],
    v: [0, s, 0],
    classId: signClass,
    material: { kind: 'plain', color: [0.55, 0.55, 0.57], seed },
    shape,
    oneSided: true,
  });
}

/** A traffic light: a pole (`poleClass`) and a housing with three lamps facing -z (`lightClass`). */
export function trafficLight(out: Primitive[], rng: Rng, at: Vec3, towards: number, poleClass: number, lightClass: number): Vec3 {
  const seed = rng.int(0, 1 << 30);
  const metal: Material = { kind: 'plain', color: [0.3, 0.32, 0.3], seed };
  const h = rng.uniform(3.2, 4.5);
  const arm = rng.uniform(0, 3.5);
  out.push(...boxQuads({ base: at, size: [0.16, h, 0.16], classId: poleClass, material: metal, open: true }));
  if (arm > 0.5) out.push(...boxQuads({ base: [at[0] + (towards * arm) / 2, h - 0.1, at[2]], size: [arm, 0.1, 0.1], classId: poleClass, material: metal }));
  const x = at[0] + towards * (arm > 0.5 ? arm : 0);
  const hw = 0.34;
  const hh = 0.9;
  const dark: Material = { kind: 'plain', color: [0.08, 0.08, 0.08], seed };
  out.push(...boxQuads({ base: [x, h - hh - 0.05, at[2]], size: [hw, hh, 0.25], classId: lightClass, material: dark }));
  const face: Material = { kind: 'trafficlight', color: [0.08, 0.08, 0.08], seed, size: [hw, hh], variant: rng.int(0, 2) };
  out.push({ kind: 'quad', origin: [x - hw / 2, h - hh - 0.05, at[2] - 0.13], u: [hw, 0, 0], v: [0, hh, 0], classId: lightClass, material: face });
  return [x, h - hh / 2, at[2] - 0.3];
}
