// `predict --model M IMAGE|DIR... --out DIR [--overlay]`: segment new pictures with a (fine-tuned) model.
import { predictToFolder } from '../../train/predict.js';
import { UsageError } from '../../util/errors.js';
import { intOption, type Command } from '../command.js';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'segment pictures with a model: one class-id mask PNG per picture, at its own size (--overlay: blended with the class colours)',
  usage: '--model M IMAGE|DIR... --out DIR [--overlay] [--json]',
  options: {
    model: { type: 'string', valueName: 'M', description: 'a model folder, or a run folder (its model/)' },
    out: { type: 'string', valueName: 'DIR', description: 'where to write DIR/<stem>.png (and DIR/<stem>.overlay.png)' },
    overlay: { type: 'boolean', description: 'also write each picture blended with the class colours' },
    batch: { type: 'string', valueName: 'N', description: 'pictures per forward pass (default 8)' },
  },
  examples: [
    'unet-transfer predict --model runs/decoder photos/ --out masks/',
    'unet-transfer predict --model models/digits04 scene.png --out /tmp/masks --overlay',
  ],
  async run(args, io) {
    const model = typeof args.values.model === 'string' ? args.values.model : null;
    const out = typeof args.values.out === 'string' ? args.values.out : null;
    if (!model) throw new UsageError('--model M is required (a model folder or a run folder)');
    if (!out) throw new UsageError('--out DIR is required (where the masks go)');
    if (args.positionals.length === 0) throw new UsageError('give the pictures to segment: files or folders of PNG/JPEG pictures');
    const bar = !io.json && !io.quiet && process.stderr.isTTY;
    const r = await predictToFolder({
      model,
      inputs: args.positionals,
      out,
      overlay: args.values.overlay === true,
      batch: args.values.batch === undefined ? undefined : intOption(args, 'batch', 1, 4096),
      log: io.err,
      onProgress: bar
        ? (done, total) =>
            process.stderr.write(`\rpredict [${'#'.repeat(Math.round((24 * done) / total)).padEnd(24, '.')}] ${done}/${total}${done === total ? '\n' : ''}`)
        : undefined,
    });
    if (io.json) io.out(JSON.stringify(r));
    else io.out(`${r.masks.length} mask${r.masks.length === 1 ? '' : 's'} in ${r.out} (model ${r.model})`);
    return 0;
  },
};
