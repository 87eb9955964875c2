// The demo end to end in its smallest configuration (--tiny: the same code path as --quick and the full
// demo, with 16 scenes, 2 policies and 1 epoch): the shipped town16 model, its three shifts (night, indoor rooms
// with a new head, toon), sweeps with the advisor's
// pick, the full fine-tune's analysis, the reports, and an index page that opens in Chromium without errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { renderDemoFolder } from '../../src/demo/page.js';
import { cpuCapabilities, useBestBackend } from '../../src/engine/index.js';
import { browserMissing, checkReport } from '../report/browser.js';

const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });

interface DemoJson {
  report: string;
  preset: string;
  summary: string[];
  seconds: Record<string, number>;
  shifts: {
    key: string;
    kind: string;
    report: string;
    full_report: string | null;
    pretrained_miou: number | null;
    full_miou: number | null;
    answer: { policy: string; miou: number; params_share: number; time_share: number | null } | null;
    advice: { spec: string; verdict: { verdict: string } | null };
    blocks: { block: string; drift: number | null; cka: number | null; reset_sensitivity: number | null; rgn: number | null }[];
    failed: unknown[];
  }[];
}

test('demo --tiny: night, indoor and toon swept and analysed, one summary, a report that opens in Chromium', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'demo');
  const started = Date.now();
  const r = cli('demo', '--tiny', '--out', out, '--json');
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object on stdout');
  const d = JSON.parse(lines[0]!) as DemoJson;
  t.diagnostic(`demo --tiny took ${seconds.toFixed(1)} s (${JSON.stringify(d.seconds)})`);
  assert.equal(d.preset, 'tiny');
  assert.equal(d.report, join(out, 'report.html'));
  assert.equal(d.summary.length, 4, 'a line per shift and one for the advisor');
  assert.match(d.summary[0]!, /input-level shift .*\(night\).*fine-tune \S+/);
  assert.match(d.summary[1]!, /output-level shift .*\(indoor\).*fine-tune \S+/);
  assert.match(d.summary[2]!, /input-level shift .*\(toon\).*fine-tune \S+/);
  assert.match(d.summary[3]!, /advisor/);
  assert.deepEqual(
    d.shifts.map((s) => [s.key, s.kind]),
    [
      ['night', 'input'],
      ['indoor', 'output'],
      ['toon', 'input'],
    ],
  );
  for (const s of d.shifts) {
    assert.deepEqual(s.failed, []);
    assert.ok(s.answer && ['full', 'head', s.advice.spec].includes(s.answer.policy), `${s.key}: answer ${s.answer?.policy}`);
    // Indoor rooms have their own 15 classes: a new head, which the advisor's pick trains too.
    if (s.key === 'indoor') assert.match(s.advice.spec, /head/);
    assert.ok(s.answer.miou > 0 && s.answer.miou <= 1);
    assert.ok(s.advice.verdict && /^(right|tied|wrong)/.test(s.advice.verdict.verdict), `${s.key}: the advisor's pick is checked against the sweep`);
    assert.ok(typeof s.pretrained_miou === 'number' && typeof s.full_miou === 'number');
    // The full fine-tune's analysis and the probe cover every block of the course U-Net.
    assert.equal(s.blocks.length, 10);
    // A new head has no pretrained weights to drift from or reset to: only its probe is measured.
    for (const b of s.blocks) {
      const measures = s.key === 'indoor' && b.block === 'head' ? [b.rgn] : [b.drift, b.cka, b.reset_sensitivity, b.rgn];
      assert.ok(
        measures.every((v) => typeof v === 'number'),
        `${s.key} ${b.block}: a measure is missing`,
      );
    }
    for (const f of [s.report, s.full_report!]) assert.ok(existsSync(f) && statSync(f).size > 100_000, `${f}: no report`);
    const advice = JSON.parse(readFileSync(join(out, s.key, 'advice.json'), 'utf8')) as { verify: unknown };
    assert.ok(advice.verify, 'advice.json records the verdict (the sweep report shows it)');
  }
  const demoJson = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')) as { state: string; summary: string[] };
  assert.equal(demoJson.state, 'done');
  assert.deepEqual(demoJson.summary, d.summary);
  // The page can be rendered again from the folder alone (demo.json and the sweep folders).
  await useBestBackend('native', () => {});
  const again = await renderDemoFolder(out, join(dir, 'again.html'));
  const againHtml = readFileSync(again, 'utf8');
  for (const l of d.summary)
    assert.ok(
      againHtml.includes(l.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')),
      `re-rendered page lacks: ${l}`,
    );

  // Another size in the same folder is refused (nothing is overwritten without --force), as is a folder
  // that is not a demo folder; both fail before any work, on one line.
  const other = cli('demo', '--quick', '--out', out);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /other settings.*--force/);
  assert.equal(other.stderr.trim().split('\n').length, 1, other.stderr);
  const foreign = join(dir, 'mine');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'keep me');
  const refused = cli('demo', '--tiny', '--out', foreign);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /not empty and holds no demo/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'keep me');

  const missing = browserMissing();
  if (missing) {
    if (process.env.CI === 'true') assert.fail(`${missing} (required in CI)`);
    t.diagnostic(`browser check skipped: ${missing}`);
    return;
  }
  const html = readFileSync(d.report, 'utf8');
  assert.ok(!/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i.test(html), 'the page loads something from outside');
  const page = await checkReport(d.report, join(ARTIFACTS, 'report-demo.png'));
  assert.deepEqual(page.pageErrors, []);
  assert.deepEqual(page.consoleErrors, []);
  assert.deepEqual(page.requests, [], 'the report asked the network for something');
  assert.ok(page.chartsReady, 'vega-embed did not finish');
  assert.equal(page.chartSvgs, 2, 'mIoU vs parameters and vs step time');
  assert.equal(page.uBlocks, 30, 'one U of 10 blocks per shift');
  const toggles = ['drift', 'CKA', 'reset sensitivity', 'gradient probe'];
  assert.deepEqual(page.toggles, [...toggles, ...toggles, ...toggles]);
  assert.match(page.bodyText, /Input-level shift: night/);
  assert.match(page.bodyText, /Output-level shift: indoor/);
  assert.match(page.bodyText, /Input-level shift: toon/);
  const words = (x: string) => x.replace(/\s+/g, ' ');
  for (const l of d.summary) assert.ok(words(page.bodyText).includes(words(l)), `the page shows the summary line: ${l}`);
  // The pages it links to are the sweep reports, which pass the report issue's browser check as well.
  const sweep = await checkReport(d.shifts[0]!.report, join(ARTIFACTS, 'report-demo-sweep.png'));
  assert.deepEqual([...sweep.pageErrors, ...sweep.consoleErrors, ...sweep.requests], []);
  assert.ok(sweep.chartsReady && sweep.chartSvgs >= 4 && sweep.uBlocks === 10);
});

test('demo: bad usage is one line and exit code 2', () => {
  const both = cli('demo', '--quick', '--tiny');
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--quick and --tiny/);
  const stray = cli('demo', 'somewhere');
  assert.equal(stray.status, 2);
  assert.equal(stray.stderr.trim().split('\n').length, 1);
  const domain = cli('demo', '--tiny', '--domain', 'mars');
  assert.equal(domain.status, 2);
  assert.match(domain.stderr, /--domain: expected world or digits, got "mars"/);
  const help = cli('demo', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--quick/);
});

test('demo --precision: a bad value or bf16 without the units fails before anything is written; bf16 runs the fine-tunes in bf16', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-demo-precision-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = cli('demo', '--tiny', '--domain', 'digits', '--precision', 'fp16', '--out', join(dir, 'bad'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^unet-transfer demo: --precision must be one of fp32, bf16, auto, got "fp16"$/m);
  assert.ok(!existsSync(join(dir, 'bad')), 'nothing written');
  const hidden = spawnSync(process.execPath, [BIN, 'demo', '--tiny', '--domain', 'digits', '--precision', 'bf16', '--out', join(dir, 'hidden')], {
    encoding: 'utf8',
    env: { ...process.env, UNET_TRANSFER_CPU_NO_BF16: '1' },
  });
  assert.equal(hidden.status, 1);
  assert.match(hidden.stderr, /^unet-transfer demo: --precision: bf16 needs a CPU with AVX512-BF16 or AMX/m);
  assert.ok(!existsSync(join(dir, 'hidden')), 'nothing written');

  await useBestBackend('native');
  const caps = cpuCapabilities();
  if (!caps.bf16) {
    t.skip(`the bf16 demo: no AVX512-BF16/AMX on this CPU: ${caps.bf16Unavailable}`);
    return;
  }
  const out = join(dir, 'bf16');
  const r = cli('demo', '--tiny', '--domain', 'digits', '--precision', 'bf16', '--out', out, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const demo = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')) as { precision: string; shifts: { sweep: string }[] };
  assert.equal(demo.precision, 'bf16');
  for (const s of demo.shifts) assert.equal((JSON.parse(readFileSync(join(s.sweep, 'plan.json'), 'utf8')) as { precision?: string }).precision, 'bf16');
  // The same folder in fp32 is another demo: refused without --force.
  const fp32 = cli('demo', '--tiny', '--domain', 'digits', '--out', out);
  assert.equal(fp32.status, 1);
  assert.match(fp32.stderr, /other settings/);
  // auto means bf16 here: the same settings, so the folder resumes.
  const auto = cli('demo', '--tiny', '--domain', 'digits', '--precision', 'auto', '--out', out, '--quiet');
  assert.equal(auto.status, 0, auto.stderr);
});
