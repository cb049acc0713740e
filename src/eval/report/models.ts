/**
 * The report of a set of model folders on one evaluation set: every model is scored on the same
 * rows (accuracy, macro-F1), timed on one core one text at a time (latency), weighed on disk by
 * part, and its training curve read from its logs; the most accurate one gets per-class F1 and a
 * confusion matrix. Bad input fails before any model is scored: a folder that is not a model, a
 * model that is not a single-text classifier, an evaluation set with labels a model lacks.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { cpus } from 'node:os';
import { InputError, SlimtextError } from '../../errors.js';
import { getBackend } from '../../engine/index.js';
import type { OpenOptions } from '../../data/index.js';
import { readBundle, type BundleManifest } from '../../io/bundle.js';
import { argmaxRows } from '../../models/inference.js';
import { readSplit, requireFields, subsample } from '../../train/tasks/taskData.js';
import { classificationReport } from '../metrics.js';
import { measureThroughput } from '../throughput.js';
import { adapterFor, type ReportModel } from './adapters.js';
import { REPORT_FORMAT, REPORT_VERSION, type Chart, type ClassRow, type ConfusionRow, type CurveRow, type ParetoRow, type ReportData, type SizeRow, type Table } from './data.js';
import { readHistory, type History } from './history.js';
import { bytesByPart } from './sizes.js';

export interface ModelReportOptions {
  /** Model folders (slimtext bundles). */
  models: readonly string[];
  /** Evaluation data (any format slimtext reads). */
  data: string;
  /** Split of `data` (default: the only split, else test). */
  split?: string;
  dataOptions?: OpenOptions;
  /** Score a seeded sample of at most N rows (0: all). */
  maxExamples?: number;
  /** Seconds each model's latency measurement runs (default 1). */
  measureSeconds?: number;
  /** Texts the latency is measured on (default 200, drawn from the evaluation rows). */
  latencyTexts?: number;
  /** Display names, one per model (default: the folder names, made unique). */
  names?: readonly string[];
  /** The command line that made the report (shown in it; default: rebuilt from these options). */
  command?: string;
  title?: string;
  /** One line per model as it is scored. */
  log?: (line: string) => void;
}

/** Per-class charts show at most this many classes (those with the most errors first beyond it). */
export const MAX_CONFUSION_CLASSES = 30;

interface Scored {
  name: string;
  dir: string;
  model: ReportModel;
  manifest: BundleManifest;
  accuracy: number;
  macroF1: number;
  latencyMs: number;
  sizeBytes: number;
  sizes: SizeRow[];
  history: History | undefined;
  report: ReturnType<typeof classificationReport>;
}

export async function buildModelReport(opts: ModelReportOptions): Promise<ReportData> {
  if (opts.models.length === 0) throw new SlimtextError('give at least one model folder');
  const log = opts.log ?? (() => undefined);
  const names = opts.names ?? uniqueNames(opts.models);
  if (names.length !== opts.models.length) throw new SlimtextError(`${names.length} names for ${opts.models.length} models`);
  // Everything that can be wrong with the input is found before the first (slow) measurement.
  const bundles = await Promise.all(opts.models.map(async (dir) => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, undefined, undefined, 'no such model folder');
    const { manifest } = await readBundle(dir);
    return { dir, manifest, adapter: adapterFor(dir, manifest) };
  }));
  const rows = await readSplit(opts.data, opts.split, 'test', opts.dataOptions ?? {}, 'classify');
  requireFields(rows.examples, 'classify', rows.file);
  const examples = subsample(rows.examples, opts.maxExamples ?? 0, 0, 'report');
  const evalLabels = [...new Set(examples.map((e) => e.label!))];
  const texts = examples.map((e) => e.text);
  const latencyTexts = texts.slice(0, Math.max(1, opts.latencyTexts ?? 200));

  const loaded: { dir: string; manifest: BundleManifest; model: ReportModel }[] = [];
  for (const b of bundles) {
    const model = await b.adapter(b.dir, b.manifest, { evalLabels });
    const known = new Set(model.labels);
    const bad = examples.find((e) => !known.has(e.label!));
    if (bad) {
      const missing = evalLabels.filter((l) => !known.has(l));
      throw new InputError(rows.file, bad.line, 'label', `label '${bad.label}' is not one of the ${model.labels.length} labels of the model in ${b.dir} (${preview(model.labels)}); ` +
        `${missing.length} label${missing.length > 1 ? 's' : ''} of this evaluation set ${missing.length > 1 ? 'are' : 'is'} unknown to it (${preview(missing)}): score it on data with its labels`);
    }
    loaded.push({ ...b, model });
  }

  const scored: Scored[] = [];
  for (const [i, { dir, manifest, model }] of loaded.entries()) {
    const name = names[i]!;
    const index = new Map(model.labels.map((l, j) => [l, j]));
    const gold = Int32Array.from(examples, (e) => index.get(e.label!)!);
    const pred = argmaxRows(model.logits(texts), model.labels.length);
    const report = classificationReport(gold, pred, model.labels.length);
    const t = measureThroughput(latencyTexts, (b) => {
      for (const x of b) model.logitsOne(x);
    }, { batch: 1, minSeconds: opts.measureSeconds ?? 1 });
    const latencyMs = (t.seconds * 1000) / Math.max(t.texts, 1);
    const sizes = await bytesByPart(dir, manifest, name);
    const s: Scored = {
      name, dir, model, manifest, accuracy: report.accuracy, macroF1: report.macro_f1, latencyMs,
      sizeBytes: sizes.reduce((n, r) => n + r.bytes, 0), sizes, history: readHistory(dir, manifest, name), report,
    };
    scored.push(s);
    log(`${name}: accuracy ${s.accuracy.toFixed(4)}, ${latencyMs.toFixed(3)} ms per text on one core, ${mib(s.sizeBytes)}`);
  }

  const best = [...scored].sort((a, b) => b.accuracy - a.accuracy || a.latencyMs - b.latencyMs)[0]!;
  const command = opts.command ?? ['slimtext report', ...opts.models, '--data', opts.data, ...(opts.split ? ['--split', opts.split] : [])].join(' ');
  const evalLine = `${rows.file} (${rows.split}, ${examples.length} rows)`;
  const charts: Chart[] = [
    {
      id: 'pareto', kind: 'pareto', title: 'Accuracy against one-core latency',
      caption: 'Each model scored on the same rows; latency is one text per call on one core, raw text to logits. Up and to the left is better; the line joins the models no other model beats on both; the mark area is the size on disk.',
      source: `${command} (accuracy: the same as slimtext eval --model DIR --data ${opts.data}${opts.split ? ` --split ${opts.split}` : ''})`,
      rows: paretoRows(scored.map((s) => ({ model: s.name, kind: s.model.kind, accuracy: r4(s.accuracy), latency_ms: r4(s.latencyMs), size_bytes: s.sizeBytes }))),
    },
    {
      id: 'sizes', kind: 'sizes', title: 'Bytes on disk by part',
      caption: 'The model folder, split into embedding tables, encoder layers, task heads, the vocabulary files, and the rest (manifest, headers, task data).',
      source: `${command} (sizes of the files each model's slimtext.json lists, tensors from the safetensors header)`,
      rows: scored.flatMap((s) => s.sizes),
    },
  ];
  const curves: CurveRow[] = scored.flatMap((s) => s.history?.rows ?? []);
  if (curves.length) {
    charts.push({
      id: 'curves', kind: 'curves', title: 'Training curves',
      caption: 'Training loss and dev metric after every epoch, from each model\'s training log (a distilled student\'s loss is the distillation loss, not cross-entropy).',
      source: scored.filter((s) => s.history).map((s) => `${s.name}: ${s.history!.source}`).join('; '),
      rows: curves,
    });
  }
  const cls = classCharts(best, examples.length);
  charts.push(...cls.charts.map((c) => ({ ...c, source: `${command} (best model: ${best.name})` })));

  const tables: Table[] = [
    {
      id: 'models', title: 'Every model, every figure',
      columns: ['model', 'folder', 'kind', 'accuracy', 'macro F1', 'latency ms (1 core)', 'size bytes', 'parameters', 'training s', 'training log'],
      rows: scored.map((s) => [s.name, s.dir, s.model.kind, r4(s.accuracy), r4(s.macroF1), r4(s.latencyMs), s.sizeBytes, s.model.parameters, s.history?.trainSeconds ?? null, s.history?.source ?? 'none']),
    },
    chartTable(charts),
  ];
  const notes = [
    ...scored.filter((s) => !s.history).map((s) => `${s.name}: no training log (train_log.json, distill_log.json or metrics.history) in ${s.dir}, so no training curve`),
    ...cls.notes,
  ];
  return {
    format: REPORT_FORMAT, version: REPORT_VERSION,
    title: opts.title ?? `${scored.length} model${scored.length > 1 ? 's' : ''} on ${basename(resolve(opts.data))}`,
    subtitle: `Evaluation set ${evalLine}; latency on one core of ${machine().cpu}`,
    created: new Date().toISOString(), command, machine: machine(), charts, tables, notes,
  };
}

/** Marks the points no other point beats on both accuracy (higher) and latency (lower), per set. */
export function paretoRows(points: Omit<ParetoRow, 'pareto'>[]): ParetoRow[] {
  return points.map((p) => ({
    ...p,
    pareto: !points.some((q) => q !== p && q.set === p.set && q.accuracy >= p.accuracy && q.latency_ms <= p.latency_ms && (q.accuracy > p.accuracy || q.latency_ms < p.latency_ms)),
  }));
}

/** The table of every chart with where its numbers came from. */
export function chartTable(charts: readonly Chart[]): Table {
  return { id: 'figures', title: 'Every chart and the command that made it', columns: ['chart', 'what it shows', 'made by'], rows: charts.map((c) => [c.title, c.caption, c.source]) };
}

export function machine(): ReportData['machine'] {
  return { cpu: cpus()[0]?.model?.trim() ?? 'unknown', cpus: cpus().length, backend: getBackend().name };
}

function classCharts(best: Scored, n: number): { charts: Omit<Chart, 'source'>[]; notes: string[] } {
  const labels = best.model.labels;
  const { per_class: per, confusion } = best.report;
  const k = confusion.k;
  const perClass: ClassRow[] = per.map((c, j) => ({ label: labels[j]!, precision: r4(c.precision), recall: r4(c.recall), f1: r4(c.f1), support: c.support }));
  const present = perClass.filter((c, j) => c.support > 0 || colSum(confusion.counts, k, j) > 0);
  const notes: string[] = [];
  // With many classes a full matrix is unreadable and large: keep those with the most errors.
  let shown = present.map((c) => labels.indexOf(c.label));
  if (shown.length > MAX_CONFUSION_CLASSES) {
    const errors = (j: number) => rowSum(confusion.counts, k, j) + colSum(confusion.counts, k, j) - 2 * confusion.counts[j * k + j]!;
    shown = [...shown].sort((a, b) => errors(b) - errors(a) || a - b).slice(0, MAX_CONFUSION_CLASSES).sort((a, b) => a - b);
    notes.push(`${best.name}: the confusion matrix shows the ${MAX_CONFUSION_CLASSES} of ${present.length} classes with the most errors`);
  }
  const cm: ConfusionRow[] = [];
  for (const t of shown) {
    const total = rowSum(confusion.counts, k, t);
    for (const p of shown) {
      const count = confusion.counts[t * k + p]!;
      cm.push({ gold: labels[t]!, predicted: labels[p]!, count, share: total ? r4(count / total) : 0 });
    }
  }
  return {
    charts: [
      {
        id: 'f1', kind: 'f1', title: `Per-class F1 of the most accurate model (${best.name})`,
        caption: `F1 of each class on the ${n} evaluation rows, lowest first; in brackets, the gold rows of the class.`,
        rows: [...present].sort((a, b) => a.f1 - b.f1 || a.label.localeCompare(b.label)),
      },
      {
        id: 'confusion', kind: 'confusion', title: `Confusion matrix of ${best.name}`,
        caption: 'Rows: the gold class; columns: the predicted one; colour: share of the gold row; numbers: rows.',
        rows: cm,
      },
    ],
    notes,
  };
}

function rowSum(c: Int32Array, k: number, t: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) s += c[t * k + j]!;
  return s;
}

function colSum(c: Int32Array, k: number, p: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) s += c[i * k + p]!;
  return s;
}

/** Folder names, with a parent folder prefixed where two would clash. */
function uniqueNames(dirs: readonly string[]): string[] {
  const base = dirs.map((d) => basename(resolve(d)));
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${basename(resolve(dirs[i]!, '..'))}/${b}` : b)).map((n, i, all) => (all.indexOf(n) !== i ? `${n} (${i + 1})` : n));
}

function preview(xs: readonly string[]): string {
  return xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, ...` : xs.join(', ');
}

function r4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(2)} MiB`;
}
