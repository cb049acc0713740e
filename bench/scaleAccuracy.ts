/**
 * Distillation at scale, accuracy part (JSON on stdout, progress on stderr): for SST-2 (transfer:
 * SST-2's own training text, then IMDB reviews split into sentences) and the AG News sample
 * (transfer: its training text, then Wikipedia paragraphs), a teacher fine-tuned from the shared
 * checkpoint on the set's training data labels the largest transfer set once; students learn by
 * pure distillation (alpha = 1, no gold labels: `pure`) from growing prefixes of it, and one by the
 * mixed loss (KL + 0.5 x cross-entropy on the gold labels) from the largest; fastText trains on the
 * gold labels. All scored on the test split.
 *
 * Usage: npx tsx bench/scaleAccuracy.ts [--sets sst2,agnews] [--extra 20000,100000] (per set:
 *   IMDB sentences / Wikipedia paragraphs added to the training text) [--teacher-epochs E]
 *   [--max-train N] [--student-epochs E] [--workers W] [--work DIR]
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { collect, openDataset, resolveSplit, type Example } from '../src/data/index.js';
import { LogitsWriter, readLogitsFile } from '../src/io/logitsFile.js';
import { loadDan } from '../src/models/dan.js';
import { argmaxRows } from '../src/models/inference.js';
import { finetune } from '../src/train/finetune/finetune.js';
import { loadTeacher } from '../src/train/distill/teacher.js';
import { teacherPool } from '../src/train/distill/teacherPool.js';
import { distillStudent } from '../src/train/distill/student.js';
import { labelCorpus } from '../src/train/distill/teacherLabels.js';
import { repoRoot } from './root.js';
import { ensureFasttext, runFasttext } from './fasttext.js';

const SHARED = process.env.SLIMTEXT_SHARED ?? join(repoRoot, '..', 'shared');
const D = (p: string) => join(SHARED, 'data', p);
const C = (p: string) => join(SHARED, 'corpora', p);
interface SetSpec { name: string; train: string; dev?: string; test: string; maxLength: number; corpus: (n: number) => string; extra: number[] }
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const extraOf = (name: string, def: string) => opt(`extra-${name}`, opt('extra', def)).split(',').map(Number);
const SETS: SetSpec[] = [
  { name: 'sst2', train: D('sst2/train.tsv'), dev: D('sst2/dev.tsv'), test: D('sst2/test.tsv'), maxLength: 64, corpus: (n) => `head:${n}:words:3-60:sentences:${C('imdb-unsup.txt.gz')}`, extra: extraOf('sst2', '20000,100000') },
  { name: 'agnews', train: D('agnews/train-sample.tsv'), test: D('agnews/test.csv'), maxLength: 128, corpus: (n) => `head:${n}:${C('wikipedia.txt.gz')}`, extra: extraOf('agnews', '20000,40000') },
];
const settings = {
  sets: opt('sets', 'sst2,agnews').split(','),
  teacherEpochs: Number(opt('teacher-epochs', '1')),
  maxTrain: Number(opt('max-train', '0')),
  studentEpochs: Number(opt('student-epochs', '3')),
  workers: Number(opt('workers', String(availableParallelism()))),
  dim: Number(opt('dim', '200')),
};
const work = opt('work', '') || mkdtempSync(join(tmpdir(), 'slimtext-bench-scale-'));
const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

async function split(path: string, fallback: string): Promise<Example[]> {
  const ds = await openDataset(path);
  const s = ds.splits.length === 1 ? ds.splits[0] : resolveSplit(ds.splits, fallback);
  if (!s) throw new Error(`${path}: no split ${fallback}`);
  return collect(ds.read(s));
}

function sample<T>(xs: T[], n: number): T[] {
  if (!n || xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]!);
}

/** The first `rows` rows of a logits file, as a logits file of their own (same corpus specs). */
function prefixFile(src: string, rows: number, out: string): void {
  const d = readLogitsFile(src);
  const K = d.header.labels.length;
  const w = LogitsWriter.create(out, { labels: d.header.labels, teacher: d.header.teacher, corpus: d.header.corpus, dtype: d.header.dtype });
  w.append(d.fingerprints.slice(0, 2 * rows), d.positions.slice(0, rows), d.logits.slice(0, rows * K), d.positions[rows - 1]! + 1, false);
  w.close();
}

async function benchSet(s: SetSpec, fasttext: string | undefined): Promise<Record<string, unknown>> {
  const dir = join(work, s.name);
  mkdirSync(dir, { recursive: true });
  let train = sample(await split(s.train, 'train'), settings.maxTrain);
  const test = await split(s.test, 'test');
  let dev: Example[] = s.dev ? await split(s.dev, 'dev') : [];
  if (!s.dev) {
    const { splitDev } = await import('../src/data/split.js');
    ({ train, dev } = splitDev(train));
  }
  dev = sample(dev, 2000);
  const jsonl = (name: string, rows: Example[]) => {
    const p = join(dir, name);
    writeFileSync(p, rows.map((e) => JSON.stringify({ text: e.text, label: e.label })).join('\n') + '\n');
    return p;
  };
  const files = { train: jsonl('train.jsonl', train), dev: jsonl('dev.jsonl', dev) };
  log(`[${s.name}] ${train.length} train / ${dev.length} dev / ${test.length} test; fine-tuning the teacher`);
  const teacherDir = join(dir, 'teacher');
  const ft = await finetune({
    model: join(SHARED, 'models', 'bert-l4-h128-mlm'), train: files.train, dev: files.dev, out: teacherDir,
    recipe: { task: 'classify', pooling: 'mean', epochs: settings.teacherEpochs, lr: 5e-4, batchSize: 32, maxLength: s.maxLength, seed: 0 },
    warn: (l) => log(`[${s.name}]   ${l}`),
  });
  const maxExtra = Math.max(...s.extra);
  const corpus = [files.train, s.corpus(maxExtra)];
  log(`[${s.name}] labelling ${train.length} training texts + ${maxExtra} transfer texts (${settings.workers} workers)`);
  const logits = join(dir, 'logits.bin');
  const lab = await labelCorpus({ teacher: await teacherPool(teacherDir, settings.workers), corpus, out: logits, overwrite: true });
  const all = readLogitsFile(logits);
  // Rows of the training text come first: the prefix with `extra` transfer texts ends at the first
  // row whose corpus position is past the training text plus `extra`.
  const trainTexts = new Set(train.map((e) => e.text)).size;
  const rowsFor = (extra: number) => {
    const limit = train.length + extra;
    let r = 0;
    while (r < all.positions.length && all.positions[r]! < limit) r++;
    return r;
  };
  const teacher = await loadTeacher(teacherDir);
  const texts = test.map((e) => e.text);
  const gold = Int32Array.from(test.map((e) => teacher.labels.indexOf(e.label!)));
  const acc = (l: Float32Array) => {
    const p = argmaxRows(l, teacher.labels.length);
    let right = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === gold[i]) right++;
    return right / p.length;
  };
  const tAcc = acc(teacher.logits(texts));
  log(`[${s.name}] teacher accuracy ${round(tAcc, 4)}`);
  const student = async (name: string, file: string, pure: boolean) => {
    const t0 = performance.now();
    const r = await distillStudent({
      teacherLogits: file, train: files.train, dev: files.dev, out: join(dir, name), pure,
      shape: { dim: settings.dim, hidden: 200, maxVocab: 1_000_000, maxN: 4 },
      recipe: { epochs: settings.studentEpochs, workers: settings.workers, hardWeight: pure ? 0 : 0.5 },
      warn: (l) => log(`[${s.name}]   ${l}`),
    });
    const a = acc((await loadDan(join(dir, name))).predict(texts));
    log(`[${s.name}] ${name}: accuracy ${round(a, 4)} (${r.rows.transfer} transfer rows)`);
    return { transfer_rows: r.rows.transfer, accuracy: round(a, 4), ratio: round(a / tAcc, 4), vocab: r.vocabSize, train_seconds: round(r.trainSeconds, 1), wall_seconds: round((performance.now() - t0) / 1000, 1) };
  };
  const curve: Record<string, unknown>[] = [];
  for (const extra of [0, ...s.extra]) {
    const rows = rowsFor(extra);
    const file = extra === maxExtra ? logits : join(dir, `logits-${extra}.bin`);
    if (extra !== maxExtra) prefixFile(logits, rows, file);
    curve.push({ extra_texts: extra, ...(await student(`pure-${extra}`, file, true)) });
  }
  const mixed = await student('mixed', logits, false);
  const ftx = fasttext ? runFasttext(fasttext, dir, train, test, { lr: 1.0, epochs: 25, threads: settings.workers }) : { error: 'fasttext unavailable' };
  return {
    set: s.name,
    rows: { train: train.length, distinct_train_texts: trainTexts, dev: dev.length, test: test.length, labelled: all.commit.rows },
    corpus,
    teacher: { accuracy: round(tAcc, 4), train_seconds: ft.trainSeconds, label_seconds: lab.seconds, label_texts_per_s: lab.textsPerSecond },
    pure_distillation: curve,
    mixed_loss_largest: mixed,
    fasttext_gold: ftx,
  };
}

for (const s of SETS) if (!existsSync(s.train)) throw new Error(`${s.train} is missing (../shared/data; set SLIMTEXT_SHARED)`);
const fasttext = ensureFasttext(log);
const results: Record<string, unknown>[] = [];
for (const name of settings.sets) results.push(await benchSet(SETS.find((s) => s.name === name) ?? (() => { throw new Error(`unknown set ${name}`); })(), fasttext));
console.log(JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, backend: getBackend().name }, settings, work, sets: results }, null, 2));
