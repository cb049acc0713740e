/**
 * Distillation at scale, accuracy part (JSON on stdout, progress on stderr): for SST-2 (transfer:
 * SST-2's own training text, then IMDB reviews split into sentences) and the AG News sample
 * (transfer: its training text, then Wikipedia paragraphs), a teacher fine-tuned from the shared
 * checkpoint on the set's training data labels the largest transfer set once; students learn by
 * pure distillation (alpha = 1, no gold labels: `pure`) from growing prefixes of it, and one by the
 * mixed loss (KL + 0.5 x cross-entropy on the gold labels) from the largest; fastText trains on the
 * gold labels. All scored on the test split.
 *
 * Resumable: everything lives in --work DIR and is reused when present (the teacher, resumed from
 * its checkpoint when unfinished; the logits file, resumed when unfinished; each student and the
 * fastText score, kept with their figures in `<name>.result.json`). Run the same command again after
 * an interruption. Figures so far are also written to DIR/<set>.partial.json after every step.
 *
 * Usage: npx tsx bench/scaleAccuracy.ts [--sets sst2,agnews] [--work DIR]
 *   [--extra 20000,100000,all] (per set: --extra-sst2 / --extra-agnews; transfer texts added to the
 *   training text; `all`: the whole corpus) [--checkpoint DIR] [--teacher-epochs E] (per set:
 *   --teacher-epochs-sst2 ...) [--max-train N] [--max-length T] [--student-epochs E] (per set:
 *   --student-epochs-sst2 ...) [--largest-epochs E] (students of the largest transfer set, pure and
 *   mixed; default: --student-epochs) [--workers W] (student Hogwild threads) [--label-workers W] (1:
 *   in-process, more: a worker-thread pool) [--threads T] (kernel threads) [--dim D]
 *   [--ft-lr LR] [--ft-epochs E] [--no-mixed] [--no-fasttext]
 *   [--no-label] (label nothing: train the students whose transfer prefix the logits file already
 *   holds, while another run of this bench may still be labelling into it) [--only NAME,...] (train
 *   only these students: pure-0, pure-20000, pure-all, mixed-all (mixed-N: at the largest size N) ...; to run two at once in two processes)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { LogitsWriter, readLogitsFile } from '../src/io/logitsFile.js';
import { loadDan } from '../src/models/dan.js';
import { argmaxRows } from '../src/models/inference.js';
import { CHECKPOINT_DIR, LOG_FILE, finetune } from '../src/train/finetune/finetune.js';
import { stderrProgress } from '../src/train/progress.js';
import { loadTeacher } from '../src/train/distill/teacher.js';
import { teacherPool } from '../src/train/distill/teacherPool.js';
import { distillStudent } from '../src/train/distill/student.js';
import { inProcessRunner, labelCorpus } from '../src/train/distill/teacherLabels.js';
import { repoRoot } from './root.js';
import { ensureFasttext, runFasttext } from './fasttext.js';
import { benchRows, type LabelledSet } from './benchData.js';

const SHARED = process.env.SLIMTEXT_SHARED ?? join(repoRoot, '..', 'shared');
const D = (p: string) => join(SHARED, 'data', p);
const C = (p: string) => join(SHARED, 'corpora', p);
/** `extra`: transfer texts after the training text, 0 for the whole corpus. */
interface SetSpec extends LabelledSet { name: string; corpus: (extra: number) => string; extra: number[] }
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const has = (name: string) => args.includes(`--${name}`);
/** A per-set value (--NAME-SET) over the common one (--NAME). */
const perSet = (name: string, set: string, def: string) => opt(`${name}-${set}`, opt(name, def));
const extraOf = (set: string, def: string) => perSet('extra', set, def).split(',').map((x) => (x === 'all' ? 0 : Number(x)));
const head = (n: number, spec: string) => (n ? `head:${n}:${spec}` : spec);
const SETS: SetSpec[] = [
  { name: 'sst2', train: D('sst2/train.tsv'), dev: D('sst2/dev.tsv'), test: D('sst2/test.tsv'), corpus: (n) => head(n, `words:3-60:sentences:${C('imdb-unsup.txt.gz')}`), extra: extraOf('sst2', '20000,100000') },
  { name: 'agnews', train: D('agnews/train-sample.tsv'), test: D('agnews/test.csv'), corpus: (n) => head(n, C('wikipedia.txt.gz')), extra: extraOf('agnews', '20000,40000') },
];
const settings = {
  sets: opt('sets', 'sst2,agnews').split(','),
  checkpoint: opt('checkpoint', join(SHARED, 'models', 'bert-l4-h128-mlm')),
  maxTrain: Number(opt('max-train', '0')),
  maxLength: Number(opt('max-length', '64')),
  workers: Number(opt('workers', String(availableParallelism()))),
  labelWorkers: Number(opt('label-workers', '1')),
  threads: Number(opt('threads', '1')),
  dim: Number(opt('dim', '200')),
  mixed: !has('no-mixed'),
  label: !has('no-label'),
  only: opt('only', '').split(',').filter(Boolean),
  fasttext: !has('no-fasttext'),
  ftLr: Number(opt('ft-lr', '1.0')),
  ftEpochs: Number(opt('ft-epochs', '25')),
};
const epochsOf = (set: string) => {
  const student = Number(perSet('student-epochs', set, '3'));
  return { teacher: Number(perSet('teacher-epochs', set, '1')), student, largest: Number(perSet('largest-epochs', set, String(student))) };
};
const work = opt('work', '') || mkdtempSync(join(tmpdir(), 'slimtext-bench-scale-'));
const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** A step's figures, computed once and kept beside its output in the work folder. */
async function cached<T>(file: string, make: () => Promise<T>): Promise<T> {
  if (existsSync(file)) return readJson<T>(file);
  const r = await make();
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return r;
}

/**
 * The first `rows` rows of a logits file, as a logits file of their own (same corpus specs), renamed
 * into place whole: another process of this bench (--only) may be waiting for it.
 */
function prefixFile(src: string, rows: number, out: string): void {
  const d = readLogitsFile(src);
  const K = d.header.labels.length;
  const tmp = `${out}.tmp-${process.pid}`;
  const w = LogitsWriter.create(tmp, { labels: d.header.labels, teacher: d.header.teacher, corpus: d.header.corpus, dtype: d.header.dtype });
  w.append(d.fingerprints.slice(0, 2 * rows), d.positions.slice(0, rows), d.logits.slice(0, rows * K), d.positions[rows - 1]! + 1, false);
  w.close();
  renameSync(tmp, out);
}

async function benchSet(s: SetSpec, fasttext: string | undefined): Promise<Record<string, unknown>> {
  const dir = join(work, s.name);
  mkdirSync(dir, { recursive: true });
  const epochs = epochsOf(s.name);
  const out: Record<string, unknown> = { set: s.name, epochs };
  const partial = () => writeFileSync(join(work, `${s.name}.partial.json`), JSON.stringify(out, null, 2) + '\n');
  const { train, dev, test, files } = await benchRows(s, dir, { maxTrain: settings.maxTrain });
  out.rows = { train: train.length, distinct_train_texts: new Set(train.map((e) => e.text)).size, dev: dev.length, test: test.length };

  const teacherDir = join(dir, 'teacher');
  const unfinished = existsSync(join(teacherDir, CHECKPOINT_DIR, 'slimtext.json'));
  if (unfinished || !existsSync(join(teacherDir, 'slimtext.json'))) {
    log(`[${s.name}] ${train.length} train / ${dev.length} dev / ${test.length} test; ${unfinished ? 'resuming' : 'fine-tuning'} the teacher (${epochs.teacher} epochs)`);
    await finetune({
      model: settings.checkpoint, train: files.train, dev: files.dev, out: teacherDir, resume: unfinished, overwrite: !unfinished,
      recipe: { task: 'classify', pooling: 'mean', epochs: epochs.teacher, lr: 5e-4, batchSize: 32, maxLength: settings.maxLength, seed: 0 },
      progress: stderrProgress(),
      warn: (l) => log(`[${s.name}]   ${l}`),
    });
  } else log(`[${s.name}] reusing the teacher in ${teacherDir}`);
  const tlog = readJson<{ train_seconds?: number; epochs?: unknown[]; best?: unknown }>(join(teacherDir, LOG_FILE));
  out.teacher = { dir: teacherDir, train_seconds: tlog.train_seconds, epochs: tlog.epochs, best: tlog.best };

  const largest = s.extra.includes(0) ? 0 : Math.max(...s.extra);
  const corpus = [files.train, s.corpus(largest)];
  const logits = join(dir, 'logits.bin');
  if (!settings.label && !existsSync(logits)) throw new Error(`--no-label: ${logits} does not exist yet`);
  const label = !settings.label ? undefined : await cached(join(dir, 'logits.result.json'), async () => {
    log(`[${s.name}] labelling ${train.length} training texts + ${largest || 'all'} transfer texts (${settings.labelWorkers > 1 ? `${settings.labelWorkers} worker threads` : 'in-process'}, ${settings.threads} kernel thread(s))`);
    const runner = settings.labelWorkers > 1 ? await teacherPool(teacherDir, settings.labelWorkers) : inProcessRunner(await loadTeacher(teacherDir));
    let last = 0;
    const r = await labelCorpus({
      teacher: runner, corpus, out: logits, resume: existsSync(logits), overwrite: !existsSync(logits),
      onProgress: (p) => {
        if (performance.now() - last < 30_000) return;
        last = performance.now();
        log(`[${s.name}]   labelled ${p.done}/${p.total} texts (${p.rows} rows, ${p.duplicates} duplicates)`);
      },
    });
    await runner.close();
    return { corpus, rows: r.rows, corpus_texts: r.total, duplicates: r.duplicates, resumed_rows: r.resumedRows, seconds: round(r.seconds, 1), texts_per_s: round(r.textsPerSecond, 1), load_average: loadavg().map((x) => round(x, 2)) };
  });
  out.labelling = label;
  partial();

  const all = readLogitsFile(logits);
  // Rows of the training text come first: the prefix with `extra` transfer texts ends at the first
  // row whose corpus position is past the training text plus `extra`.
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
  (out.teacher as Record<string, unknown>).accuracy = round(tAcc, 4);
  log(`[${s.name}] teacher accuracy ${round(tAcc, 4)}`);
  const skipped = { skipped: 'not in --only' };
  const student = async (name: string, file: string, pure: boolean, studentEpochs = epochs.student) => settings.only.length && !settings.only.includes(name) && !existsSync(join(dir, `${name}.result.json`)) ? { ...skipped, accuracy: NaN } : cached(join(dir, `${name}.result.json`), async () => {
    log(`[${s.name}] student ${name} (${studentEpochs} epochs)`);
    const t0 = performance.now();
    const r = await distillStudent({
      teacherLogits: file, train: files.train, dev: files.dev, out: join(dir, name), pure, overwrite: true,
      shape: { dim: settings.dim, hidden: 200, maxVocab: 1_000_000, maxN: 4 },
      recipe: { epochs: studentEpochs, workers: settings.workers, hardWeight: pure ? 0 : 0.5 },
      progress: stderrProgress(),
      warn: (l) => log(`[${s.name}]   ${l}`),
    });
    const a = acc((await loadDan(join(dir, name))).predict(texts));
    log(`[${s.name}] ${name}: accuracy ${round(a, 4)} (${r.rows.transfer} transfer rows)`);
    return { epochs: studentEpochs, transfer_rows: r.rows.transfer, accuracy: round(a, 4), vocab: r.vocabSize, best_epoch: r.best?.epoch, train_seconds: round(r.trainSeconds, 1), wall_seconds: round((performance.now() - t0) / 1000, 1), load_average: loadavg().map((x) => round(x, 2)) };
  });
  // fastText first: seconds, where the students below take most of the run.
  if (settings.fasttext) {
    out.fasttext_gold = await cached(join(dir, 'fasttext.result.json'), async () => ({
      settings: { lr: settings.ftLr, epoch: settings.ftEpochs, dim: 100, wordNgrams: 2, threads: settings.workers },
      ...(fasttext ? runFasttext(fasttext, dir, train, test, { lr: settings.ftLr, epochs: settings.ftEpochs, threads: settings.workers }) : { error: 'fasttext unavailable' }),
    }));
    partial();
  }
  const ratio = (r: { accuracy: number }) => ({ ...r, ratio: round(r.accuracy / tAcc, 4) });
  const curve: Record<string, unknown>[] = [];
  out.pure_distillation = curve;
  // Training text only, then growing prefixes of the one logits file; `all` (the whole corpus) last.
  const sizes = [0, ...s.extra.filter((x) => x !== 0).sort((a, b) => a - b)];
  const steps: { extra: number; name: string; file: string }[] = sizes.map((extra) => ({ extra, name: `pure-${extra}`, file: join(dir, `logits-${extra}.bin`) }));
  if (largest === 0) steps.push({ extra: 0, name: 'pure-all', file: logits });
  for (const [i, st] of steps.entries()) {
    const isLargest = i === steps.length - 1;
    const needs = st.file === logits ? 'the whole corpus' : `${train.length + st.extra} corpus texts`;
    if (!all.commit.finished && (st.file === logits || all.commit.consumed < train.length + st.extra)) {
      log(`[${s.name}] ${logits} holds ${all.commit.consumed} corpus texts so far, ${st.name} needs ${needs}: stopping here`);
      return out;
    }
    if (st.file !== logits && !existsSync(st.file) && (!settings.only.length || settings.only.includes(st.name) || (isLargest && settings.only.includes(`mixed-${largest || 'all'}`)))) prefixFile(logits, rowsFor(st.extra), st.file);
    curve.push({ extra_texts: st.file === logits ? 'all' : st.extra, ...ratio(await student(st.name, st.file, true, isLargest ? epochs.largest : epochs.student)) });
    partial();
  }
  const largestFile = steps.at(-1)!.file;
  const mixedName = `mixed-${largest || 'all'}`;
  if (settings.mixed) {
    out.mixed_loss_largest = ratio(await student(mixedName, largestFile, false, epochs.largest));
    partial();
  }
  return out;
}

getBackend().setThreads(settings.threads);
const chosen = settings.sets.map((n) => SETS.find((s) => s.name === n) ?? (() => { throw new Error(`unknown set ${n} (known: ${SETS.map((s) => s.name).join(', ')})`); })());
for (const s of chosen) if (!existsSync(s.train)) throw new Error(`${s.train} is missing (../shared/data; set SLIMTEXT_SHARED)`);
const fasttext = settings.fasttext ? ensureFasttext(log) : undefined;
const results: Record<string, unknown>[] = [];
for (const s of chosen) results.push(await benchSet(s, fasttext));
console.log(JSON.stringify({ date: new Date().toISOString(), command: ['npx tsx bench/scaleAccuracy.ts', ...args].join(' '), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, backend: getBackend().name }, settings, work, sets: results }, null, 2));
