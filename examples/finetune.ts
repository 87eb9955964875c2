// Fine-tune the decoder and head of a U-Net on new scenes, see what changed, write the report.
import { createUNet, diffModels, finetune, loadUNet, saveUNet, writeDigitScenes, writeReport } from 'unet-transfer';

const work = process.argv[2] ?? 'work';

// A pretrained model (here: a small new one; use loadUNet('models/digits04') for the shipped one).
const pretrained = createUNet({ arch: 'course', depth: 2, filters: 4, classes: 6, input: [32, 32, 1], seed: 1 });
await saveUNet(pretrained, `${work}/pretrained`);
pretrained.model.dispose();

// Target scenes: digits 5-9 in the class slots of 0-4 (an output-level shift).
await writeDigitScenes({ out: `${work}/newdigits`, size: 32, count: 24, valCount: 8, digits: [5, 9], scale: [0.4, 0.6], force: true });

const run = await finetune({
  model: `${work}/pretrained`,
  data: `${work}/newdigits`,
  train: 'decoder+head',
  epochs: 2,
  out: `${work}/run`,
  force: true,
  onEpoch: (e) => console.log(`epoch ${e.epoch}/${e.epochs}: val mIoU ${e.metrics.val_miou}`),
});

const before = await loadUNet(`${work}/pretrained`);
const after = await loadUNet(run.model);
const drift = diffModels(before, after);
for (const b of drift.blocks) console.log(`${b.name.padEnd(10)} relative drift ${b.rel?.toFixed(4) ?? '-'}`);
before.model.dispose();
after.model.dispose();

const report = await writeReport({ dir: run.run });
console.log(
  JSON.stringify({ best: run.best, frozenEncoderMoved: drift.blocks.some((b) => b.name.startsWith('enc') && (b.rel ?? 0) > 0), report: report.file }),
);
