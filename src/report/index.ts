// Reports: one self-contained, offline report.html for a run, a diff, a sweep or a demo folder.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { renderDemoFolder } from '../demo/page.js';
import { useBestBackend } from '../engine/index.js';
import { badInputOption } from '../util/errors.js';
import { gatherReport, type ReportData } from './gather.js';
import { writeReportPage } from './page.js';

export { gatherReport, type ReportData } from './gather.js';
export { renderReport, writeReportPage } from './page.js';

export interface ReportOptions {
  /** The folder: a run (run.json), a sweep (plan.json), a diff (diff.json) or a demo (demo.json). */
  dir: string;
  /** Where to write the page (default DIR/report.html). */
  out?: string;
  log?: (line: string) => void;
}

export interface ReportWritten {
  file: string;
  kind: ReportData['kind'] | 'demo';
  samples: number;
  notes: string[];
}

/** Writes the folder's report page (atomically) and says what it shows. */
export async function writeReport(o: ReportOptions): Promise<ReportWritten> {
  const dir = resolve(o.dir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw badInputOption('dir', `${dir}: no such folder`);
  const out = resolve(o.out ?? join(dir, 'report.html'));
  await useBestBackend('native', o.log);
  if (existsSync(join(dir, 'demo.json'))) return { file: await renderDemoFolder(dir, out), kind: 'demo', samples: 0, notes: [] };
  const data = await gatherReport(dir);
  writeReportPage(out, data);
  return { file: out, kind: data.kind, samples: data.samples?.rows.length ?? 0, notes: data.notes };
}
