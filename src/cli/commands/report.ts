// `report DIR`: one self-contained report.html for a run, a diff or a sweep folder.
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';

import { renderDemoFolder } from '../../demo/page.js';
import { useBestBackend } from '../../engine/index.js';
import { gatherReport } from '../../report/gather.js';
import { writeReport } from '../../report/page.js';
import { UsageError, UserError } from '../../util/errors.js';
import type { Command } from '../command.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 'write one self-contained report.html (works offline) for a run, diff, sweep or demo folder',
  usage: 'DIR [--out FILE] [--json]',
  options: { out: { type: 'string', valueName: 'FILE', description: 'where to write the page (default DIR/report.html)' } },
  examples: ['unet-transfer report sweeps/speckle', 'unet-transfer report runs/decoder --out /tmp/decoder.html'],
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('give one folder: unet-transfer report DIR (a run, a sweep, a diff or a demo folder)');
    const dir = resolve(args.positionals[0]!);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      /* reported below */
    }
    if (!isDir) throw new UserError(`${dir}: no such folder`);
    const out = resolve(typeof args.values.out === 'string' ? args.values.out : join(dir, 'report.html'));
    await useBestBackend('native', io.err);
    if (existsSync(join(dir, 'demo.json'))) {
      const file = await renderDemoFolder(dir, out);
      if (io.json) io.out(JSON.stringify({ file, kind: 'demo', charts: true, samples: 0, notes: [] }));
      else io.out(`wrote ${file} (demo report)`);
      return 0;
    }
    const data = await gatherReport(dir);
    writeReport(out, data);
    if (io.json) io.out(JSON.stringify({ file: out, kind: data.kind, charts: true, samples: data.samples?.rows.length ?? 0, notes: data.notes }));
    else io.out(`wrote ${out} (${data.kind} report${data.notes.length ? `; ${data.notes.join('; ')}` : ''})`);
    return 0;
  },
};
