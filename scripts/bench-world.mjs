// World renderer benchmark: how long 1,000 frames take, rendered in memory and written as a data set.
//
//   node scripts/bench-world.mjs [--count 1000] [--world town] [--style day] [--size 96x128] [--dir DIR] [--json]
//
// Two timings: (1) render only: `renderWorldFrame` for COUNT frames, nothing written; (2) the full
// `writeWorldScenes` run (render, PNG encoding, atomic folder write with fsync) into DIR (default a temp
// folder, removed afterwards). Each gives wall seconds and the process's CPU seconds (user + system):
// on a shared machine the wall figure depends on the load, the CPU figure much less. The report names
// the CPU model and the load average before and after. Needs `npm run build` (reads dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = await import(join(root, 'dist', 'src', 'data', 'index.js'));

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    world: { type: 'string', default: 'town' },
    style: { type: 'string', default: 'day' },
    size: { type: 'string', default: '96x128' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const count = Number(values.count);
const [height, width] = values.size.split('x').map(Number);
const opts = { world: values.world, style: values.style, size: [height, width], seed: 0 };

const timed = async (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
};
const load0 = loadavg()[0];
const render = await timed(() => {
  for (let i = 0; i < count; i++) data.renderWorldFrame(opts, 'train', i);
});
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'bench-world-'));
const out = join(dir, 'set');
const write = await timed(() => data.writeWorldScenes({ ...opts, count, out, force: true }));
if (!values.dir) rmSync(dir, { recursive: true, force: true });
const report = {
  frames: count,
  world: values.world,
  style: values.style,
  size: values.size,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  load: [load0, loadavg()[0]].map((v) => Math.round(v * 100) / 100),
  render,
  write,
};
if (values.json) console.log(JSON.stringify(report));
else {
  const f = (t) => `${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU (${((1000 * t.wall) / count).toFixed(1)} ms/frame wall)`;
  console.log(
    `${count} ${values.world}/${values.style} frames of ${values.size} on ${report.cpu} (${report.cores} cores), load ${report.load[0]} -> ${report.load[1]}`,
  );
  console.log(`  render only:          ${f(render)}`);
  console.log(`  written as a data set: ${f(write)}`);
}
