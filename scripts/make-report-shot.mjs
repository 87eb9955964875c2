// A picture of a report's top for the README: node scripts/make-report-shot.mjs REPORT.html OUT.png [HEIGHT]
// (docs/report.png is the full demo's runs/demo/report.html). Debian's Chromium, headless, no network, launched
// as the report tests launch it (test/report/browser.ts; run `npx tsc -p .` first).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [file, out, height = '1500'] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node scripts/make-report-shot.mjs REPORT.html OUT.png [HEIGHT]');
  process.exit(2);
}
const helper = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'test', 'report', 'browser.js');
if (!existsSync(helper)) {
  console.error(`${helper} is missing: build first (npx tsc -p .)`);
  process.exit(2);
}
const { launchChromium } = await import(pathToFileURL(helper).href);
const { browser, close } = await launchChromium({ width: 1280, height: Number(height) });
try {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts="ready"]', { timeout: 30_000 }).catch(() => console.error('charts did not finish; the picture may lack them'));
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: Number(height) } });
  console.log(`wrote ${out}`);
} finally {
  await close();
}
