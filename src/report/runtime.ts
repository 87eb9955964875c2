// The chart runtime (Vega, Vega-Lite, vega-embed), read from node_modules and inlined in each report so
// that the page works offline and never asks a CDN for anything.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageDir } from '../util/package_dir.js';
import { UserError } from '../util/errors.js';
import { inlineScript } from './html.js';

const FILES: [pkg: string, file: string][] = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
];

let cached: string | null = null;

/** The three libraries as one script body (UMD builds: they define window.vega, vegaLite, vegaEmbed). */
export function chartRuntime(): string {
  if (cached !== null) return cached;
  const parts: string[] = [];
  for (const [pkg, file] of FILES) {
    const root = packageDir(pkg);
    if (!root || !existsSync(join(root, file)))
      throw new UserError(
        `the report needs the npm package ${pkg} (${root ? join(root, file) : `node_modules/${pkg}`} is missing; its runtime is inlined in report.html); run npm install`,
      );
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    parts.push(`/* ${pkg} ${version} (BSD-3-Clause) */\n${inlineScript(readFileSync(join(root, file), 'utf8'))}`);
  }
  cached = parts.join('\n;\n');
  return cached;
}
