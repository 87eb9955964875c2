// `report DIR`: one self-contained report.html for a run, a diff or a sweep folder.
import { writeReport } from '../../report/index.js';
import { UsageError } from '../../util/errors.js';
import type { Command } from '../command.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 'write one self-contained report.html (works offline) for a run, diff, sweep or demo folder',
  usage: 'DIR [--out FILE] [--json]',
  options: { out: { type: 'string', valueName: 'FILE', description: 'where to write the page (default DIR/report.html)' } },
  examples: ['unet-transfer report sweeps/speckle', 'unet-transfer report runs/decoder --out /tmp/decoder.html'],
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('give one folder: unet-transfer report DIR (a run, a sweep, a diff or a demo folder)');
    const r = await writeReport({ dir: args.positionals[0]!, out: typeof args.values.out === 'string' ? args.values.out : undefined, log: io.err });
    if (io.json) io.out(JSON.stringify({ file: r.file, kind: r.kind, charts: true, samples: r.samples, notes: r.notes }));
    else io.out(`wrote ${r.file} (${r.kind} report${r.notes.length ? `; ${r.notes.join('; ')}` : ''})`);
    return 0;
  },
};
