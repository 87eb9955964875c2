// The report of a tiny sweep (3 policies, 1 seed, 1 epoch) opens in headless Chromium without console
// errors or network requests, its charts render, a hostile class name shows as text, and a screenshot is
// kept under test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { escapeHtml, inlineScript, jsonForScript } from '../../src/report/html.js';
import { cli, EVIL, sweepArgs, tinySetting } from '../sweep/fixtures.js';
import { browserMissing, checkReport } from './browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

test('names are escaped for HTML and for JSON inside <script>', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const j = jsonForScript({ name: '</script><!-- \u2028\u2029 &' });
  assert.ok(!/[<>&\u2028\u2029]/.test(j), j);
  assert.deepEqual(JSON.parse(j), { name: '</script><!-- \u2028\u2029 &' });
  assert.equal(inlineScript('a="</script>";b="<!--"'), 'a="<\\/script>";b="<\\!--"');
});

test("a tiny sweep's report opens in Chromium: no console errors, charts render, names shown as text", { timeout: 120_000 }, async (t) => {
  const missing = browserMissing();
  if (missing) {
    if (process.env.CI === 'true') assert.fail(`${missing} (required in CI)`);
    t.skip(missing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'unet-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await tinySetting(dir, { evilName: true });
  const out = join(dir, 'sweep');
  const sw = cli([...sweepArgs(s, out), '--parallel', '3', '--quiet']);
  assert.equal(sw.code, 0, sw.stderr);
  const rep = cli(['report', out, '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  const file = (JSON.parse(rep.stdout) as { file: string }).file;
  assert.equal(file, join(out, 'report.html'));
  const html = readFileSync(file, 'utf8');
  assert.ok(!html.includes(EVIL), 'the class name reached the page unescaped');
  assert.ok(!/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i.test(html), 'the page loads something from outside');

  const shot = join(ARTIFACTS, 'report-sweep.png');
  const r = await checkReport(file, shot);
  assert.deepEqual(r.pageErrors, []);
  assert.deepEqual(r.consoleErrors, []);
  assert.deepEqual(r.dialogs, [], 'a script in a name ran');
  assert.deepEqual(r.requests, [], 'the report asked the network for something');
  assert.ok(r.chartsReady, 'vega-embed did not finish');
  // Pareto vs time, Pareto vs parameters, per-layer drift, curves, per-class IoU.
  assert.ok(r.chartSvgs >= 5, `only ${r.chartSvgs} charts rendered`);
  assert.equal(r.uBlocks, 6, 'the U diagram should show enc1, enc2, bottleneck, dec2, dec1, head');
  assert.ok(r.bodyText.includes(EVIL), 'the class name should show as text');
  assert.match(r.bodyText, /Sample predictions/);
  assert.ok(existsSync(shot) && statSync(shot).size > 10_000, 'no screenshot');
});
