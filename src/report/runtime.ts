// The chart runtime (Vega, Vega-Lite, vega-embed), read from node_modules and inlined in each report so
// that the page works offline and never asks a CDN for anything.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../engine/addon.js';

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
    const root = join(packageRoot(), 'node_modules', pkg);
    if (!existsSync(join(root, file))) throw new UserError(`the report needs the npm package ${pkg} (${join(root, file)} is missing; its runtime is inlined in report.html); run npm install`);
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    parts.push(`/* ${pkg} ${version} (BSD-3-Clause) */\n${inlineScript(readFileSync(join(root, file), 'utf8'))}`);
  }
  cached = parts.join('\n;\n');
  return cached;
}
