/**
 * What a report holds, as data: the same object `slimtext report --json` prints and the HTML is
 * drawn from. A report is a list of charts, each a kind (which Vega-Lite spec draws it, specs.ts)
 * plus its rows, and tables; model reports (models.ts) and bench reports (bench.ts) both produce it.
 */

export const REPORT_FORMAT = 'slimtext-report';
export const REPORT_VERSION = 1;

/** The chart kinds specs.ts can draw; each names the row shape it reads. */
export type ChartKind =
  | 'pareto' // ParetoRow: accuracy against one-core latency (log), size as mark size
  | 'sizes' // SizeRow: bytes by part, one stacked bar per model
  | 'curves' // CurveRow: loss and dev metric per epoch, one line per model
  | 'f1' // ClassRow: per-class F1 of one model
  | 'confusion' // ConfusionRow: gold x predicted counts of one model
  | 'bars'; // BarRow: grouped bars (bench reports: times, accuracies, savings)

export interface ParetoRow {
  model: string;
  /** Colour group: 'transformer', 'dan', 'teacher', ... */
  kind: string;
  accuracy: number;
  latency_ms: number;
  size_bytes: number;
  /** True when no other point is both more accurate and faster. */
  pareto: boolean;
  /** Facet (bench reports: the data set); absent in model reports. */
  set?: string;
}

export interface SizeRow {
  model: string;
  /** 'embeddings' | 'layers' | 'heads' | 'vocabulary' | 'other' (a compressed table adds its own). */
  part: string;
  bytes: number;
}

export interface CurveRow {
  model: string;
  /** 'finetune', 'distill', 'supervised', ...: a model trained in phases has one line per phase. */
  phase: string;
  /** 1-based, counted across phases. */
  epoch: number;
  /** 'loss' or the dev metric's name ('dev accuracy'). */
  series: string;
  value: number;
}

export interface ClassRow {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ConfusionRow {
  gold: string;
  predicted: string;
  count: number;
  /** Share of the gold row (for the colour). */
  share: number;
}

export interface BarRow {
  /** The x category (a variant, a model). */
  group: string;
  /** The colour (a series within the group). */
  series: string;
  value: number;
  /** Facet (a data set). */
  set?: string;
}

export interface Chart {
  id: string;
  kind: ChartKind;
  title: string;
  /** One sentence: what the chart shows and how to read it. */
  caption: string;
  /** Where its numbers came from (a command, a log file). */
  source: string;
  rows: unknown[];
  /** Axis titles and scales that differ per chart. */
  options?: { x?: string; y?: string; size?: string; logY?: boolean; facet?: boolean };
}

export interface Table {
  id: string;
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface ReportData {
  format: typeof REPORT_FORMAT;
  version: number;
  title: string;
  /** One line under the title: data, split, machine. */
  subtitle: string;
  created: string;
  /** The command that made the report (also the command that remakes every chart in it). */
  command: string;
  machine: { cpu: string; cpus: number; backend: string };
  charts: Chart[];
  tables: Table[];
  notes: string[];
}
