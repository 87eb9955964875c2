#!/usr/bin/env node
// The command-line entry point: the compiled CLI lives in dist/ (built by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('unet-transfer: not built yet. Run `npm run build` in the package folder first.');
  process.exit(1);
}
await import(main.href);
