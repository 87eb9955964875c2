// The world renderer: exact masks on a scene of known geometry (a car in front of a building on a road),
// depth order, determinism by seed, looks that never touch the mask, valid class ids in every frame, the
// folder layout it writes, and errors that name the bad option.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { openFolderDataset } from '../../src/data/folder-dataset.js';
import { loadPairRaw } from '../../src/data/sample.js';
import { I, INDOOR_CLASSES, T, TOWN_CLASSES } from '../../src/data/world/classes.js';
import { resolveWorldOptions, type WorldSceneInput } from '../../src/data/world/options.js';
import { renderSceneFrame, renderWorldFrame } from '../../src/data/world/render.js';
import { boxQuads, type SceneSpec } from '../../src/data/world/scene.js';
import { STYLES } from '../../src/data/world/styles.js';
import { writeWorldScenes } from '../../src/data/world/writer.js';
import { UserError } from '../../src/util/errors.js';
import { cliInProcess } from './cli-run.js';
import { cleanup, tempDir } from './fixtures.js';

const H = 48;
const W = 64;
const grey = { kind: 'plain' as const, color: [0.5, 0.5, 0.5] as [number, number, number], seed: 1 };

/** Camera 1.5 m up at the origin looking along +z (90 degree field of view: focal length W/2 pixels);
 * road everywhere on the ground; a building whose front is the plane z = 30 (x -20..20, y 0..20) and,
 * optionally, a car whose back is the plane z = carZ (x -1..1, y 0..1.5). */
function knownScene(carZ: number | null): SceneSpec {
  const primitives = boxQuads({ base: [0, 0, 35], size: [40, 20, 10], classId: T.building, material: grey });
  if (carZ !== null) primitives.push(...boxQuads({ base: [0, 0, carZ + 2], size: [2, 1.5, 4], classId: T.vehicles, material: grey }));
  return {
    world: 'town',
    camera: { position: [0, 1.5, 0], yaw: 0, pitch: 0, fov: Math.PI / 2 },
    road: { halfWidth: 500, lanes: 2, sidewalk: 0, verge: 'terrain', markings: false, cross: null, far: 1000, seed: 1, asphalt: 0.3 },
    primitives,
    lights: [],
    sun: [0.3, 1, -0.5],
    emptyClass: T.sky,
  };
}

/**
 * The class at pixel (px, py) worked out independently, with the distance of the ray's hit from the
 * nearest edge of what it hit (metres): pixels whose hit lies within `margin` of an edge are uncertain.
 */
function expected(px: number, py: number, carZ: number | null): { cls: number; edge: number } {
  const f = W / 2;
  const a = (px + 0.5 - W / 2) / f; // x per metre of depth
  const b = -(py + 0.5 - H / 2) / f; // y per metre of depth
  const hits: { z: number; cls: number; edge: number }[] = [];
  const face = (z: number, x0: number, x1: number, y0: number, y1: number, cls: number): void => {
    const x = a * z;
    const y = 1.5 + b * z;
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) hits.push({ z, cls, edge: Math.min(x - x0, x1 - x, y - y0, y1 - y) });
    else hits.push({ z: Infinity, cls: -1, edge: Math.min(Math.abs(x - x0), Math.abs(x - x1), Math.abs(y - y0), Math.abs(y - y1)) });
  };
  face(30, -20, 20, 0, 20, T.building);
  if (carZ !== null) face(carZ, -1, 1, 0, 1.5, T.vehicles);
  if (b < 0) hits.push({ z: 1.5 / -b, cls: T.road, edge: Infinity });
  const edges = Math.min(...hits.map((h) => h.edge));
  const nearest = hits.filter((h) => h.cls >= 0).sort((p, q) => p.z - q.z)[0];
  return { cls: nearest ? nearest.cls : T.sky, edge: edges };
}

test('a car in front of a building on a road: every pixel whose answer is certain has its class', () => {
  for (const carZ of [8, 12]) {
    const { mask } = renderSceneFrame(knownScene(carZ), [H, W]);
    let checked = 0;
    const counts = new Map<number, number>();
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        const e = expected(px, py, carZ);
        if (e.edge < 0.02) continue;
        assert.equal(mask[py * W + px], e.cls, `pixel (${px}, ${py}) with the car at z=${carZ}`);
        checked++;
        counts.set(e.cls, (counts.get(e.cls) ?? 0) + 1);
      }
    }
    assert.ok(checked > H * W * 0.9, `checked ${checked} of ${H * W}`);
    for (const cls of [T.building, T.vehicles, T.road, T.sky]) assert.ok((counts.get(cls) ?? 0) > 0, `class ${cls} present`);
  }
  // With the car's back at z=8 (1 m wide, 1.5 m tall, 1.5 m below the eye): columns 28..35, rows 24..29.
  const { mask } = renderSceneFrame(knownScene(8), [H, W]);
  let car = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === T.vehicles) car++;
  assert.equal(car, 8 * 6);
  for (let py = 24; py <= 29; py++) for (let px = 28; px <= 35; px++) assert.equal(mask[py * W + px], T.vehicles);
});

test('depth order: the car occludes the building; behind the building it is hidden', () => {
  const front = renderSceneFrame(knownScene(8), [H, W]).mask;
  const none = renderSceneFrame(knownScene(null), [H, W]).mask;
  const behind = renderSceneFrame(knownScene(40), [H, W]).mask;
  // Pixel (31, 24): the car's back at 8 m; without the car, the building's front at 30 m.
  assert.equal(front[24 * W + 31], T.vehicles);
  assert.equal(none[24 * W + 31], T.building);
  // A car 10 m behind the building's front is not seen at all: the same mask as with no car.
  assert.deepEqual(behind, none);
  assert.ok(!behind.includes(T.vehicles));
});

test('looks change the picture and never the mask', () => {
  for (const world of ['town', 'indoor'] as const) {
    for (let i = 0; i < 3; i++) {
      const day = renderWorldFrame({ world, style: 'day', size: [H, W], seed: 3 }, 'train', i);
      for (const style of STYLES) {
        if (style === 'day') continue;
        const other = renderWorldFrame({ world, style, size: [H, W], seed: 3 }, 'train', i);
        assert.deepEqual(other.mask, day.mask, `${world} frame ${i} in ${style}`);
        assert.notDeepEqual(other.image, day.image, `${world} frame ${i}: ${style} looks different`);
      }
    }
  }
});

test('every mask value is a class id; towns show road, rooms show floor and walls', () => {
  for (const [world, classes, needed] of [
    ['town', TOWN_CLASSES, [T.road]],
    ['indoor', INDOOR_CLASSES, [I.floor, I.wall]],
  ] as const) {
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const f = renderWorldFrame({ world, style: 'day', size: [H, W], seed: 7 }, 'val', i);
      assert.equal(f.image.length, H * W * 3);
      assert.equal(f.mask.length, H * W);
      const here = new Set(f.mask);
      for (const v of here) assert.ok(v < classes.length, `${world} frame ${i}: class ${v}`);
      for (const c of needed) assert.ok(here.has(c), `${world} frame ${i} has class ${c}`);
      assert.ok(here.size >= 4, `${world} frame ${i} has ${here.size} classes`);
      for (const v of here) seen.add(v);
    }
    assert.ok(seen.size >= (world === 'town' ? 12 : 8), `${world}: ${seen.size} classes over 12 frames`);
  }
});

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) if (/\.(png|json|jsonl)$/.test(f)) out.set(f, readFileSync(join(dir, f)));
  return out;
}

test('written sets: the layout, CARLA colours in classes.json, read back through the folder reader; same seed same bytes', async () => {
  const dir = tempDir('world');
  try {
    const opts: WorldSceneInput = { world: 'town', count: 5, size: [H, W], seed: 11, valFraction: 0.4, out: join(dir, 'a') };
    const summary = await writeWorldScenes(opts);
    assert.equal(summary.train, 3);
    assert.equal(summary.val, 2);
    const ds = openFolderDataset(join(dir, 'a'));
    assert.equal(ds.layout, 'splits');
    assert.equal(ds.pairs.length, 5);
    assert.equal(ds.classes?.numClasses, 23);
    assert.deepEqual(ds.classes?.byId.get(7)?.color, [128, 64, 128]); // road
    assert.deepEqual(ds.classes?.byId.get(13)?.color, [70, 130, 180]); // sky
    assert.deepEqual(ds.classes?.byId.get(10)?.color, [0, 0, 142]); // vehicles
    for (const p of ds.pairs) {
      const { image, ids } = await loadPairRaw(ds, p);
      assert.equal(image.channels, 3);
      assert.equal(image.width, W);
      assert.equal(image.height, H);
      assert.equal(ids.length, W * H);
    }
    await writeWorldScenes({ ...opts, out: join(dir, 'b') });
    await writeWorldScenes({ ...opts, seed: 12, out: join(dir, 'c') });
    const a = filesOf(join(dir, 'a'));
    const b = filesOf(join(dir, 'b'));
    const c = filesOf(join(dir, 'c'));
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} is byte-identical`);
    assert.ok(!a.get('train/images/00000.png')!.equals(c.get('train/images/00000.png')!), 'another seed, another picture');
    const meta = JSON.parse(a.get('classes.json')!.toString());
    assert.equal(meta.source, 'world-renderer');
    assert.deepEqual(meta.shift, { input: [], output: null });
    // A night set of the same seed: other pictures, the very same mask files.
    await writeWorldScenes({ ...opts, style: 'night', out: join(dir, 'n') });
    const n = filesOf(join(dir, 'n'));
    assert.ok(n.get('train/masks/00001.png')!.equals(a.get('train/masks/00001.png')!));
    assert.ok(!n.get('train/images/00001.png')!.equals(a.get('train/images/00001.png')!));
    assert.deepEqual(JSON.parse(n.get('classes.json')!.toString()).shift.input, ['night']);
  } finally {
    cleanup(dir);
  }
});

test('bad options are errors naming the option field', () => {
  const ok: WorldSceneInput = { world: 'town', count: 10, out: '/tmp/x' };
  assert.equal(resolveWorldOptions(ok).style, 'day');
  assert.deepEqual(resolveWorldOptions(ok).size, [96, 128]);
  const cases: [Record<string, unknown>, string][] = [
    [{ world: 'moon' }, "option 'world'"],
    [{ style: 'sepia' }, "option 'style'"],
    [{ count: 0 }, "option 'count'"],
    [{ count: 2.5 }, "option 'count'"],
    [{ size: [8, 128] }, "option 'size'"],
    [{ size: [96] }, "option 'size'"],
    [{ seed: -1 }, "option 'seed'"],
    [{ valFraction: 1 }, "option 'valFraction'"],
    [{ count: 1, valFraction: 0.5 }, "option 'count'"],
    [{ out: '' }, "option 'out'"],
  ];
  for (const [patch, field] of cases) {
    assert.throws(
      () => resolveWorldOptions({ ...ok, ...patch } as WorldSceneInput),
      (e: unknown) => e instanceof UserError && e.message.startsWith(field),
      JSON.stringify(patch),
    );
  }
});

test('data world CLI: writes the set; bad flags are errors that say what was expected', async () => {
  const dir = tempDir('world-cli');
  try {
    const out = join(dir, 'rooms');
    const r = await cliInProcess('data', 'world', '--world', 'indoor', '--count', '3', '--size', '32x48', '--out', out, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 2 training and 1 validation indoor frames/);
    const meta = JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8'));
    assert.equal(meta.classes.length, INDOOR_CLASSES.length);
    assert.equal(meta.shift.output.world, 'indoor');
    const again = await cliInProcess('data', 'world', '--world', 'indoor', '--count', '3', '--size', '32x48', '--out', out);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);
    const badWorld = await cliInProcess('data', 'world', '--world', 'moon', '--out', join(dir, 'm'));
    assert.equal(badWorld.code, 1);
    assert.match(badWorld.stderr, /option 'world': expected town\|indoor, got "moon"/);
    const badSize = await cliInProcess('data', 'world', '--world', 'town', '--size', '96', '--out', join(dir, 's'));
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /--size must be HEIGHTxWIDTH/);
  } finally {
    cleanup(dir);
  }
});
