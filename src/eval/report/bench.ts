/**
 * The JSON that `bench/finetune.ts` and `bench/distill.ts` print, as a report with the same kinds
 * of charts as a model report: fine-tuning variants as training time against test metric, and
 * their saving against full fine-tuning; teacher against student as accuracy against time per
 * text, with accuracy, size and training-time bars per data set. The bench's own command (the
 * `command` field the benches print, or `command` given here) is what made every chart.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { REPORT_FORMAT, REPORT_VERSION, type BarRow, type Chart, type ReportData, type Table } from './data.js';
import { chartTable, machine, paretoRows } from './models.js';

export interface BenchReportOptions {
  /** The command that printed the JSON, when the JSON does not record it. */
  command?: string;
  /** The `slimtext report --bench ...` command line, shown as what drew the charts. */
  reportCommand?: string;
}

type Json = Record<string, unknown>;

/** Which bench printed a JSON object, from its shape. */
export function benchKind(j: Json): 'finetune' | 'distill' | undefined {
  if (j.sets && typeof j.sets === 'object' && !Array.isArray(j.sets) && Object.values(j.sets as Json).every((s) => typeof s === 'object' && s !== null && 'runs' in s)) return 'finetune';
  if (Array.isArray(j.sets) && j.sets.every((s) => typeof s === 'object' && s !== null && 'teacher' in s && 'student' in s)) return 'distill';
  return undefined;
}

export function buildBenchReport(file: string, opts: BenchReportOptions = {}): ReportData {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, undefined, undefined, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new InputError(file, undefined, undefined, 'expected one JSON object, as bench/finetune.ts or bench/distill.ts print');
  const obj = j as Json;
  const kind = benchKind(obj);
  if (!kind) throw new InputError(file, undefined, 'sets', 'not the output of bench/finetune.ts (sets: {name: {runs}}) or bench/distill.ts (sets: [{teacher, student}])');
  const command = opts.command ?? (typeof obj.command === 'string' ? obj.command : `npx tsx bench/${kind}.ts (the exact command is not recorded in ${file})`);
  const made = `${command}; charts: ${opts.reportCommand ?? `slimtext report --bench ${file}`}`;
  const { charts, tables } = kind === 'finetune' ? finetuneCharts(obj, made, file) : distillCharts(obj, made, file);
  const m = obj.machine as Json | undefined;
  const date = typeof obj.date === 'string' ? obj.date : undefined;
  return {
    format: REPORT_FORMAT, version: REPORT_VERSION,
    title: kind === 'finetune' ? 'Fine-tuning: dropping and freezing layers' : 'Sparse distillation: teacher against n-gram student',
    subtitle: `${date ? `Measured ${date.slice(0, 10)}` : 'Date not recorded'}${m?.cpu ? ` on ${String(m.cpu)}` : ''}${typeof (m?.cpus ?? obj.cpus) === 'number' ? `, ${String(m?.cpus ?? obj.cpus)} cores` : ''}; from ${file}`,
    created: new Date().toISOString(),
    command: made,
    machine: machine(),
    charts,
    tables: [...tables, chartTable(charts)],
    notes: typeof obj.note === 'string' ? [obj.note] : [],
  };
}

function finetuneCharts(j: Json, made: string, file: string): { charts: Chart[]; tables: Table[] } {
  const sets = j.sets as Record<string, Json>;
  const points: Json[] = [];
  const savings: BarRow[] = [];
  const times: BarRow[] = [];
  const table: Table = { id: 'runs', title: 'Every run', columns: ['set', 'variant', 'training s', 'test metric', 'value', 'trainable parameters', 'time saving %', 'metric change (points)'], rows: [] };
  for (const [set, s] of Object.entries(sets)) {
    const runs = (s.runs ?? {}) as Record<string, Json>;
    const vs = (s.vs_full ?? {}) as Record<string, Json>;
    for (const [variant, r] of Object.entries(runs)) {
      const test = (r.test ?? {}) as Record<string, number>;
      const metric = Object.keys(test)[0];
      if (!metric || typeof r.train_seconds !== 'number') throw new InputError(file, undefined, `sets.${set}.runs.${variant}`, 'needs train_seconds and a test metric');
      points.push({ model: variant, kind: variant, set, train_seconds: r.train_seconds, metric: test[metric], metric_name: metric, trainable_parameters: Number(r.trainable_parameters ?? 0) });
      times.push({ set, group: variant, series: 'training s', value: r.train_seconds });
      const v = vs[variant];
      const delta = v ? Object.entries(v).find(([k]) => k.endsWith('_delta_points'))?.[1] : undefined;
      if (v) {
        savings.push({ set, group: variant, series: 'time saving (%)', value: Number(v.time_saving_pct) });
        savings.push({ set, group: variant, series: `${metric} change (points)`, value: Number(delta) });
      }
      table.rows.push([set, variant, r.train_seconds, metric, test[metric]!, Number(r.trainable_parameters ?? 0), v ? Number(v.time_saving_pct) : null, v ? Number(delta) : null]);
    }
  }
  const charts: Chart[] = [
    {
      id: 'tradeoff', kind: 'pareto', title: 'Test metric against training time, per variant',
      caption: 'Each fine-tuning variant on each data set: training time (log scale) against the test metric; up and to the left is better, the line joins the variants no other beats on both; mark area: trainable parameters.',
      source: made, options: { x: 'training time (s, log scale)', y: 'test metric', facet: true, size: 'trainable parameters' },
      rows: paretoRows(points.map((p) => ({ model: String(p.model), kind: String(p.kind), set: String(p.set), accuracy: Number(p.metric), latency_ms: Number(p.train_seconds), size_bytes: Number(p.trainable_parameters) }))),
    },
    { id: 'savings', kind: 'bars', title: 'Against full fine-tuning', caption: 'Training time saved (%) and change of the test metric (points) of each variant against full fine-tuning, same data and seeds.', source: made, options: { facet: true }, rows: savings },
    { id: 'times', kind: 'bars', title: 'Training time', caption: 'Seconds of training (dev evaluation excluded) per variant.', source: made, options: { facet: true, y: 'seconds' }, rows: times },
  ];
  return { charts, tables: [table] };
}

function distillCharts(j: Json, made: string, file: string): { charts: Chart[]; tables: Table[] } {
  const sets = j.sets as Json[];
  const points: { model: string; kind: string; set: string; accuracy: number; latency_ms: number; size_bytes: number }[] = [];
  const acc: BarRow[] = [];
  const size: BarRow[] = [];
  const time: BarRow[] = [];
  const table: Table = {
    id: 'sets', title: 'Every set',
    columns: ['set', 'teacher accuracy', 'student accuracy', 'fastText accuracy', 'teacher texts/s', 'student texts/s', 'speed-up', 'teacher bytes', 'student bytes', 'teacher train s', 'labelling s', 'student train s'],
    rows: [],
  };
  for (const [i, s] of sets.entries()) {
    const name = String(s.set ?? `set ${i + 1}`);
    const t = s.teacher as Json;
    const st = s.student as Json;
    const need = (o: Json, k: string, who: string): number => {
      if (typeof o[k] !== 'number') throw new InputError(file, undefined, `sets[${i}].${who}.${k}`, 'missing or not a number');
      return o[k] as number;
    };
    const ft = (s.fasttext ?? {}) as Json;
    points.push({ model: 'teacher', kind: 'teacher (BERT)', set: name, accuracy: need(t, 'accuracy', 'teacher'), latency_ms: 1000 / need(t, 'texts_per_s', 'teacher'), size_bytes: need(t, 'size_bytes', 'teacher') });
    points.push({ model: 'student', kind: 'student (n-gram DAN)', set: name, accuracy: need(st, 'accuracy', 'student'), latency_ms: 1000 / need(st, 'texts_per_s', 'student'), size_bytes: need(st, 'size_bytes', 'student') });
    acc.push({ group: name, series: 'teacher', value: t.accuracy as number }, { group: name, series: 'student', value: st.accuracy as number });
    if (typeof ft.accuracy === 'number') acc.push({ group: name, series: 'fastText', value: ft.accuracy });
    size.push({ group: name, series: 'teacher', value: t.size_bytes as number }, { group: name, series: 'student', value: st.size_bytes as number });
    time.push({ group: name, series: 'teacher fine-tuning', value: Number(t.train_seconds ?? 0) }, { group: name, series: 'teacher labelling', value: Number(st.label_seconds ?? 0) }, { group: name, series: 'student training', value: Number(st.train_seconds ?? 0) });
    if (typeof ft.train_seconds === 'number') time.push({ group: name, series: 'fastText training', value: ft.train_seconds });
    table.rows.push([name, t.accuracy as number, st.accuracy as number, typeof ft.accuracy === 'number' ? ft.accuracy : null, t.texts_per_s as number, st.texts_per_s as number,
      typeof s.speedup === 'number' ? s.speedup : null, t.size_bytes as number, st.size_bytes as number, Number(t.train_seconds ?? 0), Number(st.label_seconds ?? 0), Number(st.train_seconds ?? 0)]);
  }
  const charts: Chart[] = [
    {
      id: 'pareto', kind: 'pareto', title: 'Accuracy against time per text, teacher and student',
      caption: 'Per data set: test accuracy against one-core time per text in batches of 64 (log scale), raw text to label, the two measured one after the other in one run; mark area: size on disk.',
      source: made, options: { x: 'time per text, one core, batches of 64 (ms, log scale)', facet: true },
      rows: paretoRows(points.map((p) => ({ ...p, latency_ms: Math.round(p.latency_ms * 1e5) / 1e5 }))),
    },
    { id: 'accuracy', kind: 'bars', title: 'Test accuracy', caption: 'Teacher, distilled student and fastText (same labelled rows) on each test split.', source: made, options: { y: 'accuracy' }, rows: acc },
    { id: 'size', kind: 'bars', title: 'Size on disk', caption: 'Bytes of each model folder (log scale).', source: made, options: { y: 'bytes (log scale)', logY: true }, rows: size },
    { id: 'time', kind: 'bars', title: 'Training time', caption: 'Seconds spent fine-tuning the teacher, labelling the transfer set with it, training the student, and training fastText.', source: made, options: { y: 'seconds' }, rows: time },
  ];
  return { charts, tables: [table] };
}
