// The drift report as CSV: every row (layers, replaced layers, blocks, regions, total) with the block's
// functional measures (CKA, reset sensitivity, transplant gain, source CKA).
import type { DriftReport } from './weight_drift.js';

export const MEASURES = ['abs', 'rel', 'rms', 'cos', 'filter_max', 'filter_median', 'spectral', 'bias_abs', 'bias_rel'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface FunctionalBlock {
  cka: number | null;
  reset_sensitivity: number | null;
  transplant_gain: number | null;
  source_cka?: number | null;
}

/** Every row (layers, replaced layers, blocks, regions, total) as CSV, with the block's functional measures. */
export function driftCsv(r: DriftReport, functional: Map<string, FunctionalBlock>): string {
  const cols = [
    'level',
    'name',
    'layer',
    'block',
    'region',
    'weight',
    'n',
    ...MEASURES,
    'moving_mean_rel',
    'moving_variance_rel',
    'replaced',
    'cka',
    'reset_sensitivity',
    'transplant_gain',
    'source_cka',
  ];
  const out = [cols.join(',')];
  const row = (o: Record<string, unknown>) => out.push(cols.map((c) => csvCell(o[c])).join(','));
  for (const l of r.layers) row({ level: 'layer', name: l.layer, ...l });
  for (const l of r.replaced) row({ level: 'layer', name: l.layer, ...l });
  for (const b of r.blocks) row({ level: 'block', ...b, block: b.name, ...(functional.get(b.name) ?? {}) });
  for (const g of r.regions) row({ level: 'region', ...g });
  row({ level: 'total', ...r.total });
  return `${out.join('\n')}\n`;
}
