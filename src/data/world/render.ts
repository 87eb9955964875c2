// One frame: a scene (described, or drawn at random for a world, split and index), rasterised into a
// depth buffer and class mask, shaded in a look, post-processed. The mask comes from the rasteriser
// alone, before any look is applied, so every look of a frame has the same mask.
import { Rng } from '../random.js';
import { indoorScene } from './indoor.js';
import { rasterise, type GBuffer } from './rasterise.js';
import type { SceneSpec } from './scene.js';
import { shade } from './shade.js';
import { applyFog, applyOutlines, applyRetro, lookParams, toBytes, type WorldStyle } from './styles.js';
import { townScene } from './town.js';
import type { WorldName } from './classes.js';

export interface WorldFrame {
  height: number;
  width: number;
  /** height x width x 3, RGB. */
  image: Uint8Array;
  /** height x width class ids. */
  mask: Uint8Array;
}

/** Renders a described scene in a look; `lookSeed` seeds the look's own choices (fog density, light). */
export function renderSceneFrame(scene: SceneSpec, size: [number, number], style: WorldStyle = 'day', lookSeed = 0): WorldFrame & { gbuffer: GBuffer } {
  const [height, width] = size;
  const g = rasterise(scene, height, width);
  const look = lookParams(style, new Rng(lookSeed, 'world-look'));
  const img = shade(scene, g, look.lighting, lookSeed);
  if (style === 'fog') applyFog(img, g, look.fogDensity, look.fogColour);
  if (style === 'toon') applyOutlines(img, g);
  const image = toBytes(img);
  if (style === 'retro') applyRetro(image, height, width, Math.max(2, Math.round(Math.min(height, width) / 32)));
  return { height, width, image, mask: g.mask, gbuffer: g };
}

/** The scene of frame `index` of `split` (pure: depends only on seed, world, split and index). */
export function worldScene(world: WorldName, seed: number, split: string, index: number): SceneSpec {
  const rng = new Rng(seed, 'world', world, split, index);
  return world === 'town' ? townScene(rng) : indoorScene(rng);
}

export interface FrameOptions {
  world: WorldName;
  style: WorldStyle;
  /** [height, width] in pixels. */
  size: [number, number];
  seed: number;
}

/** Renders frame `index` of `split` in memory. The scene depends on (seed, world, split, index) only and
 * the look on (seed, split, index) too, so changing the style changes the picture and never the mask. */
export function renderWorldFrame(o: FrameOptions, split: 'train' | 'val', index: number): WorldFrame {
  const scene = worldScene(o.world, o.seed, split, index);
  const { height, width, image, mask } = renderSceneFrame(scene, o.size, o.style, frameLookSeed(o.seed, split, index));
  return { height, width, image, mask };
}

/** The seed of frame `index`'s look (fog density, light, stars). */
export function frameLookSeed(seed: number, split: string, index: number): number {
  return new Rng(seed, 'world-look', split, index).nextUint32();
}
