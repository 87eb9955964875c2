// Writes docs/world.png: contact sheets of the world renderer's frames with their masks (in class
// colours) and the overlay, one row per look: town by day, indoor rooms, then the first town row's
// scenes at night, in toon and in retro looks (same scenes, so the masks in those rows repeat row 1's).
//
//   node scripts/make-world-sheet.mjs [--out docs/world.png] [--frames 5,7] [--rooms 2,6] [--per-row 2] [--tile 128] [--seed 4]
// Needs `npm run build` (reads dist/).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = await import(join(root, 'dist', 'src', 'data', 'index.js'));
const { writeFileAtomic } = await import(join(root, 'dist', 'src', 'util', 'atomic.js'));

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'docs', 'world.png') },
    'per-row': { type: 'string', default: '2' },
    tile: { type: 'string', default: '128' },
    seed: { type: 'string', default: '4' },
    frames: { type: 'string', default: '5,7' },
    rooms: { type: 'string', default: '2,6' },
  },
});
const perRow = Number(values['per-row']);
const seed = Number(values.seed);
// Frame indices (of the training split) for the town rows and the room row.
const town = values.frames.split(',').map(Number);
const roomFrames = values.rooms.split(',').map(Number);
const rows = [
  ['town', 'day', town],
  ['indoor', 'day', roomFrames],
  ['town', 'night', town],
  ['town', 'toon', town],
  ['town', 'retro', town],
];
const sheets = rows.map(([world, style, frames]) => {
  const items = frames.map((i) => {
    const f = data.renderWorldFrame({ world, style, size: [96, 128], seed }, 'train', i);
    return { image: { width: f.width, height: f.height, channels: 3, data: f.image }, ids: Int32Array.from(f.mask) };
  });
  return data.renderContactSheet(items, data.makeClassSet(data.worldClasses(world)), { perRow, tile: Number(values.tile) });
});
// Stack the rows (each sheet has a 12-pixel margin top and bottom: drop the duplicate between rows).
const width = sheets[0].width;
const trim = 12;
const height = sheets.reduce((h, s, k) => h + s.height - (k > 0 ? trim : 0), 0);
const out = new Uint8Array(width * height * 3);
let y = 0;
sheets.forEach((s, k) => {
  const skip = k > 0 ? trim : 0;
  out.set(s.data.subarray(skip * width * 3), y * width * 3);
  y += s.height - skip;
});
const png = data.encodePng({ width, height, channels: 3, data: out });
writeFileAtomic(values.out, png);
console.log(`wrote ${values.out} (${width}x${height}, ${(png.length / 1024).toFixed(0)} KB)`);
