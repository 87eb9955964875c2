// Opens a report in Debian's Chromium through playwright-core (never a downloaded browser) and says what a
// user would see: console errors, rendered charts, text, dialogs, and a screenshot.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.UNET_TRANSFER_CHROMIUM ?? '/usr/bin/chromium';

/** null when the browser is there; otherwise why not. In CI (CI=true) a missing browser is a failure. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; scripts/setup.mjs does it as root) or set UNET_TRANSFER_CHROMIUM`;
}

export interface PageCheck {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  requests: string[];
  chartSvgs: number;
  chartCanvases: number;
  chartsReady: boolean;
  bodyText: string;
  uBlocks: number;
  toggles: string[];
  fillAfterToggle: string | null;
  fillBeforeToggle: string | null;
}

/**
 * Debian's headless Chromium with a temporary profile (playwright passes it as --user-data-dir) and no network
 * services; `close()` also removes the profile. Shared with scripts/make-report-shot.mjs.
 */
export async function launchChromium(viewport: { width: number; height: number }) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'unet-report-chrome-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
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
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function checkReport(file: string, screenshot: string): Promise<PageCheck> {
  const { browser, close } = await launchChromium({ width: 1280, height: 900 });
  try {
    const page = await browser.newPage();
    const r: PageCheck = {
      consoleErrors: [],
      pageErrors: [],
      dialogs: [],
      requests: [],
      chartSvgs: 0,
      chartCanvases: 0,
      chartsReady: false,
      bodyText: '',
      uBlocks: 0,
      toggles: [],
      fillAfterToggle: null,
      fillBeforeToggle: null,
    };
    page.on('console', (m) => {
      if (m.type() === 'error') r.consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => r.pageErrors.push(err.message));
    page.on('dialog', (d) => {
      r.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (q) => {
      if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) r.requests.push(q.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('body[data-charts="ready"]', { timeout: 15_000 }).then(
      () => (r.chartsReady = true),
      () => (r.chartsReady = false),
    );
    r.chartSvgs = await page.locator('.vega-embed svg').count();
    r.chartCanvases = await page.locator('.vega-embed canvas').count();
    r.uBlocks = await page.locator('svg.unet .ublock').count();
    r.bodyText = await page.locator('body').innerText();
    r.toggles = await page.locator('.utoggle').allInnerTexts();
    if (r.toggles.length > 1) {
      r.fillBeforeToggle = await page.locator('svg.unet .ublock rect').first().getAttribute('fill');
      await page.locator('.utoggle').nth(1).click();
      r.fillAfterToggle = await page.locator('svg.unet .ublock rect').first().getAttribute('fill');
      await page.locator('.utoggle').first().click();
    }
    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return r;
  } finally {
    await close();
  }
}
