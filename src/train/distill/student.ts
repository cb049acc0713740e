/**
 * `slimtext distill` as a library call: read the teacher's logits and the texts they index, the
 * labelled train and dev data, build (or load) the n-gram vocabulary, featurise everything, train
 * the DAN (sparseDistill.ts), keep the best-on-dev student as a bundle in `out`, and write
 * `out/distill_log.json` after every epoch.
 */
import { mkdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { InputError, OptionError, SlimtextError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readBundle } from '../../io/bundle.js';
import { readLogitsHeader } from '../../io/logitsFile.js';
import { checkOutputPath } from '../../io/outputPath.js';
import { LabelMap, splitDev, unseenLabels, unseenWarning, type Example, type OpenOptions } from '../../data/index.js';
import { Dan, DanModel, type Bags } from '../../models/dan.js';
import { NgramVocab } from '../../text/ngramVocab.js';
import { readTransferSet } from './data.js';
import { checkLogitsTeacher } from '../teacherLogits.js';
import { vocabFromTexts } from './vocab.js';
import { sharedParamStorage } from './optim.js';
import type { ProgressSink } from '../progress.js';
import { DEFAULT_DISTILL_RECIPE, distillDan, type DistillEpoch, type DistillRecipe, type DistillSets } from './sparseDistill.js';
import { readSplit, requireFields } from '../tasks/taskData.js';

/** The student's shape and features: all defaults in one place. */
export interface StudentShape {
  /** Most n-grams in the vocabulary (most frequent first). */
  maxVocab: number;
  /** Longest n-gram (1..4). */
  maxN: number;
  /** Drop n-grams seen fewer times when building the vocabulary. */
  minCount: number;
  /** Hash buckets for n-grams outside the vocabulary (0: ignore them). */
  buckets: number;
  dim: number;
  hidden: number;
  dropIds: number;
  /**
   * Keep case and accents in the built vocabulary (default false: lowercase, as uncased BERT).
   * Case carries signal on some sets (TREC's questions, AG News' names): BENCHMARKS.md, round 3.
   */
  cased: boolean;
}

export const DEFAULT_SHAPE: Readonly<StudentShape> = Object.freeze({ maxVocab: 1_000_000, maxN: 4, minCount: 1, buckets: 0, dim: 200, hidden: 200, dropIds: 0.1, cased: false });

export interface StudentOptions {
  /** A logits file from slimtext label; without one the student trains on labelled data alone. */
  teacherLogits?: string;
  /** The teacher's model folder: the logits must have been made by it (checked by identity). */
  teacher?: string;
  /** Corpus specs that replace the ones the logits file names (the files moved). */
  corpus?: readonly string[];
  train?: string;
  trainSplit?: string;
  /** Dev data; default: the train data's dev split, else a seeded 10% of train held out. */
  dev?: string;
  devSplit?: string;
  data?: OpenOptions;
  out: string;
  /** Replace an existing model in `out`. */
  overwrite?: boolean;
  /** A prebuilt n-gram vocabulary (slimtext ngrams build); default: built from the texts. */
  vocab?: string;
  shape?: Partial<StudentShape>;
  recipe?: Partial<DistillRecipe>;
  tableDtype?: 'F32' | 'F16';
  /**
   * Pure distillation (the paper's alpha = 1): the student learns the teacher's logits alone; the
   * gold labels of --train are not used (train still supplies a dev split when --dev is absent).
   * Refused together with hard-label mixing or fine-tuning.
   */
  pure?: boolean;
  /** Threads building the vocabulary (default: one per core); training threads are recipe.workers. */
  workers?: number;
  progress?: ProgressSink;
  warn?: (line: string) => void;
}

export interface StudentResult {
  out: string;
  labels: readonly string[];
  history: DistillEpoch[];
  best: DistillEpoch | undefined;
  /** Time in training steps (not vocabulary, featurising or evaluation). */
  trainSeconds: number;
  /** Everything this call did. */
  wallSeconds: number;
  vocabSize: number;
  parameters: number;
  /** Size of the saved bundle's files. */
  bundleBytes: number;
  rows: { transfer: number; train: number; dev: number };
  notes: string[];
  /** False when the logits file came from an unfinished labelling run (the student saw part of it). */
  transferFinished: boolean | null;
}

export const DISTILL_LOG = 'distill_log.json';
/** A vocabulary built without --max-vocab holds at most this many n-grams per text (and at least MIN_AUTO_VOCAB). */
export const NGRAMS_PER_TEXT = 10;
export const MIN_AUTO_VOCAB = 10_000;

export async function distillStudent(opts: StudentOptions): Promise<StudentResult> {
  const start = performance.now();
  const shape: StudentShape = { ...DEFAULT_SHAPE, ...definedOnly(opts.shape ?? {}) };
  const recipe: DistillRecipe = { ...DEFAULT_DISTILL_RECIPE, ...definedOnly(opts.recipe ?? {}) };
  checkShape(shape);
  checkOutputPath(opts.out, { kind: 'folder', overwrite: opts.overwrite });
  const notes: string[] = [];
  const note = (l: string) => {
    notes.push(l);
    opts.warn?.(l);
  };

  // ---- data
  // The teacher check reads only the header, before the (long) corpus read.
  if (opts.teacherLogits && opts.teacher) await checkLogitsTeacher(opts.teacherLogits, readLogitsHeader(opts.teacherLogits).header.teacher, opts.teacher);
  const transfer = opts.teacherLogits ? await readTransferSet(opts.teacherLogits, opts.corpus) : undefined;
  for (const n of transfer?.notes ?? []) note(n);
  let train: Example[] = [];
  let dev: Example[] = [];
  let devFrom = 'none';
  if (opts.train) {
    const t = await readSplit(opts.train, opts.trainSplit, 'train', opts.data);
    if (t.skipped) note(t.skipped);
    requireFields(t.examples, 'classify', t.file);
    train = t.examples;
    if (opts.dev) {
      const d = await readSplit(opts.dev, opts.devSplit, 'dev', opts.data);
      if (d.skipped) note(d.skipped);
      requireFields(d.examples, 'classify', d.file);
      dev = d.examples;
      devFrom = `${opts.dev} (${d.split})`;
    } else if (t.dataset.splits.some((s) => ['dev', 'val', 'valid', 'validation'].includes(s)) && t.split !== 'dev') {
      const d = await readSplit(opts.train, 'dev', 'dev', opts.data);
      if (d.skipped) note(d.skipped);
      dev = d.examples;
      devFrom = `${opts.train} (${d.split})`;
    } else {
      const s = splitDev(train);
      if (s.dev.length === 0) throw new InputError(t.file, undefined, undefined, `the held-out dev split is empty (${train.length} rows): give --dev data, or more rows`);
      train = s.train;
      dev = s.dev;
      devFrom = `${opts.train} (a seeded 10% of ${t.split} held out)`;
      note(`no dev data given: holding out a seeded 10% of ${opts.train} as dev`);
    }
  } else if (opts.dev) {
    const d = await readSplit(opts.dev, opts.devSplit, 'dev', opts.data);
    if (d.skipped) note(d.skipped);
    requireFields(d.examples, 'classify', d.file);
    dev = d.examples;
    devFrom = `${opts.dev} (${d.split})`;
  }
  if (opts.pure) {
    if (!transfer) throw new SlimtextError('pure distillation needs --teacher-logits');
    if (recipe.hardWeight > 0 || recipe.finetuneEpochs > 0) throw new SlimtextError('pure distillation learns the teacher alone: drop --hard-weight and --finetune-epochs (or drop --pure for the mixed loss)');
    if (train.length) note(`pure distillation: the gold labels of ${opts.train} are not used (only its dev split, to pick the best epoch)`);
    train = [];
  }
  if (!transfer && train.length === 0) throw new SlimtextError('nothing to train on: give --teacher-logits (from slimtext label) and/or --train');
  if (recipe.finetuneEpochs > 0 && train.length === 0) throw new SlimtextError('--finetune-epochs needs labelled --train data');
  if (recipe.hardWeight > 0 && train.length === 0) throw new SlimtextError('--hard-weight needs labelled --train data');
  if (!dev.length) note('no dev data: the student of the last epoch is kept');

  const labels = transfer ? LabelMap.fromJSON({ version: 1, labels: transfer.header.labels }) : LabelMap.fromLabels(train.map((e) => e.label!));
  const ids = (rows: Example[], what: string): Int32Array => {
    const y = labels.encode(rows);
    const bad = y.indexOf(-1);
    if (bad >= 0) {
      const unknown = [...new Set(rows.filter((_, i) => y[i] === -1).map((e) => e.label))];
      throw new InputError(what, rows[bad]!.line, 'label', `label '${rows[bad]!.label}' is not one of the ${transfer ? "teacher's" : "training data's"} ${labels.size} labels (${unknown.length} unknown label${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')})`);
    }
    return y;
  };
  const trainY = ids(train, opts.train ?? 'train');
  // Dev labels the student cannot predict: reported as finetune reports them, and kept (counted wrong).
  const unseen = unseenWarning(await unseenLabels(labels, dev, `dev (${devFrom})`));
  if (unseen) note(unseen);
  const devY = labels.encode(dev);

  // Dev texts stay out of training altogether, also when the teacher labelled them (e.g. dev held
  // out of a train file that was labelled whole): otherwise choosing the best epoch on dev would
  // reward copying the teacher on exactly those texts.
  if (transfer && dev.length) {
    const held = new Set(dev.map((e) => e.text));
    const keep = transfer.texts.map((t) => !held.has(t));
    const dropped = keep.filter((k) => !k).length;
    if (dropped > 0) {
      const C = transfer.header.labels.length;
      const logits = new Float32Array((transfer.texts.length - dropped) * C);
      const texts: string[] = [];
      transfer.texts.forEach((t, i) => {
        if (!keep[i]) return;
        logits.set(transfer.logits.subarray(i * C, (i + 1) * C), texts.length * C);
        texts.push(t);
      });
      transfer.texts = texts;
      transfer.logits = logits;
      note(`left ${dropped} dev text${dropped > 1 ? 's' : ''} out of the transfer set`);
    }
  }

  // ---- features
  const texts = [...(transfer?.texts ?? []), ...train.map((e) => e.text)];
  // Unless --max-vocab is given, the vocabulary grows with the data (at most PER_TEXT n-grams per
  // text): a million 200-wide rows for 8k sentences made a 179 MB student of a 17 MB teacher.
  if (opts.shape?.maxVocab === undefined) shape.maxVocab = Math.min(shape.maxVocab, Math.max(MIN_AUTO_VOCAB, NGRAMS_PER_TEXT * texts.length));
  const vocab = opts.vocab ? NgramVocab.load(opts.vocab) : await vocabFromTexts(texts, { maxVocab: shape.maxVocab, maxN: shape.maxN, minCount: shape.minCount, lowercase: !shape.cased, workers: opts.workers });
  // A given vocabulary fixes the case of the words; asking for the other is refused, not ignored.
  if (opts.vocab && opts.shape?.cased !== undefined && opts.shape.cased === vocab.meta.lowercase) {
    throw new OptionError(`--cased ${opts.shape.cased ? 'asks for a cased vocabulary' : 'is off'}, but ${opts.vocab} is ${vocab.meta.lowercase ? 'lowercased (build it with slimtext ngrams build --cased)' : 'cased'}`);
  }
  shape.cased = !vocab.meta.lowercase;
  if (shape.maxN > vocab.meta.maxN) throw new SlimtextError(`--max-n ${shape.maxN} exceeds the vocabulary's longest n-gram (${vocab.meta.maxN})`);
  checkMemory(vocab.size + shape.buckets, shape.dim);
  const model = new DanModel({ rows: vocab.size + shape.buckets, dim: shape.dim, hidden: shape.hidden, numLabels: labels.size, dropIds: shape.dropIds }, { seed: recipe.seed, ...(recipe.workers > 1 ? { storage: sharedParamStorage() } : {}) });
  const dan = new Dan(model, vocab, { buckets: shape.buckets, maxN: shape.maxN }, labels.labels);
  const teacherParams = Number(transfer?.header.teacher.parameters ?? 0);
  if (teacherParams > 0 && model.parameterCount() > teacherParams) {
    note(`warning: the student (${model.parameterCount().toLocaleString('en-US')} parameters) is larger than its teacher (${teacherParams.toLocaleString('en-US')}); lower --max-vocab or --dim, or store the table with --table-dtype f16`);
  }
  // Featurising is a few seconds per 100k texts (measured: 2.7 s for nlp-corpus, 4.7M ids), a small
  // share next to training, so it stays in this thread.
  const featurize = async (xs: readonly string[]): Promise<Bags> => dan.featurize(xs);
  const sets: DistillSets = {};
  if (transfer) sets.transfer = { bags: await featurize(transfer.texts), logits: transfer.logits };
  if (train.length) sets.labelled = { bags: await featurize(train.map((e) => e.text)), labels: trainY };
  if (dev.length) sets.dev = { bags: await featurize(dev.map((e) => e.text)), labels: devY };

  // ---- train
  await mkdir(opts.out, { recursive: true });
  const rows = { transfer: transfer?.texts.length ?? 0, train: train.length, dev: dev.length };
  const info = {
    teacher_logits: opts.teacherLogits ?? null,
    teacher: transfer?.header.teacher ?? null,
    corpus: transfer ? (opts.corpus ?? transfer.header.corpus) : [],
    train: opts.train ?? null,
    dev: devFrom,
    pure: opts.pure === true,
    rows,
    vocab: { size: vocab.size, source: opts.vocab ?? 'built from the transfer and training texts', max_n: shape.maxN, buckets: shape.buckets },
  };
  const history: DistillEpoch[] = [];
  let bestSoFar: DistillEpoch | undefined;
  const log = (status: string, extra: Record<string, unknown> = {}) =>
    writeFileAtomic(join(opts.out, DISTILL_LOG), `${JSON.stringify({ version: 1, status, ...info, shape, recipe, notes, epochs: history, best: bestSoFar ?? null, ...extra }, null, 2)}\n`);
  const result = await distillDan(model, sets, recipe, {
    progress: opts.progress,
    onEpoch: async (rec, best) => {
      history.push(rec);
      if (best) {
        bestSoFar = rec;
        await dan.save(opts.out, {
          recipe: { ...recipe, ...shape, ...info },
          metrics: { ...(rec.dev_accuracy !== undefined ? { dev: { accuracy: rec.dev_accuracy, n: dev.length } } : {}), phase: rec.phase, epoch: rec.epoch },
          notes,
          tableDtype: opts.tableDtype,
        });
      }
      const devLine = rec.dev_accuracy !== undefined ? `, dev accuracy ${rec.dev_accuracy.toFixed(4)}` : '';
      opts.warn?.(`${rec.phase} epoch ${rec.epoch + 1}: loss ${rec.loss.toFixed(4)}${devLine} (${rec.train_seconds.toFixed(1)} s, ${rec.examples_per_s} texts/s${best ? ', best so far: saved' : ''})`);
      await log('running');
    },
  });
  const saved = await readBundle(opts.out);
  const bundleBytes = Object.values(saved.manifest.files).reduce((n, f) => n + f.bytes, 0);
  await log('completed', { train_seconds: result.trainSeconds, bundle_bytes: bundleBytes });
  return {
    out: opts.out,
    labels: labels.labels,
    history: result.history,
    best: result.best,
    trainSeconds: result.trainSeconds,
    wallSeconds: Math.round(performance.now() - start) / 1000,
    vocabSize: vocab.size,
    parameters: model.parameterCount(),
    bundleBytes,
    rows,
    notes,
    transferFinished: transfer ? transfer.finished : null,
  };
}

/** The table and its two Adam moments must fit in memory: say so up front rather than fail in an allocation. */
function checkMemory(rows: number, dim: number): void {
  const need = rows * dim * 4 * 3;
  const have = totalmem();
  if (need > have * 0.85) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(1);
    throw new SlimtextError(`an n-gram table of ${rows.toLocaleString('en-US')} rows x ${dim} needs ${gib(need)} GiB with its Adam moments; this machine has ${gib(have)} GiB: lower --max-vocab, --buckets or --dim`);
  }
}

function checkShape(s: StudentShape): void {
  const whole = (v: number, name: string, min: number) => {
    if (!(Number.isInteger(v) && v >= min)) throw new OptionError(`--${name} must be a whole number >= ${min}, got ${v}`);
  };
  whole(s.maxVocab, 'max-vocab', 1);
  whole(s.maxN, 'max-n', 1);
  if (s.maxN > 4) throw new OptionError(`--max-n must be 1..4, got ${s.maxN}`);
  whole(s.minCount, 'min-count', 1);
  whole(s.buckets, 'buckets', 0);
  whole(s.dim, 'dim', 1);
  whole(s.hidden, 'hidden', 0);
  if (!(s.dropIds >= 0 && s.dropIds < 1)) throw new OptionError(`--drop-ids must be in [0, 1), got ${s.dropIds}`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
