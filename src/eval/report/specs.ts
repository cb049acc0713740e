/**
 * One Vega-Lite spec per chart kind, the chart's rows inlined as its data (no URLs: a report never
 * loads anything). Sizes are fixed so the SVG drawn from a spec has the same shape in any browser.
 */
import type { Chart, ChartKind } from './data.js';

export type VegaLiteSpec = Record<string, unknown>;

const WIDTH = 520;
const HEIGHT = 300;
const FONT = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';

const BUILDERS: Record<ChartKind, (c: Chart) => VegaLiteSpec> = {
  pareto: (c) => {
    const facet = c.options?.facet === true;
    const layers = [
      {
        transform: [{ filter: 'datum.pareto' }],
        mark: { type: 'line', color: '#888', strokeDash: [4, 3], interpolate: 'step-after' },
        encoding: { x: { field: 'latency_ms', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, order: { field: 'latency_ms' } },
      },
      {
        mark: { type: 'circle', opacity: 0.75, stroke: '#333', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'latency_ms', type: 'quantitative', scale: { type: 'log' }, title: c.options?.x ?? 'latency per text, one core (ms, log scale)' },
          y: { field: 'accuracy', type: 'quantitative', scale: { zero: false, padding: 12 }, title: c.options?.y ?? 'accuracy' },
          size: { field: 'size_bytes', type: 'quantitative', title: c.options?.size ?? 'size (bytes)', scale: { range: [60, 1600], zero: false }, legend: { format: '.2s', tickCount: 3 } },
          color: { field: 'kind', type: 'nominal', title: 'kind' },
          tooltip: [{ field: 'model' }, { field: 'accuracy' }, { field: 'latency_ms' }, { field: 'size_bytes' }],
        },
      },
      // Labels above and below in turn (by latency), so two points of equal accuracy keep readable names.
      ...[0, 1].map((odd) => ({
        transform: [{ window: [{ op: 'row_number', as: 'rank' }], sort: [{ field: 'latency_ms' }], groupby: ['set'] }, { filter: `datum.rank % 2 == ${odd}` }],
        mark: { type: 'text', align: 'left', dx: 8, dy: odd ? -10 : 14, fontSize: 11 },
        encoding: { x: { field: 'latency_ms', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'model' } },
      })),
    ];
    return facet
      ? { facet: { field: 'set', type: 'nominal', title: null }, columns: 3, spec: { width: 240, height: 200, layer: layers }, resolve: { scale: { y: 'independent', x: 'independent' } } }
      : { width: WIDTH, height: HEIGHT, layer: layers };
  },
  sizes: (c) => ({
    width: WIDTH,
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'model', type: 'nominal', title: null, sort: null },
      x: { field: 'bytes', type: 'quantitative', title: c.options?.x ?? 'bytes on disk', axis: { format: '.2s' } },
      color: { field: 'part', type: 'nominal', title: 'part', sort: ['embeddings', 'layers', 'heads', 'vocabulary', 'other'] },
      order: { field: 'part_order', type: 'quantitative' },
      tooltip: [{ field: 'model' }, { field: 'part' }, { field: 'bytes', format: ',' }],
    },
    transform: [{ calculate: "indexof(['embeddings', 'layers', 'heads', 'vocabulary', 'other'], datum.part)", as: 'part_order' }],
  }),
  curves: () => ({
    facet: { field: 'series', type: 'nominal', title: null, sort: ['loss'] },
    columns: 2,
    spec: {
      width: 250,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, title: 'epoch' },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
        color: { field: 'model', type: 'nominal', title: 'model' },
        strokeDash: { field: 'phase', type: 'nominal', title: 'phase' },
        detail: { field: 'phase' },
        tooltip: [{ field: 'model' }, { field: 'phase' }, { field: 'epoch' }, { field: 'series' }, { field: 'value' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  }),
  f1: () => ({
    width: WIDTH - 120,
    height: { step: 16 },
    transform: [{ calculate: "datum.label + ' (' + datum.support + ')'", as: 'class' }],
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      y: { field: 'class', type: 'nominal', sort: null, title: null },
      x: { field: 'f1', type: 'quantitative', scale: { domain: [0, 1] }, title: 'F1' },
      tooltip: [{ field: 'label' }, { field: 'f1' }, { field: 'precision' }, { field: 'recall' }, { field: 'support' }],
    },
  }),
  confusion: (c) => {
    const k = Math.round(Math.sqrt(c.rows.length));
    const cell = Math.max(12, Math.min(48, Math.floor(420 / Math.max(k, 1))));
    return {
      width: { step: cell },
      height: { step: cell },
      encoding: {
        x: { field: 'predicted', type: 'nominal', title: 'predicted', sort: null, axis: { labelAngle: -45 } },
        y: { field: 'gold', type: 'nominal', title: 'gold', sort: null },
      },
      layer: [
        { mark: { type: 'rect' }, encoding: { color: { field: 'share', type: 'quantitative', title: 'share of gold row', scale: { scheme: 'blues', domain: [0, 1] } }, tooltip: [{ field: 'gold' }, { field: 'predicted' }, { field: 'count' }] } },
        ...(cell >= 22
          ? [{ mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' } } }]
          : []),
      ],
    };
  },
  bars: (c) => {
    const inner = {
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30 } },
        xOffset: { field: 'series', type: 'nominal', sort: null },
        // A log scale has no zero for bars to start from: they start at the smallest value / 2.
        y: { field: 'value', type: 'quantitative', stack: null, title: c.options?.y ?? null, ...(c.options?.logY ? { scale: { type: 'log', domainMin: logFloor(c.rows) }, axis: { format: '~s' } } : {}) },
        color: { field: 'series', type: 'nominal', title: null, sort: null },
        tooltip: [{ field: 'set' }, { field: 'group' }, { field: 'series' }, { field: 'value' }],
      },
    };
    return c.options?.facet
      ? { facet: { field: 'set', type: 'nominal', title: null }, columns: 3, spec: { width: 220, height: 180, ...inner }, resolve: { scale: { y: 'independent' } } }
      : { width: WIDTH, height: HEIGHT, ...inner };
  },
};

function logFloor(rows: readonly unknown[]): number {
  const v = rows.map((r) => (r as { value: number }).value).filter((x) => x > 0);
  return v.length ? 10 ** Math.floor(Math.log10(Math.min(...v) / 2)) : 1;
}

/** The Vega-Lite spec that draws a chart. */
export function chartSpec(chart: Chart): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: chart.rows },
    config: { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
    ...BUILDERS[chart.kind](chart),
  };
}
