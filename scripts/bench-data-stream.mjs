// Streaming benchmark: does memory stay flat while a large folder data set is streamed in batches?
//
//   node scripts/bench-data-stream.mjs [--count 20000] [--size 256] [--batch 8] [--dir DIR] [--epochs 1] [--json]
//
// Generates (or reuses, when DIR already holds that many scenes) a digit-scene folder of COUNT SIZE x SIZE
// PNG images and masks, then streams it with streamBatches (float32 [B,SIZE,SIZE,3] + int32 masks, disposed
// after each batch, as a training loop does). RSS and heap are sampled every 20 ms; the report gives the
// peak after 10%, 50% and 100% of the images, so growth with the data set size shows up directly.
// Needs `npm run build` (reads dist/). Generation of 20,000 256x256 scenes takes several minutes.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = await import(join(root, 'dist', 'src', 'data', 'index.js'));

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    epochs: { type: 'string', default: '1' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const count = Number(values.count);
const size = Number(values.size);
const batchSize = Number(values.batch);
const epochs = Number(values.epochs);
const dir = values.dir ?? join(root, 'tmp', `bench-data-${count}x${size}`);
const log = (line) => values.json || console.error(line);
const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;

await tf.setBackend('cpu');
const imagesDir = join(dir, 'train', 'images');
let genSeconds = null;
if (!existsSync(imagesDir) || readdirSync(imagesDir).length !== count) {
  log(`generating ${count} ${size}x${size} digit scenes in ${dir} ...`);
  const t0 = Date.now();
  await data.generateDigitScenes(
    dir,
    { ...data.DEFAULT_DIGIT_SCENES, size, count, valCount: 0, seed: 1 },
    { force: true, onProgress: (d, t) => d % 2000 === 0 && log(`  ${d}/${t}`) },
  );
  genSeconds = (Date.now() - t0) / 1000;
} else {
  log(`reusing ${dir}`);
}

let peakRss = 0;
let peakHeap = 0;
let peakExternal = 0;
const sample = () => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
};
const timer = setInterval(sample, 20);
const startRss = process.memoryUsage().rss;

const ds = data.openFolderDataset(dir);
const afterOpenRss = process.memoryUsage().rss;
const checkpoints = [];
const marks = new Set([0.1, 0.5, 1].map((f) => Math.max(1, Math.round(f * count * epochs))));
let seen = 0;
const t0 = Date.now();
for (let epoch = 0; epoch < epochs; epoch++) {
  for await (const b of data.streamBatches(ds, ds.pairs, { height: size, width: size, channels: 3, batchSize, seed: 1, epoch })) {
    const before = seen;
    seen += b.stems.length;
    tf.dispose([b.images, b.masks]);
    sample();
    for (const m of marks)
      if (before < m && seen >= m)
        checkpoints.push({ images: seen, peakRssMiB: mib(peakRss), rssNowMiB: mib(process.memoryUsage().rss), numTensors: tf.memory().numTensors });
  }
}
clearInterval(timer);
const seconds = (Date.now() - t0) / 1000;
const report = {
  dir,
  images: count,
  size,
  batchSize,
  epochs,
  streamed: seen,
  generateSeconds: genSeconds,
  streamSeconds: seconds,
  imagesPerSecond: Math.round(seen / seconds),
  startRssMiB: mib(startRss),
  afterOpenRssMiB: mib(afterOpenRss),
  peakRssMiB: mib(peakRss),
  peakHeapUsedMiB: mib(peakHeap),
  peakExternalMiB: mib(peakExternal),
  checkpoints,
};
if (values.json) console.log(JSON.stringify(report));
else {
  console.log(`streamed ${seen} images of ${size}x${size} (batch ${batchSize}) in ${seconds.toFixed(1)} s (${report.imagesPerSecond}/s)`);
  console.log(
    `RSS: start ${report.startRssMiB} MiB, after opening ${report.afterOpenRssMiB} MiB, peak ${report.peakRssMiB} MiB (heap ${report.peakHeapUsedMiB} MiB, buffers ${report.peakExternalMiB} MiB)`,
  );
  for (const c of checkpoints)
    console.log(`  after ${c.images} images: peak RSS ${c.peakRssMiB} MiB, RSS now ${c.rssNowMiB} MiB, live tensors ${c.numTensors}`);
}
