// A picture of a report's top for the README: node scripts/make-report-shot.mjs REPORT.html OUT.png [HEIGHT]
// (docs/report.png is the full demo's runs/demo/report.html). Debian's Chromium, headless, no network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [file, out, height = '1500'] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node scripts/make-report-shot.mjs REPORT.html OUT.png [HEIGHT]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'unet-shot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: Number(height) },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts="ready"]', { timeout: 30_000 }).catch(() => console.error('charts did not finish; the picture may lack them'));
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: Number(height) } });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
