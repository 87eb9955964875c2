// The `town` world: a street seen from a car. A road (2 or 4 lanes, sometimes with parking strips and a
// cross street with crosswalks and traffic lights) on a ground plane, sidewalks, buildings with windows
// in rows on both sides (or open verges with trees and guard rails), walls, fences and hedges in the gaps,
// street lamps, signs, benches and bins, cars and vans in the lanes, pedestrians, now and then a bridge
// over the road, a skyline far away, and the sky. Camera height, pitch, yaw and field of view vary.
// Every choice comes from `rng`, so a frame is a pure function of its seed keys.
import type { Rng } from '../random.js';
import { T } from './classes.js';
import { car, person, streetLamp, trafficLight, trafficSign, tree } from './props.js';
import { boxQuads, type PointLight, type Primitive, type RoadLayout, type SceneSpec, type Vec3 } from './scene.js';
import type { Material } from './texture.js';

const FACADES: { color: Vec3; frame: Vec3 }[] = [
  { color: [0.55, 0.27, 0.2], frame: [0.85, 0.82, 0.75] }, // red brick
  { color: [0.78, 0.72, 0.6], frame: [0.35, 0.3, 0.25] }, // sandstone
  { color: [0.6, 0.6, 0.62], frame: [0.25, 0.25, 0.27] }, // concrete
  { color: [0.85, 0.85, 0.82], frame: [0.4, 0.45, 0.5] }, // white render
  { color: [0.45, 0.5, 0.58], frame: [0.8, 0.8, 0.8] }, // blue-grey
  { color: [0.7, 0.55, 0.4], frame: [0.95, 0.93, 0.88] }, // ochre
];

function facade(rng: Rng): Material {
  const f = FACADES[rng.int(0, FACADES.length - 1)]!;
  const k = rng.uniform(0.85, 1.1);
  return {
    kind: 'facade',
    color: [f.color[0] * k, f.color[1] * k, f.color[2] * k],
    color2: f.frame,
    seed: rng.int(0, 1 << 30),
    cell: [rng.uniform(2.4, 3.8), rng.uniform(3, 3.6)],
    window: [rng.uniform(0.35, 0.65), rng.uniform(0.4, 0.6)],
    lit: rng.uniform(0.15, 0.55),
  };
}

const roof = (rng: Rng): Material => ({ kind: 'plain', color: [0.25, 0.24, 0.24], seed: rng.int(0, 1 << 30) });

/** A random town frame's scene. */
export function townScene(rng: Rng): SceneSpec {
  const prims: Primitive[] = [];
  const lights: PointLight[] = [];
  const lanes = rng.next() < 0.6 ? 2 : 4;
  const laneW = rng.uniform(3.1, 3.7);
  const parking = rng.next() < 0.35 ? 2.3 : 0;
  const R = (lanes * laneW) / 2 + parking;
  const open = [rng.next() < 0.2, rng.next() < 0.2];
  const sidewalk = open[0] && open[1] ? (rng.next() < 0.5 ? 0 : rng.uniform(1.5, 2.5)) : rng.uniform(2, 4.5);
  const cross = rng.next() < 0.45 ? { z: rng.uniform(18, 60), halfWidth: rng.uniform(3.5, 7) } : null;
  const road: RoadLayout = {
    halfWidth: R,
    lanes,
    sidewalk,
    verge: rng.next() < 0.75 ? 'terrain' : 'ground',
    markings: rng.next() < 0.9,
    cross,
    far: 320,
    seed: rng.int(0, 1 << 30),
    asphalt: rng.uniform(0.26, 0.36),
  };
  // The camera car drives in a right-hand lane.
  const lane = lanes === 4 ? rng.int(0, 1) : 0;
  const camX = laneW / 2 + lane * laneW + rng.uniform(-0.4, 0.4);
  const camera = {
    position: [camX, rng.uniform(1.3, 2.4), 0] as Vec3,
    yaw: rng.uniform(-0.35, 0.35),
    pitch: rng.uniform(-0.17, 0.03),
    fov: (rng.uniform(80, 100) * Math.PI) / 180,
  };
  const crossBand = cross ? [cross.z - cross.halfWidth - sidewalk - 0.5, cross.z + cross.halfWidth + sidewalk + 0.5] : null;
  const inCross = (z0: number, z1: number): boolean => crossBand !== null && z1 > crossBand[0]! && z0 < crossBand[1]!;

  for (const side of [-1, 1]) {
    const isOpen = open[side < 0 ? 0 : 1]!;
    const kerb = R + sidewalk;
    if (!isOpen) {
      const lawn = rng.next() < 0.3 ? rng.uniform(1, 4) : 0;
      const line = kerb + lawn;
      let z = rng.uniform(-25, -5);
      while (z < 190) {
        if (crossBand && z < crossBand[1]! && z + 8 > crossBand[0]!) {
          z = crossBand[1]!;
          continue;
        }
        let L = rng.uniform(8, 26);
        if (crossBand && inCross(z, z + L)) L = Math.max(3, crossBand[0]! - z);
        const depth = rng.uniform(8, 20);
        const tall = rng.next() < 0.35;
        const h = tall ? rng.uniform(14, 38) : rng.uniform(5, 14);
        prims.push(
          ...boxQuads({
            base: [side * (line + depth / 2), 0, z + L / 2],
            size: [depth, h, L],
            classId: T.building,
            material: facade(rng),
            top: roof(rng),
            open: true,
          }),
        );
        z += L;
        if (rng.next() < 0.35) {
          const gap = rng.uniform(2, 9);
          const what = rng.next();
          if (what < 0.3) {
            const wh = rng.uniform(0.8, 2.4);
            prims.push(
              ...boxQuads({
                base: [side * (line + 0.15), 0, z + gap / 2],
                size: [0.3, wh, gap],
                classId: T.wall,
                material:
                  rng.next() < 0.5
                    ? { kind: 'brick', color: [0.5, 0.3, 0.25], color2: [0.7, 0.68, 0.62], seed: rng.int(0, 1 << 30) }
                    : { kind: 'plaster', color: [0.7, 0.68, 0.64], seed: rng.int(0, 1 << 30) },
                open: true,
              }),
            );
          } else if (what < 0.6) {
            const fh = rng.uniform(1.1, 2);
            prims.push({
              kind: 'quad',
              origin: [side * line, 0, z],
              u: [0, 0, gap],
              v: [0, fh, 0],
              classId: T.fence,
              material: { kind: 'plain', color: rng.next() < 0.5 ? [0.2, 0.22, 0.2] : [0.45, 0.32, 0.2], seed: rng.int(0, 1 << 30) },
              shape: { kind: 'bars', bars: Math.max(2, Math.round(gap / 0.15)), fill: rng.uniform(0.25, 0.5), rail: 0.06 },
            });
          } else if (what < 0.8) {
            tree(prims, rng, [side * (line + rng.uniform(1, 3)), 0, z + gap / 2], T.vegetation);
          } else {
            const hh = rng.uniform(0.8, 1.6);
            prims.push(
              ...boxQuads({
                base: [side * (line + 0.4), 0, z + gap / 2],
                size: [0.8, hh, gap],
                classId: T.vegetation,
                material: { kind: 'foliage', color: [0.12, 0.3, 0.1], color2: [0.22, 0.45, 0.16], seed: rng.int(0, 1 << 30) },
                open: true,
              }),
            );
          }
          z += gap;
        }
      }
    } else {
      // Open verge: trees and bushes, a guard rail where there is no sidewalk.
      const n = rng.int(2, 10);
      for (let k = 0; k < n; k++) tree(prims, rng, [side * (kerb + rng.uniform(2, 25)), 0, rng.uniform(4, 120)], T.vegetation);
      const bushes = rng.int(0, 6);
      for (let k = 0; k < bushes; k++) {
        const r = rng.uniform(0.5, 1.3);
        prims.push({
          kind: 'ellipsoid',
          center: [side * (kerb + rng.uniform(1, 12)), r * 0.6, rng.uniform(3, 80)],
          radii: [r, r * 0.8, r * 1.3],
          classId: T.vegetation,
          material: { kind: 'foliage', color: [0.14, 0.32, 0.1], color2: [0.25, 0.48, 0.18], seed: rng.int(0, 1 << 30) },
        });
      }
      if (sidewalk === 0 || rng.next() < 0.3) {
        const gx = side * (kerb + 0.4);
        const metal: Material = { kind: 'metal', color: [0.62, 0.64, 0.66], seed: rng.int(0, 1 << 30) };
        prims.push(...boxQuads({ base: [gx, 0.45, 60], size: [0.08, 0.32, 150], classId: T.guardrail, material: metal }));
        for (let z = -10; z < 135; z += 2.5)
          prims.push(...boxQuads({ base: [gx + side * 0.08, 0, z], size: [0.1, 0.75, 0.1], classId: T.guardrail, material: metal, open: true }));
      }
      // A distant row of houses beyond the verge.
      if (rng.next() < 0.6) {
        for (let z = rng.uniform(0, 20); z < 200; z += rng.uniform(12, 30)) {
          const d = rng.uniform(6, 12);
          prims.push(
            ...boxQuads({
              base: [side * (kerb + rng.uniform(28, 60)), 0, z],
              size: [d, rng.uniform(4, 12), rng.uniform(8, 16)],
              classId: T.building,
              material: facade(rng),
              top: roof(rng),
              open: true,
            }),
          );
        }
      }
    }
    // Street furniture on the sidewalk.
    if (sidewalk > 0) {
      for (let z = rng.uniform(-5, 15); z < 150; z += rng.uniform(18, 32)) {
        if (inCross(z - 1, z + 1)) continue;
        const head = streetLamp(prims, rng, [side * (R + 0.45), 0, z], -side, T.pole);
        lights.push({ position: [head[0], head[1] - 0.3, head[2]], color: [1.4, 1.2, 0.85], reach: 7 });
      }
      if (sidewalk >= 2.5 && rng.next() < 0.6) {
        for (let z = rng.uniform(2, 12); z < 110; z += rng.uniform(9, 18)) {
          if (!inCross(z - 2, z + 2)) tree(prims, rng, [side * (R + sidewalk - 0.9), 0, z], T.vegetation);
        }
      }
      const signs = rng.int(0, 2);
      for (let k = 0; k < signs; k++) {
        const z = rng.uniform(6, 70);
        if (!inCross(z - 1, z + 1)) trafficSign(prims, rng, [side * (R + 0.7), 0, z], T.pole, T.trafficsign);
      }
      const things = rng.int(0, 3);
      for (let k = 0; k < things; k++) {
        const z = rng.uniform(3, 60);
        const x = side * (R + sidewalk * rng.uniform(0.4, 0.8));
        const seed = rng.int(0, 1 << 30);
        const pick = rng.next();
        if (pick < 0.35) {
          // A bench: seat and back (static).
          const wood: Material = { kind: 'wood', color: [0.45, 0.3, 0.18], seed };
          prims.push(...boxQuads({ base: [x, 0, z], size: [0.5, 0.45, 1.8], classId: T.static, material: wood }));
          prims.push(...boxQuads({ base: [x + side * 0.25, 0.45, z], size: [0.08, 0.45, 1.8], classId: T.static, material: wood }));
        } else if (pick < 0.55) {
          // A fire hydrant (static).
          prims.push(...boxQuads({ base: [x, 0, z], size: [0.3, 0.7, 0.3], classId: T.static, material: { kind: 'plain', color: [0.75, 0.1, 0.08], seed } }));
        } else {
          // A wheelie bin (dynamic: movable).
          const c: Vec3 = rng.next() < 0.5 ? [0.15, 0.35, 0.15] : [0.25, 0.25, 0.28];
          prims.push(...boxQuads({ base: [x, 0, z], size: [0.6, 1.05, 0.7], classId: T.dynamic, material: { kind: 'plain', color: c, seed } }));
        }
      }
      const people = rng.int(0, 5);
      for (let k = 0; k < people; k++) {
        const yaw = [0, Math.PI, Math.PI / 2, -Math.PI / 2][rng.int(0, 3)]! + rng.uniform(-0.3, 0.3);
        person(prims, rng, [side * (R + rng.uniform(0.6, Math.max(0.7, sidewalk - 0.4))), 0, rng.uniform(3, 55)], yaw, T.pedestrian);
      }
    }
  }
  if (cross) {
    // Traffic lights at the near corners, facing the camera car; people on the crosswalk now and then.
    for (const side of [-1, 1]) {
      const head = trafficLight(prims, rng, [side * (R + 0.5), 0, cross.z - cross.halfWidth - 0.8], -side, T.pole, T.trafficlight);
      lights.push({ position: head, color: [0.3, 0.3, 0.2], reach: 2 });
    }
    const walkers = rng.next() < 0.4 ? rng.int(1, 3) : 0;
    for (let k = 0; k < walkers; k++)
      person(prims, rng, [rng.uniform(-R, R), 0, cross.z - cross.halfWidth - rng.uniform(1, 3)], rng.next() < 0.5 ? Math.PI / 2 : -Math.PI / 2, T.pedestrian);
    if (rng.next() < 0.35)
      car(
        prims,
        rng,
        [rng.uniform(-R - 10, R + 10), 0, cross.z + rng.uniform(-cross.halfWidth / 2, cross.halfWidth / 2)],
        rng.next() < 0.5 ? Math.PI / 2 : -Math.PI / 2,
        T.vehicles,
      );
  }
  // Traffic: cars in every lane (the far half oncoming), never closer than 7 m in the camera's lane.
  for (let k = 0; k < lanes; k++) {
    const x = (k < lanes / 2 ? 1 : -1) * (laneW / 2 + (k % (lanes / 2)) * laneW);
    const oncoming = x < 0;
    let z = rng.uniform(oncoming ? 4 : 7, 30);
    while (z < 110 && rng.next() < 0.75) {
      const size = car(prims, rng, [x + rng.uniform(-0.3, 0.3), 0, z], oncoming ? Math.PI : 0, T.vehicles, rng.next() < 0.15);
      z += size.length + rng.uniform(4, 30);
    }
  }
  if (parking > 0) {
    for (const side of [-1, 1]) {
      for (let z = rng.uniform(2, 15); z < 80; z += rng.uniform(5.5, 14)) {
        if (!inCross(z - 3, z + 3) && rng.next() < 0.7) car(prims, rng, [side * (R - 1.15), 0, z], rng.next() < 0.8 ? 0 : Math.PI, T.vehicles);
      }
    }
  }
  if (rng.next() < 0.12) {
    // A bridge over the road: deck and two pillars.
    const z = rng.uniform(45, 110);
    const h = rng.uniform(5.5, 8);
    const concrete: Material = { kind: 'plaster', color: [0.58, 0.56, 0.54], seed: rng.int(0, 1 << 30) };
    prims.push(...boxQuads({ base: [0, h, z], size: [200, 1.4, 9], classId: T.bridge, material: concrete }));
    for (const side of [-1, 1]) prims.push(...boxQuads({ base: [side * (R + 0.8), 0, z], size: [1, h, 2], classId: T.bridge, material: concrete, open: true }));
  }
  // The skyline far down the road.
  for (let k = rng.int(2, 8); k > 0; k--) {
    prims.push(
      ...boxQuads({
        base: [rng.uniform(-90, 90), 0, rng.uniform(200, 280)],
        size: [rng.uniform(10, 30), rng.uniform(10, 60), rng.uniform(10, 30)],
        classId: T.building,
        material: facade(rng),
        top: roof(rng),
        open: true,
      }),
    );
  }
  const sun: Vec3 = [rng.uniform(-1, 1), rng.uniform(0.5, 1.2), rng.uniform(-1, 0.4)];
  return { world: 'town', camera, road, primitives: prims, lights, sun, emptyClass: T.sky };
}
