// The U-Net drawn as a U (SVG): encoder blocks down the left, the bottleneck at the bottom, decoder blocks
// up the right, the head at the top right, skip connections across. Each block is coloured by one measure
// (drift, CKA, reset sensitivity, gradient probe); the page's toggle switches between the measures, whose
// colours are precomputed here into data attributes.
import { escapeHtml } from './html.js';

export interface DiagramBlock {
  name: string;
  region: string;
  level: number;
  parameters: number;
}

export interface BlockMeasure {
  /** Key used by the toggle, e.g. `drift`. */
  key: string;
  label: string;
  /** What a high value means, for the legend. */
  meaning: string;
  values: Record<string, number | null>;
  /** True when a low value is the notable end (CKA: low = representations changed). */
  invert?: boolean;
}

/** White -> orange -> dark red, t in [0, 1]. */
export function heat(t: number): string {
  const stops: [number, number, number][] = [
    [255, 247, 236],
    [253, 187, 132],
    [239, 101, 72],
    [153, 0, 0],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((a, k) => Math.round(a + (stops[i + 1]![k]! - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function colours(m: BlockMeasure, blocks: DiagramBlock[]): Record<string, string> {
  const vals = blocks.map((b) => m.values[b.name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const out: Record<string, string> = {};
  for (const b of blocks) {
    const v = m.values[b.name];
    if (typeof v !== 'number' || !Number.isFinite(v)) out[b.name] = '#e5e5e5';
    else {
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      out[b.name] = heat(m.invert ? 1 - t : t);
    }
  }
  return out;
}

const fmt = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '-');

/** The SVG (and the toggle buttons above it) for the blocks and the measures available. */
export function uDiagram(blocks: DiagramBlock[], measures: BlockMeasure[], marked: Set<string> = new Set()): string {
  const depth = Math.max(1, ...blocks.filter((b) => b.region === 'encoder' || b.region === 'decoder').map((b) => b.level));
  const W = 150;
  const H = 46;
  const gapY = 22;
  const width = 4 * W + 120 + depth * 30;
  const height = (depth + 1) * (H + gapY) + 40;
  const pos = (b: DiagramBlock): [number, number] => {
    const y = (lvl: number) => 20 + (lvl - 1) * (H + gapY);
    if (b.region === 'encoder') return [20 + (b.level - 1) * 30, y(b.level)];
    if (b.region === 'decoder') return [width - 2 * W - 40 - (b.level - 1) * 30, y(b.level)];
    if (b.region === 'bottleneck') return [(20 + depth * 30 + width - 2 * W - 40 - depth * 30) / 2, y(depth + 1)];
    return [width - W - 10, y(1)];
  };
  const cols = measures.map((m) => colours(m, blocks));
  const first = measures[0];
  const parts: string[] = [];
  // Skip connections first, so that boxes sit on top of them.
  for (const e of blocks.filter((b) => b.region === 'encoder')) {
    const d = blocks.find((b) => b.region === 'decoder' && b.level === e.level);
    if (!d) continue;
    const [x1, y1] = pos(e);
    const [x2] = pos(d);
    parts.push(`<line x1="${x1 + W}" y1="${y1 + H / 2}" x2="${x2}" y2="${y1 + H / 2}" stroke="#999" stroke-dasharray="5 4"/>`);
  }
  // The data path: down the encoder, through the bottleneck, up the decoder, into the head.
  const order = [
    ...blocks.filter((b) => b.region === 'encoder'),
    ...blocks.filter((b) => b.region === 'bottleneck'),
    ...blocks.filter((b) => b.region === 'decoder'),
    ...blocks.filter((b) => b.region === 'head'),
  ];
  for (let i = 1; i < order.length; i++) {
    const [x1, y1] = pos(order[i - 1]!);
    const [x2, y2] = pos(order[i]!);
    parts.push(`<line x1="${x1 + W / 2}" y1="${y1 + H / 2}" x2="${x2 + W / 2}" y2="${y2 + H / 2}" stroke="#555" stroke-width="2"/>`);
  }
  for (const b of blocks) {
    const [x, y] = pos(b);
    const data = measures
      .map((m, i) => ` data-fill-${escapeHtml(m.key)}="${cols[i]![b.name]}" data-value-${escapeHtml(m.key)}="${escapeHtml(fmt(m.values[b.name]))}"`)
      .join('');
    const fill = first ? cols[0]![b.name] : '#e5e5e5';
    const ring = marked.has(b.name) ? ' stroke="#1f5fbf" stroke-width="4"' : ' stroke="#333" stroke-width="1"';
    parts.push(
      `<g class="ublock" data-block="${escapeHtml(b.name)}"${data}><title>${escapeHtml(`${b.name} (${b.region}, level ${b.level}, ${b.parameters} parameters)`)}</title>` +
        `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="6" fill="${fill}"${ring}/>` +
        `<text x="${x + W / 2}" y="${y + 18}" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(b.name)}</text>` +
        `<text class="uvalue" x="${x + W / 2}" y="${y + 36}" text-anchor="middle" font-size="12">${escapeHtml(first ? `${first.label} ${fmt(first.values[b.name])}` : `${b.parameters} params`)}</text></g>`,
    );
  }
  const buttons = measures
    .map(
      (m, i) =>
        `<button type="button" class="utoggle${i === 0 ? ' on' : ''}" data-key="${escapeHtml(m.key)}" data-label="${escapeHtml(m.label)}" data-meaning="${escapeHtml(m.meaning)}">${escapeHtml(m.label)}</button>`,
    )
    .join(' ');
  const legend = `<div class="ulegend"><span>low</span><span class="ramp" style="background:linear-gradient(90deg,${heat(0)},${heat(0.33)},${heat(0.67)},${heat(1)})"></span><span>high</span> <span class="umeaning">${escapeHtml(first?.meaning ?? 'no per-block measure in this folder')}</span>${marked.size ? ' <span class="marked">blue ring: trained by the recommended / featured policy</span>' : ''}</div>`;
  return `<div class="utoggles">${buttons}</div>${legend}<svg class="unet" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="U-Net blocks">${parts.join('')}</svg>`;
}
