// The report page: one self-contained HTML file (charts' runtime inlined, pictures as data URIs, no
// network), written atomically. Every name and path goes through escapeHtml or jsonForScript.
import { colorOf } from '../data/classes.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ciText } from '../util/stats.js';
import { classIouSpec, curvesSpec, layerBarsSpec, paretoSpec, type ParetoRow } from './charts.js';
import type { ReportData } from './gather.js';
import { escapeHtml as e, jsonForScript } from './html.js';
import { chartRuntime } from './runtime.js';
import { uDiagram } from './u_diagram.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.path{color:#666;font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
table{border-collapse:collapse;font-size:13px} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
tr.front td:first-child{font-weight:bold} tr.rec td{background:#eaf1fb}
.utoggle{border:1px solid #aaa;background:#f6f6f6;border-radius:4px;padding:3px 10px;cursor:pointer} .utoggle.on{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
.ulegend{margin:6px 0;font-size:12px;color:#555;display:flex;gap:8px;align-items:center} .ramp{display:inline-block;width:120px;height:10px;border:1px solid #ccc}
svg.unet{max-width:100%;height:auto} .charts{display:flex;flex-wrap:wrap;gap:24px}
.grid{display:grid;grid-template-columns:repeat(5,auto);gap:6px 10px;align-items:center;justify-content:start}
.grid img{width:112px;height:auto;image-rendering:pixelated;border:1px solid #ccc} .grid .hd{font-weight:bold;font-size:12px}
.note{color:#8a5a00} .err{color:#b00} .explain li{margin:2px 0} code{background:#f3f3f3;padding:0 3px}
`;

/**
 * The page script (also used by the demo page): renders the Vega-Lite charts, and makes the measure toggles of each
 * U diagram switch that diagram's blocks (each `.ufig` is a scope of its own; a page without one is one scope).
 */
export const PAGE_SCRIPT = `
(function(){
  var specs = JSON.parse(document.getElementById('report-specs').textContent);
  var pending = [];
  specs.forEach(function(s){
    var el = document.getElementById(s.id);
    if (!el) return;
    pending.push(vegaEmbed(el, s.spec, {renderer:'svg', actions:false}).catch(function(err){
      el.textContent = 'chart failed: ' + err.message; el.className += ' err'; console.error(err);
    }));
  });
  Promise.all(pending).then(function(){ document.body.setAttribute('data-charts', 'ready'); });
  var scopes = document.querySelectorAll('.ufig');
  (scopes.length ? scopes : [document]).forEach(function(fig){
    var buttons = fig.querySelectorAll('.utoggle');
    buttons.forEach(function(b){
      b.addEventListener('click', function(){
        var key = b.getAttribute('data-key'), label = b.getAttribute('data-label');
        buttons.forEach(function(x){ x.classList.toggle('on', x === b); });
        fig.querySelectorAll('.ublock').forEach(function(g){
          g.querySelector('rect').setAttribute('fill', g.getAttribute('data-fill-' + key));
          g.querySelector('.uvalue').textContent = label + ' ' + g.getAttribute('data-value-' + key);
        });
        var m = fig.querySelector('.umeaning'); if (m) m.textContent = b.getAttribute('data-meaning');
      });
    });
  });
})();
`;

const f4 = (v: number | null | undefined, d = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');

function sweepSection(r: ReportData, specs: { id: string; spec: unknown }[]): string {
  const s = r.sweep!;
  const rec = r.advice?.spec ?? null;
  const within = (p: { params_share: number; flops_share: number; time_share: number | null }): boolean | null => {
    if (!r.advice) return null;
    const b = r.advice.budget;
    return b.kind === 'params' ? p.params_share <= b.limit + 1e-12 : (p.time_share ?? p.flops_share) <= b.limit + 1e-12;
  };
  const rows = [...s.policies].sort((a, b) => (b.val_miou_mean ?? -1) - (a.val_miou_mean ?? -1));
  // Binary sweeps: mIoU over background and foreground, and the foreground IoU beside it.
  const binary = s.head_mode === 'binary';
  const miouTitle = binary ? 'val mIoU (background + foreground)' : s.head_mode === 'multilabel' ? 'val mIoU (over labels)' : 'val mIoU';
  const table = `<table><thead><tr><th>policy</th><th>${miouTitle}</th><th>±</th><th>95% CI</th>${binary ? '<th>val foreground IoU</th>' : ''}<th>seeds</th><th>trainable params</th><th>share</th><th>FLOPs/step</th><th>flops share</th><th>step s</th><th>wall s</th><th>peak RSS MiB</th><th>Pareto</th></tr></thead><tbody>${rows
    .map(
      (p) =>
        `<tr class="${p.pareto_time || p.pareto_params ? 'front' : ''}${p.policy === rec ? ' rec' : ''}"><td>${e(p.policy)}${p.policy === rec ? ' (recommended)' : ''}</td><td>${f4(p.val_miou_mean)}</td><td>${f4(p.val_miou_std)}</td><td>${ciText(p.val_miou_ci95)}</td>${binary ? `<td>${f4(p.val_iou_fg_mean ?? null)}</td>` : ''}<td>${p.seeds_done}/${p.seeds_planned}</td><td>${p.trainable_parameters}</td><td>${(p.params_share * 100).toFixed(1)}%</td><td>${p.flops_per_step.toExponential(2)}</td><td>${(p.flops_share * 100).toFixed(1)}%</td><td>${f4(p.step_seconds, 3)}</td><td>${f4(p.wall_seconds, 1)}</td><td>${p.peak_rss_mib ?? '-'}</td><td>${p.pareto_time ? 'time ' : ''}${p.pareto_params ? 'params' : ''}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const pts = (cost: (p: (typeof rows)[number]) => number | null, front: (p: (typeof rows)[number]) => boolean): ParetoRow[] =>
    rows
      .filter((p) => p.val_miou_mean !== null && cost(p) !== null && Number.isFinite(cost(p)!))
      .map((p) => ({
        policy: p.policy,
        miou: p.val_miou_mean!,
        std: p.val_miou_std ?? 0,
        cost: cost(p)!,
        front: front(p),
        recommended: p.policy === rec,
        within_budget: within(p),
      }));
  specs.push({
    id: 'chart-pareto-time',
    spec: paretoSpec(
      pts(
        (p) => p.step_seconds,
        (p) => p.pareto_time,
      ),
      'measured step time (s)',
      false,
    ),
  });
  specs.push({
    id: 'chart-pareto-params',
    spec: paretoSpec(
      pts(
        (p) => Math.max(1, p.trainable_parameters),
        (p) => p.pareto_params,
      ),
      'trainable parameters',
      true,
    ),
  });
  const missing = s.trials.missing.length
    ? `<p class="note">${s.trials.missing.length} of ${s.trials.planned} trials have no result yet (${e(s.trials.missing.join(', '))}); rerun the sweep to finish them.</p>`
    : '';
  let advice = '';
  if (r.advice) {
    const v = r.advice.verify as { verdict?: string } | null | undefined;
    const h = r.advice.halving;
    // Each rung is a sweep folder of its own (with its own report); here, what each rung ranked and kept.
    const rungs = h
      ? `<h3>Short trials (successive halving)</h3><table><thead><tr><th>rung</th><th>trained</th><th>policy: val mIoU (95% CI)</th><th>kept</th></tr></thead><tbody>${h.rungs
          .map(
            (g, k) =>
              `<tr><td>${g.rung + 1}${h.dirs[k] ? ` <small class="path">${e(h.dirs[k]!)}</small>` : ''}</td><td>${g.candidates} x ${g.epochs} epoch(s) on ${g.trainSamples} samples x ${g.seeds} seed(s)</td><td>${g.policies.map((p) => `${e(p.policy)}: ${f4(p.val_miou_mean, 3)}${p.val_miou_ci95 ? ` (${ciText(p.val_miou_ci95)})` : ''}`).join('<br>')}</td><td>${e(g.kept.join(', '))}</td></tr>`,
          )
          .join('')}</tbody></table><p>Spent ${h.spent_seconds.toFixed(1)} priced seconds of a cap of ${h.plan.cap_seconds.toFixed(1)}.</p>`
      : '';
    advice = `<h2>Recommendation</h2><p>Within the budget <code>${e(r.advice.budget.text)}</code>: train <code>${e(r.advice.spec)}</code> (blocks ${e(r.advice.blocks.join(', '))}).</p><ul class="explain">${r.advice.explanation.map((l) => `<li>${e(l)}</li>`).join('')}</ul>${rungs}${v?.verdict ? `<p><b>Checked against the sweep:</b> ${e(v.verdict)}</p>` : ''}`;
  }
  return `${advice}<h2>Sweep</h2><p>${s.settings.epochs} epoch(s), batch ${s.settings.batch}, lr ${e(s.settings.lr)}, seeds ${e(s.settings.seeds.join(', '))}; model <span class="path">${e(s.settings.model)}</span>, data <span class="path">${e(s.settings.data)}</span></p>${missing}${table}<div class="charts"><div id="chart-pareto-time"></div><div id="chart-pareto-params"></div></div>`;
}

export function renderReport(r: ReportData): string {
  const specs: { id: string; spec: unknown }[] = [];
  const sections: string[] = [];
  if (r.sweep) sections.push(sweepSection(r, specs));
  if (r.blocks.length) {
    sections.push(`<h2>The U-Net${r.featured ? `: ${e(r.featured)} (the run shown in detail)` : ''}</h2>${uDiagram(r.blocks, r.measures, new Set(r.marked))}`);
  }
  if (r.layerBars.length) {
    specs.push({ id: 'chart-layers', spec: layerBarsSpec(r.layerBars, 'relative drift per layer') });
    sections.push(`<h2>Per-layer drift</h2><div id="chart-layers"></div>`);
  }
  if (r.curves.length) {
    specs.push({ id: 'chart-curves', spec: curvesSpec(r.curves) });
    sections.push(`<h2>Training curves</h2><div id="chart-curves"></div>`);
  }
  if (r.classIou.length) {
    specs.push({ id: 'chart-classes', spec: classIouSpec(r.classIou, 'validation IoU per class (last epoch)') });
    sections.push(
      `<h2>Per-class IoU</h2><div class="charts"><div id="chart-classes"></div><table class="classes"><thead><tr><th>class</th><th>IoU</th></tr></thead><tbody>${r.classIou.map((c) => `<tr><td>${e(c.name)}</td><td>${f4(c.iou)}</td></tr>`).join('')}</tbody></table></div>`,
    );
  }
  if (r.samples?.rows.length) {
    const g = r.samples;
    const cell = (src: string, alt: string) => (src ? `<img src="${e(src)}" alt="${e(alt)}">` : '<span>-</span>');
    sections.push(
      `<h2>Sample predictions</h2>${g.note ? `<p class="note">${e(g.note)}</p>` : ''}<div class="grid"><span class="hd">sample</span><span class="hd">image</span><span class="hd">truth</span><span class="hd">pretrained</span><span class="hd">fine-tuned</span>${g.rows
        .map(
          (s) =>
            `<span>${e(s.stem)}</span>${cell(s.image, 'image')}${cell(s.truth, 'truth')}${cell(s.pretrained, 'pretrained')}${cell(s.finetuned, 'fine-tuned')}`,
        )
        .join(
          '',
        )}</div><p>${g.classes.map((c) => `<span style="display:inline-block;width:10px;height:10px;background:rgb(${colorOf(c).map(Number).join(',')})"></span> ${e(c.name)}`).join(' &nbsp; ')}</p>`,
    );
  }
  const notes = r.notes.map((n) => `<p class="note">${e(n)}</p>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(r.title)}: unet-transfer report</title><style>${STYLE}</style></head>
<body data-kind="${e(r.kind)}"><h1>${e(r.title)}</h1><div class="path">${e(r.dir)}</div><div class="path">generated ${e(new Date().toISOString())} by unet-transfer report</div>
${notes}${sections.join('\n')}
<script type="application/json" id="report-specs">${jsonForScript(specs)}</script>
<script>${chartRuntime()}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

export function writeReportPage(file: string, r: ReportData): void {
  writeFileAtomic(file, renderReport(r));
}
