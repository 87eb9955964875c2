// Writes a world data set in the project's folder layout: train/ and val/ with images/ (RGB PNG) and
// masks/ (grey PNG of class ids), classes.json (names, colours, provenance and the shift the set
// carries) and scenes.jsonl (each frame's camera). Frame i of a split depends only on (seed, world,
// split, i), so the same options write byte-identical files and a `night` set has the `day` set's masks.
import { encodePng } from '../png.js';
import { writeFolderAtomically } from '../folder-writer.js';
import type { ClassInfo } from '../classes.js';
import { worldClasses } from './classes.js';
import { resolveWorldOptions, valCount, type WorldSceneInput, type WorldSceneOptions } from './options.js';
import { frameLookSeed, renderSceneFrame, worldScene } from './render.js';

export interface WorldSceneSummary {
  out: string;
  world: WorldSceneOptions['world'];
  style: WorldSceneOptions['style'];
  train: number;
  val: number;
  classes: ClassInfo[];
  seconds: number;
}

/** classes.json content: the classes and what the set is (source, generator options, shift). */
export function worldClassesJson(o: WorldSceneOptions): { classes: ClassInfo[]; meta: Record<string, unknown> } {
  const classes = worldClasses(o.world);
  return {
    classes,
    meta: {
      source: 'world-renderer',
      world: o.world,
      style: o.style,
      classMapping: o.world === 'town' ? "CARLA 0.9.x semantic tags 0..22 with CARLA's palette" : 'indoor rooms: 15 classes of their own',
      generator: { world: o.world, style: o.style, count: o.count, size: `${o.size[0]}x${o.size[1]}`, seed: o.seed, valFraction: o.valFraction },
      shift: {
        input: o.style === 'day' ? [] : [o.style],
        output:
          o.world === 'town'
            ? null
            : {
                world: 'indoor',
                reference: 'town',
                sameClassCount: false,
                description: "indoor rooms with their own 15 classes instead of the town's 23 CARLA classes: new objects, a new head",
              },
      },
    },
  };
}

export async function writeWorldScenes(input: WorldSceneInput, onProgress?: (done: number, total: number) => void): Promise<WorldSceneSummary> {
  const o = resolveWorldOptions(input);
  const t0 = Date.now();
  const nVal = valCount(o);
  const nTrain = o.count - nVal;
  const [height, width] = o.size;
  const { classes, meta } = worldClassesJson(o);
  let done = 0;
  const out = await writeFolderAtomically(
    o.out,
    o.force,
    (folder) => {
      const lines: string[] = [];
      for (const [split, n] of [
        ['train', nTrain],
        ['val', nVal],
      ] as const) {
        const digits = Math.max(5, String(n - 1).length);
        for (let i = 0; i < n; i++) {
          const scene = worldScene(o.world, o.seed, split, i);
          const frame = renderSceneFrame(scene, o.size, o.style, frameLookSeed(o.seed, split, i));
          const stem = String(i).padStart(digits, '0');
          folder.put(`${split}/images/${stem}.png`, encodePng({ width, height, channels: 3, data: frame.image }, { fast: true }));
          folder.put(`${split}/masks/${stem}.png`, encodePng({ width, height, channels: 1, data: frame.mask }, { fast: true }));
          const c = scene.camera;
          const r3 = (v: number): number => Math.round(v * 1000) / 1000;
          lines.push(
            JSON.stringify({
              split,
              stem,
              camera: { position: c.position.map(r3), yaw: r3(c.yaw), pitch: r3(c.pitch), fov: r3(c.fov) },
              primitives: scene.primitives.length,
            }),
          );
          done++;
          if (onProgress && (done % 250 === 0 || done === o.count)) onProgress(done, o.count);
        }
      }
      folder.put('classes.json', `${JSON.stringify({ ...meta, classes }, null, 2)}\n`);
      folder.put('scenes.jsonl', `${lines.join('\n')}\n`);
    },
    o.out,
  );
  return { out, world: o.world, style: o.style, train: nTrain, val: nVal, classes, seconds: (Date.now() - t0) / 1000 };
}
