// The demo's one page, DIR/report.html: the answer for each shift, the policies side by side, the full
// fine-tune's blocks drawn as a U (drift, CKA, reset sensitivity, gradient probe), sample predictions, and
// links to the detailed sweep and run reports beside it. Self-contained like every report (chart runtime
// inlined, pictures as data URIs); every name goes through escapeHtml or jsonForScript.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { escapeHtml as e, jsonForScript } from '../report/html.js';
import { PAGE_SCRIPT } from '../report/page.js';
import { chartRuntime } from '../report/runtime.js';
import { sampleGrid, type SampleGrid } from '../report/samples.js';
import { uDiagram, type DiagramBlock } from '../report/u_diagram.js';
import { collectSweep } from '../sweep/collect.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ciText } from '../util/stats.js';
import { UserError } from '../util/errors.js';
import { MIOU_TOLERANCE } from './findings.js';
import { DEMO_DOMAINS, DEMO_FORMAT } from './presets.js';
import type { DemoResult, ShiftResult } from './run.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px} h3{font-size:15px;margin:18px 0 6px}
.path{color:#666;font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.summary{background:#f4f8fd;border:1px solid #cfe0f5;border-radius:6px;padding:8px 14px} .summary li{margin:3px 0}
table{border-collapse:collapse;font-size:13px} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
tr.answer td{background:#eaf1fb;font-weight:bold} tr.rec td:first-child{text-decoration:underline}
.utoggle{border:1px solid #aaa;background:#f6f6f6;border-radius:4px;padding:3px 10px;cursor:pointer} .utoggle.on{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
.ulegend{margin:6px 0;font-size:12px;color:#555;display:flex;gap:8px;align-items:center} .ramp{display:inline-block;width:120px;height:10px;border:1px solid #ccc}
svg.unet{max-width:100%;height:auto} .charts{display:flex;flex-wrap:wrap;gap:24px}
.grid{display:grid;grid-template-columns:repeat(5,auto);gap:6px 10px;align-items:center;justify-content:start}
.grid img{width:96px;height:auto;image-rendering:pixelated;border:1px solid #ccc} .grid .hd{font-weight:bold;font-size:12px}
.note{color:#8a5a00} .err{color:#b00} code{background:#f3f3f3;padding:0 3px}
`;

const f3 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '-');
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

interface UnetJsonLite {
  layerMap?: { blocks?: { name: string; region: string; level: number; parameters: number }[] };
}

function diagramBlocks(model: string): DiagramBlock[] {
  try {
    const u = JSON.parse(readFileSync(join(model, 'unet.json'), 'utf8')) as UnetJsonLite;
    return (u.layerMap?.blocks ?? []).map((b) => ({
      name: String(b.name),
      region: String(b.region),
      level: Number(b.level),
      parameters: Number(b.parameters),
    }));
  } catch (err) {
    throw new UserError(`${join(model, 'unet.json')}: cannot read the model's blocks (${(err as Error).message})`);
  }
}

function link(from: string, file: string | null, text: string): string {
  return file ? `<a href="${e(relative(from, file).split('\\').join('/'))}">${e(text)}</a>` : '';
}

function policyTable(r: ShiftResult): string {
  const rows = [...r.summary.policies].sort((a, b) => (b.val_miou_mean ?? -1) - (a.val_miou_mean ?? -1));
  const body = rows
    .map((p) => {
      const cls = [p.policy === r.answer?.policy ? 'answer' : '', p.policy === r.advice.spec ? 'rec' : ''].join(' ').trim();
      const tags = [
        p.policy === r.answer?.policy ? 'the answer' : '',
        p.policy === r.advice.spec ? "advisor's pick" : '',
        p.from_scratch ? 'reference: random init' : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `<tr class="${cls}"><td>${e(p.policy)}${tags ? ` <small>(${e(tags)})</small>` : ''}</td><td>${f3(p.val_miou_mean)}</td><td>${f3(p.val_miou_std)}</td><td>${ciText(p.val_miou_ci95)}</td><td>${p.seeds_done}/${p.seeds_planned}</td><td>${e(p.blocks.join(', '))}</td><td>${pct(p.params_share)}</td><td>${p.time_share === null ? '-' : `${p.time_share.toFixed(2)}x`}</td><td>${pct(p.flops_share)}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>policy</th><th>val mIoU</th><th>±</th><th>95% CI</th><th>seeds</th><th>trained blocks</th><th>params</th><th>step time vs full</th><th>FLOPs vs full</th></tr></thead><tbody>${body}</tbody></table>`;
}

function shiftSection(d: DemoResult, r: ShiftResult, blocks: DiagramBlock[], samples: SampleGrid | null, i: number): string {
  const a = r.answer;
  const v = r.advice.verdict;
  const measures = [
    {
      key: 'drift',
      label: 'drift',
      meaning: 'full fine-tune: relative weight drift ||ΔW|| / ||W|| of the block',
      values: Object.fromEntries(r.blocks.map((b) => [b.block, b.drift])),
    },
    {
      key: 'cka',
      label: 'CKA',
      meaning: "full fine-tune: linear CKA of the block's outputs before vs after on target images (low = representation changed)",
      values: Object.fromEntries(r.blocks.map((b) => [b.block, b.cka])),
      invert: true,
    },
    {
      key: 'reset',
      label: 'reset sensitivity',
      meaning: 'full fine-tune: target mIoU lost when only this block is put back to its pretrained weights',
      values: Object.fromEntries(r.blocks.map((b) => [b.block, b.reset_sensitivity])),
    },
    {
      key: 'rgn',
      label: 'gradient probe',
      meaning: "before training: relative gradient norm ||∇W L|| / ||W|| on target batches (Auto-RGN), the advisor's evidence",
      values: Object.fromEntries(r.blocks.map((b) => [b.block, b.rgn])),
    },
  ].filter((m) => Object.values(m.values).some((x) => typeof x === 'number'));
  const topBy = (k: 'drift' | 'reset_sensitivity', n = 3) =>
    [...r.blocks]
      .filter((b) => typeof b[k] === 'number')
      .sort((x, y) => (y[k] as number) - (x[k] as number))
      .slice(0, n)
      .map((b) => `${b.block} ${f3(b[k])}`)
      .join(', ');
  const lowCka = [...r.blocks]
    .filter((b) => typeof b.cka === 'number')
    .sort((x, y) => x.cka! - y.cka!)
    .slice(0, 3)
    .map((b) => `${b.block} ${f3(b.cka)}`)
    .join(', ');
  const facts = [
    a
      ? `<b>Fine-tune ${e(a.policy)}</b> (blocks ${e(a.blocks.join(', '))}): val mIoU ${f3(a.miou)}, the cheapest policy within ${MIOU_TOLERANCE} of the best (${e(a.best_policy)}, ${f3(a.best_miou)}), training ${pct(a.params_share)} of the parameters at ${a.time_share === null ? `${pct(a.flops_share)} of full's FLOPs` : `${a.time_share.toFixed(2)}x full fine-tuning's measured step time`}.`
      : 'No trial finished.',
    `The pretrained model as it is scores ${f3(r.pretrained_miou)} on the target's validation images; fine-tuning everything (<code>full</code>) ${f3(a?.full_miou ?? r.full_miou)}${a?.full_miou != null ? ' (mean over seeds)' : ''}.`,
    r.source_miou_before === null
      ? ''
      : r.source_miou_after === null
        ? `On the source task (${e(d.domain.pretrainedOn)}) the pretrained model scores ${f3(r.source_miou_before)}; the fine-tuned one has a new head for the target's classes, so it no longer predicts the source classes at all.`
        : `On the source task (${e(d.domain.pretrainedOn)}) the full fine-tune goes from ${f3(r.source_miou_before)} to ${f3(r.source_miou_after)}: ${r.source_miou_after < r.source_miou_before - 0.05 ? 'it forgets the old task' : 'the old task survives'}.`,
    topBy('drift')
      ? `In the full fine-tune, the weights moved most (relative drift) in ${e(topBy('drift'))}; the representations changed most (lowest CKA) in ${e(lowCka)}; and the changes that matter most (reset sensitivity: mIoU lost when the block alone is reset) are in ${e(topBy('reset_sensitivity'))}.`
      : '',
    `The advisor (gradient probe only, before any training, budget ${e(r.advice.budget)}) picked <code>${e(r.advice.spec)}</code>${v ? `; checked against the sweep: ${e(v.verdict)}` : ''}.`,
    r.failed.length ? `<span class="note">${r.failed.length} trial(s) failed: ${e(r.failed.map((f) => `${f.index}: ${f.message}`).join('; '))}</span>` : '',
  ].filter(Boolean);
  const cell = (src: string, alt: string) => (src ? `<img src="${e(src)}" alt="${e(alt)}">` : '<span>-</span>');
  const grid = samples?.rows.length
    ? `<h3>Validation samples: pretrained vs full fine-tune</h3>${samples.note ? `<p class="note">${e(samples.note)}</p>` : ''}<div class="grid"><span class="hd">sample</span><span class="hd">image</span><span class="hd">truth</span><span class="hd">pretrained</span><span class="hd">fine-tuned (full)</span>${samples.rows
        .map(
          (s) =>
            `<span>${e(s.stem)}</span>${cell(s.image, 'image')}${cell(s.truth, 'truth')}${cell(s.pretrained, 'pretrained')}${cell(s.finetuned, 'fine-tuned')}`,
        )
        .join('')}</div>`
    : '';
  return `<h2 id="${e(r.key)}">${i + 1}. ${e(r.title[0]!.toUpperCase() + r.title.slice(1))}: ${e(r.key)}</h2>
<p>${e(r.description)}. Data: <span class="path">${e(relative(d.dir, r.data))}</span>. Details: ${link(d.dir, r.report, 'the sweep report')}${r.full_report ? ` · ${link(d.dir, r.full_report, "the full fine-tune's report")}` : ''}.</p>
<ul>${facts.map((f) => `<li>${f}</li>`).join('')}</ul>
${policyTable(r)}
<h3>The full fine-tune, block by block</h3>
<div class="ufig">${uDiagram(blocks, measures, new Set(a?.blocks ?? []))}</div>
${grid}`;
}

function chartSpec(d: DemoResult, cost: 'params' | 'time'): Record<string, unknown> {
  const rows = d.shifts.flatMap((r) =>
    r.summary.policies
      .filter((p) => p.val_miou_mean !== null && (cost === 'params' || p.time_share !== null))
      .map((p) => ({
        shift: r.key,
        policy: p.policy,
        miou: p.val_miou_mean,
        cost: cost === 'params' ? Math.max(1e-4, p.params_share) : p.time_share,
        answer: p.policy === r.answer?.policy,
      })),
  );
  const title = cost === 'params' ? 'share of parameters trained' : 'step time vs full fine-tuning';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: `val mIoU vs ${title}`,
    width: 440,
    height: 300,
    data: { values: rows },
    layer: [
      { mark: { type: 'point', filled: true, size: 80, tooltip: true } },
      { transform: [{ filter: 'datum.answer' }], mark: { type: 'point', size: 380, strokeWidth: 3 } },
      { mark: { type: 'text', dx: 7, align: 'left', fontSize: 10 }, encoding: { text: { field: 'policy' } } },
    ],
    encoding: {
      x: { field: 'cost', type: 'quantitative', title, scale: cost === 'params' ? { type: 'log' } : { zero: false } },
      y: { field: 'miou', type: 'quantitative', title: 'val mIoU (mean over seeds)', scale: { zero: false } },
      color: { field: 'shift', type: 'nominal', title: 'shift' },
      tooltip: [{ field: 'shift' }, { field: 'policy' }, { field: 'miou', format: '.3f', title: 'mIoU' }, { field: 'cost', format: '.3g', title }],
    },
  };
}

/** Writes DIR/report.html for a finished demo. */
export async function writeDemoPage(d: DemoResult): Promise<string> {
  const blocks = diagramBlocks(d.model);
  const sections: string[] = [];
  for (const [i, r] of d.shifts.entries()) {
    let samples: SampleGrid | null = null;
    if (r.full_run) {
      try {
        samples = await sampleGrid(d.model, join(r.full_run, 'model'), r.data, 4);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
      }
    }
    sections.push(shiftSection(d, r, blocks, samples, i));
  }
  const specs = [
    { id: 'chart-params', spec: chartSpec(d, 'params') },
    { id: 'chart-time', spec: chartSpec(d, 'time') },
  ];
  const p = d.preset;
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>unet-transfer demo: which layers to fine-tune</title><style>${STYLE}</style></head>
<body data-kind="demo"><h1>Which layers of a U-Net to fine-tune: the demo</h1>
<div class="path">${e(d.dir)}</div><div class="path">generated ${e(new Date().toISOString())} by unet-transfer demo${p.name === 'full' ? '' : ` --${e(p.name)}`}</div>
<p>A course U-Net pretrained on ${e(d.domain.pretrainedOn)} (<span class="path">${e(d.model)}</span>) meets ${d.shifts.length} new domains. For each, every freeze policy is fine-tuned with the same budget
(${p.epochs} epoch(s), batch ${p.batch}, lr ${p.lr}, ${p.seeds} seed(s), ${p.train} training and ${p.val} validation scenes), on the <code>${e(d.backend)}</code> backend.
"The answer" is the cheapest policy (by measured step time) whose mean validation mIoU is within ${MIOU_TOLERANCE} of the best.</p>
<div class="summary"><b>Summary</b><ul>${d.summary.map((l) => `<li>${e(l)}</li>`).join('')}</ul></div>
<div class="charts"><div id="chart-params"></div><div id="chart-time"></div></div>
${sections.join('\n')}
<h2>How this was made</h2><p>Each step is a command you can run yourself: <code>data ${d.domain.name === 'world' ? 'world' : 'digits'}</code>, <code>advise</code>, <code>sweep</code>, <code>diff --data --source-data</code>, <code>report</code>; see <code>unet-transfer --help</code>. Each sweep folder can be rerun, extended with more policies or seeds, and reported on its own.</p>
<script type="application/json" id="report-specs">${jsonForScript(specs)}</script>
<script>${chartRuntime()}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
  writeFileAtomic(d.report, html);
  return d.report;
}

/**
 * Re-renders DIR/report.html (or `file`) of a finished demo folder from its demo.json and sweep folders,
 * wherever the folder now lives (the paths are rebuilt from DIR, not taken from the file).
 */
export async function renderDemoFolder(dir: string, file?: string): Promise<string> {
  const jsonFile = join(dir, 'demo.json');
  let d: DemoResult & { state?: string };
  try {
    d = JSON.parse(readFileSync(jsonFile, 'utf8')) as DemoResult & { state?: string };
  } catch (err) {
    throw new UserError(`${jsonFile}: cannot read the demo's record (${(err as Error).message})`);
  }
  if (d.format !== DEMO_FORMAT || !Array.isArray(d.shifts) || !Array.isArray(d.summary))
    throw new UserError(`${jsonFile}: not a demo record (expected format ${DEMO_FORMAT})`);
  if (d.state !== 'done') throw new UserError(`${dir}: the demo has not finished; rerun unet-transfer demo with options.out ${dir} to finish it`);
  const shifts = d.shifts.map((s) => {
    if (typeof s.key !== 'string' || !/^[a-z0-9-]+$/.test(s.key)) throw new UserError(`${jsonFile}: a shift has a malformed key`);
    const sweep = join(dir, s.key);
    const fullRun = s.full_run ? join(sweep, relative(s.sweep, s.full_run)) : null;
    return {
      ...s,
      data: join(dir, 'data', s.key),
      sweep,
      report: join(sweep, 'report.html'),
      full_run: fullRun,
      full_report: fullRun ? join(fullRun, 'report.html') : null,
      summary: collectSweep(sweep),
    };
  });
  // Demo folders of before the world domain recorded no domain: they are digit demos.
  return writeDemoPage({ ...d, domain: d.domain ?? DEMO_DOMAINS.digits, dir, report: file ?? join(dir, 'report.html'), shifts });
}
