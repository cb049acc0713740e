/**
 * Sparse distillation benchmark, one command, JSON on stdout (progress on stderr):
 *   for each set: fine-tune a BERT teacher (train/finetune/finetune.ts, from ../shared/models/bert-l4-h128-mlm
 *   by default), label the training text plus nlp-corpus sentences with it, distil a DAN student,
 *   and score both on the test split: accuracy, accuracy ratio, one-core throughput from raw text
 *   to label (measured side by side in this run), sizes, training times; and fastText (Debian
 *   package `fasttext`, installed with apt-get when missing) trained on the same labelled data with
 *   the settings of its text-classification tutorial (lr 1.0, 25 epochs, dim 100, word bigrams;
 *   --ft-lr / --ft-epochs change them): accuracy and training time.
 *
 * Usage: npx tsx bench/distill.ts [--sets trec,sst2,...] [--max-train N] [--max-test N]
 *   [--teacher-epochs E] [--teacher-lr LR] [--max-length T] [--transfer N] [--student-epochs E]
 *   [--dim D] [--hidden H] [--max-vocab V] [--max-n N] [--hard-weight W] [--workers W] [--work DIR]
 *   [--no-fasttext] [--ft-lr LR] [--ft-epochs E] [--measure-seconds S]
 *   [--teacher-model DIR] [--teacher-pooling mean|cls] [--augment N]
 * --augment N also measures transfer-set augmentation: the same teacher labels a second corpus, the
 * training texts plus up to N augmented variants of each (augment:N:train, src/text/augment.ts)
 * plus the same nlp-corpus sentences, and a second student learns from it; its accuracy stands
 * beside the first's.
 * A full run (all six sets, default sizes) is long; a smoke run: --sets trec --max-train 800
 * --teacher-epochs 1 --transfer 1000 --student-epochs 2.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { readBundle } from '../src/io/bundle.js';
import { loadDan } from '../src/models/dan.js';
import { argmaxRows } from '../src/models/inference.js';
import { finetune } from '../src/train/finetune/finetune.js';
import { loadTeacher } from '../src/train/distill/teacher.js';
import { teacherPool } from '../src/train/distill/teacherPool.js';
import { countTransferTexts } from '../src/train/distill/corpus.js';
import { distillStudent } from '../src/train/distill/student.js';
import { inProcessRunner, labelCorpus } from '../src/train/distill/teacherLabels.js';
import { studentThroughput, teacherThroughput } from '../src/demo/throughput.js';
import { repoRoot } from './root.js';
import { ensureFasttext, runFasttext } from './fasttext.js';
import { benchRows, type LabelledSet } from './benchData.js';

interface SetSpec extends LabelledSet {
  name: string;
  /** Teacher max length in tokens (longer texts need more). */
  maxLength: number;
}

const SHARED = process.env.SLIMTEXT_SHARED ?? join(repoRoot, '..', 'shared');
const D = (p: string) => join(SHARED, 'data', p);
const SETS: SetSpec[] = [
  { name: 'sst2', train: D('sst2/train.tsv'), dev: D('sst2/dev.tsv'), test: D('sst2/test.tsv'), maxLength: 64 },
  { name: 'clinc150', train: D('clinc150/data_full.json'), trainSplit: 'train', dev: D('clinc150/data_full.json'), devSplit: 'val', test: D('clinc150/data_full.json'), testSplit: 'test', maxLength: 32 },
  { name: 'banking77', train: D('banking77/train.csv'), test: D('banking77/test.csv'), maxLength: 64 },
  { name: 'trec', train: D('trec/TREC.train.all'), test: D('trec/TREC.test.all'), maxLength: 32 },
  { name: 'agnews', train: D('agnews/train-sample.tsv'), test: D('agnews/test.csv'), maxLength: 128 },
  { name: 'emotion', train: D('emotion/train.txt'), dev: D('emotion/val.txt'), test: D('emotion/test.txt'), maxLength: 64 },
];

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const has = (name: string) => args.includes(`--${name}`);
const settings = {
  sets: opt('sets', SETS.map((s) => s.name).join(',')).split(','),
  maxTrain: Number(opt('max-train', '0')),
  maxTest: Number(opt('max-test', '0')),
  teacherModel: opt('teacher-model', join(SHARED, 'models', 'bert-l4-h128-mlm')),
  teacherEpochs: Number(opt('teacher-epochs', '3')),
  teacherLr: Number(opt('teacher-lr', '5e-4')),
  // Mean pooling by default: bert-l4-h128-mlm was pretrained by masked LM alone and its [CLS]
  // vector is nearly constant (see bench/finetune.ts), which makes a weak [CLS] teacher.
  teacherPooling: opt('teacher-pooling', 'mean') as 'cls' | 'mean',
  maxLength: Number(opt('max-length', '0')),
  transfer: Number(opt('transfer', '50000')),
  studentEpochs: Number(opt('student-epochs', '5')),
  hardWeight: Number(opt('hard-weight', '0.5')),
  dim: Number(opt('dim', '200')),
  hidden: Number(opt('hidden', '200')),
  maxVocab: Number(opt('max-vocab', '1000000')),
  maxN: Number(opt('max-n', '4')),
  workers: Number(opt('workers', String(availableParallelism()))),
  fasttext: !has('no-fasttext'),
  ftLr: Number(opt('ft-lr', '1.0')),
  ftEpochs: Number(opt('ft-epochs', '25')),
  measureSeconds: Number(opt('measure-seconds', '3')),
  augment: Number(opt('augment', '0')),
};
const work = opt('work', '') || mkdtempSync(join(tmpdir(), 'slimtext-bench-distill-'));
const log = (l: string) => process.stderr.write(`${l}\n`);

async function bundleBytes(dir: string): Promise<number> {
  return Object.values((await readBundle(dir)).manifest.files).reduce((n, f) => n + f.bytes, 0);
}

function accuracy(logits: Float32Array, C: number, gold: Int32Array): number {
  const p = argmaxRows(logits, C);
  let right = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === gold[i]) right++;
  return p.length ? right / p.length : 0;
}

async function benchSet(s: SetSpec, fasttext: string | undefined): Promise<Record<string, unknown>> {
  const dir = join(work, s.name);
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  // Labelled rows: written as JSONL so teacher, student and fastText see exactly the same ones.
  const { train, dev, test, files } = await benchRows(s, dir, { maxTrain: settings.maxTrain, maxTest: settings.maxTest });
  log(`[${s.name}] ${train.length} train / ${dev.length} dev / ${test.length} test`);

  log(`[${s.name}] fine-tuning the teacher`);
  const ft = await finetune({
    model: settings.teacherModel,
    train: files.train,
    dev: files.dev,
    out: join(dir, 'teacher'),
    recipe: { task: 'classify', pooling: settings.teacherPooling, epochs: settings.teacherEpochs, lr: settings.teacherLr, batchSize: 32, maxLength: settings.maxLength || s.maxLength, seed: 0 },
    warn: (l) => log(`[${s.name}]   ${l}`),
  });

  log(`[${s.name}] labelling ${train.length} training texts + ${settings.transfer} nlp-corpus sentences`);
  const newRunner = async () => (settings.workers > 1 ? await teacherPool(join(dir, 'teacher'), settings.workers) : inProcessRunner(await loadTeacher(join(dir, 'teacher'))));
  const labelled = await labelCorpus({ teacher: await newRunner(), corpus: [files.train, 'npm:nlp-corpus'], out: join(dir, 'logits.bin'), overwrite: true, maxTexts: train.length + settings.transfer });

  log(`[${s.name}] distilling the student`);
  // One student recipe for every transfer set this bench tries.
  const distil = (logits: string, out: string) => distillStudent({
    teacherLogits: join(dir, logits),
    train: files.train,
    dev: files.dev,
    out: join(dir, out),
    shape: { dim: settings.dim, hidden: settings.hidden, maxVocab: settings.maxVocab, maxN: settings.maxN },
    recipe: { epochs: settings.studentEpochs, workers: settings.workers, hardWeight: settings.hardWeight },
    warn: (l) => log(`[${s.name}]   ${l}`),
  });
  const st = await distil('logits.bin', 'student');

  log(`[${s.name}] scoring on test; one-core throughput`);
  const teacher = await loadTeacher(join(dir, 'teacher'));
  const student = await loadDan(join(dir, 'student'));
  const texts = test.map((e) => e.text);
  const gold = Int32Array.from(test.map((e) => teacher.labels.indexOf(e.label!)));
  const tAcc = accuracy(teacher.logits(texts), teacher.labels.length, gold);
  const sAcc = accuracy(student.predict(texts), student.labels.length, gold);
  const m = { minSeconds: settings.measureSeconds };
  const tt = teacherThroughput(teacher, texts, m);
  const sb = studentThroughput(student, texts, 'batch', m);
  const s1 = studentThroughput(student, texts, 'single', m);
  const ftx = fasttext ? runFasttext(fasttext, dir, train, test, { lr: settings.ftLr, epochs: settings.ftEpochs, threads: settings.workers }) : { error: 'not run (--no-fasttext or fasttext unavailable)' };
  let augmented: Record<string, unknown> | undefined;
  if (settings.augment > 0) {
    const augSpec = `augment:${settings.augment}:${files.train}`;
    const augRows = await countTransferTexts([augSpec]);
    log(`[${s.name}] augmentation: labelling ${train.length} training texts + ${augRows} augmented variants + ${settings.transfer} nlp-corpus sentences`);
    const augLabelled = await labelCorpus({ teacher: await newRunner(), corpus: [files.train, augSpec, 'npm:nlp-corpus'], out: join(dir, 'logits-aug.bin'), overwrite: true, maxTexts: train.length + augRows + settings.transfer });
    const augSt = await distil('logits-aug.bin', 'student-aug');
    const augAcc = accuracy((await loadDan(join(dir, 'student-aug'))).predict(texts), student.labels.length, gold);
    augmented = {
      transfer_rows: augLabelled.rows, augmented_rows: augRows, accuracy: round(augAcc, 4), accuracy_ratio: round(augAcc / Math.max(tAcc, 1e-9), 4),
      delta_points: round(100 * (augAcc - sAcc), 2), label_seconds: augLabelled.seconds, train_seconds: augSt.trainSeconds,
    };
  }
  return {
    set: s.name,
    rows: { train: train.length, dev: dev.length, test: test.length, transfer: labelled.rows },
    unseen_test_labels: gold.filter((g) => g < 0).length,
    teacher: { accuracy: round(tAcc, 4), train_seconds: round(ft.trainSeconds, 1), texts_per_s: tt.textsPerSecond, size_bytes: await bundleBytes(join(dir, 'teacher')), parameters: teacher.info.parameters },
    student: {
      accuracy: round(sAcc, 4), accuracy_ratio: round(sAcc / Math.max(tAcc, 1e-9), 4), texts_per_s: sb.textsPerSecond, single_texts_per_s: s1.textsPerSecond,
      size_bytes: st.bundleBytes, parameters: st.parameters, vocab: st.vocabSize, train_seconds: st.trainSeconds, label_seconds: labelled.seconds,
    },
    speedup: round(sb.textsPerSecond / Math.max(tt.textsPerSecond, 1), 1),
    fasttext: ftx,
    ...(augmented ? { augmented } : {}),
    student_beats_fasttext: 'accuracy' in ftx ? sAcc > ftx.accuracy : null,
    wall_seconds: round((performance.now() - t0) / 1000, 1),
  };
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

const chosen = settings.sets.map((n) => SETS.find((s) => s.name === n) ?? (() => { throw new Error(`unknown set ${n} (known: ${SETS.map((s) => s.name).join(', ')})`); })());
for (const s of chosen) if (!existsSync(s.train)) throw new Error(`${s.train} is missing (../shared/data; set SLIMTEXT_SHARED)`);
const fasttext = settings.fasttext ? ensureFasttext(log) : undefined;
const results: Record<string, unknown>[] = [];
for (const s of chosen) results.push(await benchSet(s, fasttext));
const ratios = results.map((r) => (r.student as { accuracy_ratio: number }).accuracy_ratio);
const speedups = results.map((r) => r.speedup as number);
const beats = results.filter((r) => r.student_beats_fasttext === true).length;
console.log(JSON.stringify({
  date: new Date().toISOString(),
  command: ['npx tsx bench/distill.ts', ...args].join(' '),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, backend: getBackend().name },
  settings,
  work,
  sets: results,
  summary: {
    mean_accuracy_ratio: round(ratios.reduce((a, b) => a + b, 0) / Math.max(ratios.length, 1), 4),
    min_speedup: Math.min(...speedups),
    mean_speedup: round(speedups.reduce((a, b) => a + b, 0) / Math.max(speedups.length, 1), 1),
    student_beats_fasttext: `${beats}/${results.filter((r) => r.student_beats_fasttext !== null).length}`,
  },
}, null, 2));
