// The README's binary fine-tuning figures (docs/readme/issue-16.md), through the public API:
//   npx tsc -p . && node dist/test/train/binary_figures.js [SEEDS]
// A Keras 3 depth-1 U-Net (F=4, one sigmoid channel) is written as a .keras archive with random (He-scaled)
// weights and imported; (a) it is fine-tuned on digit-vs-background scenes with each policy and sigmoid
// loss; (b) for transfer, it is first trained (all layers) to find every digit (0..9) in scenes, then
// fine-tuned to find only the digits 5..9 (0..4 become background). Validation foreground IoU before and after, mean and range over seeds, and the
// seconds of each fine-tune; the CPU and load are printed with them. Not a test: it only measures.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import h5wasm from 'h5wasm/node';

import { evaluate, finetune, importModel, type LossName } from '../../src/index.js';
import { depth1UNet, randomWeights, writeKeras3Archive } from '../import/keras3_files.js';
import { binaryDigitSet } from './binary_data.js';

const seeds = Array.from({ length: Number(process.argv[2] ?? 3) }, (_, i) => i);
const dir = mkdtempSync(join(tmpdir(), 'unet-binary-figures-'));
const quiet = { log: () => {} };

async function fgIou(model: string, data: string): Promise<number> {
  return (await evaluate({ model, data, split: 'val', ...quiet })).miou_fg;
}

const stats = (xs: number[]) => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) });
const f4 = (x: number) => x.toFixed(4);

async function table(key: string, title: string, model: string, data: string, rows: { train: string; loss: LossName }[], epochs: number): Promise<void> {
  const before = await fgIou(model, data);
  console.log(`\n${title}\nforeground IoU before fine-tuning: ${f4(before)}`);
  console.log('| --train | --loss | fg IoU after (mean, min..max) | seconds per fine-tune (min..max) |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    const ious: number[] = [];
    const secs: number[] = [];
    for (const seed of seeds) {
      const run = join(dir, `${key}-${r.train}-${r.loss}-${seed}`);
      const t0 = performance.now();
      await finetune({ model, data, train: r.train, loss: r.loss, epochs, batch: 4, lr: 0.01, seed, out: run, ...quiet });
      secs.push((performance.now() - t0) / 1000);
      ious.push(await fgIou(run, data));
    }
    const s = stats(ious);
    console.log(`| ${r.train} | ${r.loss} | ${f4(s.mean)} (${f4(s.min)}..${f4(s.max)}) | ${Math.min(...secs).toFixed(1)}..${Math.max(...secs).toFixed(1)} |`);
  }
}

try {
  await h5wasm.ready;
  console.log(
    `CPU: ${cpus()[0]?.model} x${cpus().length}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (start); seeds ${seeds.join(',')}`,
  );
  const layers = depth1UNet();
  const file = join(dir, 'unet.keras');
  writeKeras3Archive(file, join(dir, 'tmp.h5'), layers, randomWeights(layers, 11));
  const model = join(dir, 'model');
  const imported = await importModel(file, { out: model, inputSize: [32, 32] });
  console.log(`imported ${imported.mapped.length} tensors (${imported.missed.length} missed), ${imported.headMode} head`);

  const scenes = await binaryDigitSet(join(dir, 'scenes'), { count: 96, valCount: 32 });
  const policies = ['head', 'decoder+head', 'all'];
  const losses: LossName[] = ['bce', 'dice', 'bce+dice'];
  await table(
    'a',
    '(a) from the random-weight import, digits 0..2 vs background, 96 train / 32 val 32x32 scenes, 6 epochs',
    model,
    scenes,
    policies.flatMap((train) => losses.map((loss) => ({ train, loss }))),
    6,
  );

  const source = await binaryDigitSet(join(dir, 'source'), { count: 256, valCount: 32, digits: [0, 9], seed: 1 });
  const target = await binaryDigitSet(join(dir, 'target'), { count: 96, valCount: 32, digits: [0, 9], seed: 2, foreground: (d) => d >= 5 });
  const pretrained = join(dir, 'pretrained');
  await finetune({ model, data: source, train: 'all', loss: 'bce', epochs: 10, batch: 8, lr: 0.01, out: pretrained, ...quiet });
  console.log(
    `\nsource model (all layers, 10 epochs on 256 scenes, every digit foreground): fg IoU ${f4(await fgIou(pretrained, source))} on its own val split`,
  );
  await table(
    'b',
    '(b) transfer: the source model fine-tuned to find only digits 5..9 (0..4 are background), 96 train / 32 val scenes, 6 epochs',
    pretrained,
    target,
    policies.map((train) => ({ train, loss: 'bce' as LossName })),
    6,
  );
  console.log(
    `\nload average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (end)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
