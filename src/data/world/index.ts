// The world renderer: built-in video-game scenes (a town street seen from a car, indoor rooms) in
// several looks, rendered in pure TypeScript and written as folder data sets.
export { I as INDOOR_IDS, INDOOR_CLASSES, T as TOWN_IDS, TOWN_CLASSES, worldClasses, type WorldName } from './classes.js';
export { DEFAULT_WORLD_OPTIONS, resolveWorldOptions, WORLDS, type WorldSceneInput, type WorldSceneOptions } from './options.js';
export { renderSceneFrame, renderWorldFrame, worldScene, type FrameOptions, type WorldFrame } from './render.js';
export { boxQuads, type BoxSpec, type CameraSpec, type Ellipsoid, type Primitive, type Quad, type RoadLayout, type SceneSpec, type Vec3 } from './scene.js';
export { STYLES, type WorldStyle } from './styles.js';
export type { Material } from './texture.js';
export { worldClassesJson, writeWorldScenes, type WorldSceneSummary } from './writer.js';
