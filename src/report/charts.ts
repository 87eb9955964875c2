// Vega-Lite specifications of the report's charts. Data is inlined in each spec (values), so the page
// needs nothing but the inlined runtime.

type Spec = Record<string, unknown>;
const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white' };

export interface LayerBar {
  layer: string;
  block: string;
  region: string;
  value: number;
  order: number;
}

export function layerBarsSpec(rows: LayerBar[], title: string): Spec {
  return {
    ...BASE,
    title,
    width: 520,
    height: { step: 14 },
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'layer', type: 'nominal', sort: { field: 'order' }, title: null },
      x: { field: 'value', type: 'quantitative', title },
      color: { field: 'region', type: 'nominal', scale: { domain: ['encoder', 'bottleneck', 'decoder', 'head'] } },
      tooltip: [{ field: 'layer' }, { field: 'block' }, { field: 'value', format: '.4g' }],
    },
  };
}

export interface CurvePoint {
  run: string;
  epoch: number;
  metric: string;
  value: number;
}

export function curvesSpec(points: CurvePoint[]): Spec {
  return {
    ...BASE,
    data: { values: points },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false } },
        color: { field: 'run', type: 'nominal', title: 'run' },
      },
    },
  };
}

export interface ParetoRow {
  policy: string;
  miou: number;
  std: number;
  cost: number;
  front: boolean;
  recommended: boolean;
  within_budget: boolean | null;
}

/** mIoU against one cost, the front drawn as a step line, the recommendation ringed. */
export function paretoSpec(rows: ParetoRow[], costTitle: string, log: boolean): Spec {
  const front = rows.filter((r) => r.front).sort((a, b) => a.cost - b.cost);
  return {
    ...BASE,
    title: `val mIoU vs ${costTitle}`,
    width: 420,
    height: 300,
    layer: [
      {
        data: { values: front },
        mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [4, 3] },
        encoding: { x: { field: 'cost', type: 'quantitative' }, y: { field: 'miou', type: 'quantitative' } },
      },
      {
        data: { values: rows },
        layer: [
          {
            mark: { type: 'rule' },
            encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
            transform: [
              { calculate: 'datum.miou - datum.std', as: 'lo' },
              { calculate: 'datum.miou + datum.std', as: 'hi' },
            ],
          },
          {
            mark: { type: 'point', filled: true, size: 90, tooltip: true },
            encoding: {
              color: { field: 'front', type: 'nominal', title: 'on the Pareto front', scale: { domain: [true, false], range: ['#d62728', '#7f7f7f'] } },
              tooltip: [
                { field: 'policy' },
                { field: 'miou', format: '.4f', title: 'mIoU' },
                { field: 'std', format: '.4f', title: 'spread' },
                { field: 'cost', format: '.4g', title: costTitle },
              ],
            },
          },
          { transform: [{ filter: 'datum.recommended' }], mark: { type: 'point', size: 400, strokeWidth: 3, color: '#1f5fbf' } },
          { mark: { type: 'text', dx: 8, align: 'left', fontSize: 11 }, encoding: { text: { field: 'policy' } } },
        ],
        encoding: {
          x: { field: 'cost', type: 'quantitative', title: costTitle, scale: log ? { type: 'log' } : { zero: false } },
          y: { field: 'miou', type: 'quantitative', title: 'val mIoU (mean over seeds)', scale: { zero: false } },
        },
      },
    ],
  };
}

export function classIouSpec(rows: { name: string; iou: number }[], title: string): Spec {
  return {
    ...BASE,
    title,
    width: 420,
    height: { step: 18 },
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'name', type: 'nominal', sort: null, title: 'class' },
      x: { field: 'iou', type: 'quantitative', title: 'IoU', scale: { domain: [0, 1] } },
    },
  };
}
