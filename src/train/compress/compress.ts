/**
 * `slimtext compress` as a library call: load a model, prune and/or compress its embedding table,
 * optionally retrain around it (retrain) or train it with the task (joint), and save the result as
 * a model folder that loads wherever a model does. The recipe (methods, settings, mode, pruning,
 * training history) goes into the manifest under `recipe.compression`.
 */
import { InputError } from '../../errors.js';
import { readBundle } from '../../io/bundle.js';
import type { Example, OpenOptions } from '../../data/index.js';
import { loadAnyModel, isDan } from '../../models/anyModel.js';
import { Dan } from '../../models/dan.js';
import { withTable, pruneDan, type PruneInfo } from './prune.js';
import { gradientImportance } from './importance.js';
import { DEFAULT_SETTINGS, compressTable, parseMethods, type CompressSettings, type Method, type TableMethod } from './methods.js';
import { INT8_LINEAR, applyInt8Linear, checkInt8Linear } from './int8Linear.js';
import { DEFAULT_TRAIN, trainCompressed, type CompressTrainResult } from './train.js';
import { readSplit, subsample } from '../tasks/taskData.js';
import { inspectModel } from '../../models/inspect.js';
import { tableBytes, type EmbeddingTable } from '../../models/tables/table.js';
import { LabelMap } from '../../data/index.js';
import { classifierLogits, plainEncode } from '../../models/inference.js';
import { saveTaskModel, tokenizerFilesIn, type ClassifierTaskModel, type TaskKind } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { classifierMetrics } from '../tasks/classify.js';
import { trainCompressedClassifier } from './trainClassifier.js';
import { teacherLogitsForTrain } from './teacherLogits.js';
import { checkOutputPath } from '../../io/outputPath.js';

export type CompressMode = 'posthoc' | 'retrain' | 'joint';

export interface CompressOptions {
  model: string;
  methods: string;
  /** Default: joint with train data, posthoc without. */
  mode?: CompressMode;
  train?: string;
  dev?: string;
  data?: OpenOptions;
  /** Train on a seeded sample of at most N rows (0: all). */
  maxTrain?: number;
  /** With train data, weigh each row by its count in it when fitting k-means / low rank ('count', default) or not ('none'). */
  fitWeights?: 'count' | 'none';
  /** Evaluate dev on a seeded sample of at most N rows (0: all). */
  maxDev?: number;
  settings?: Partial<CompressSettings>;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  /**
   * retrain / joint of a DAN student: a logits file from slimtext label over the training texts;
   * the loss becomes distill's, alpha x KL to the teacher + (1 - alpha) x cross-entropy.
   */
  teacherLogits?: string;
  /** Weight of the teacher term, (0, 1] (default 0.5); only with teacherLogits. */
  alpha?: number;
  out: string;
  overwrite?: boolean;
  log?: (line: string) => void;
}

export interface CompressReport {
  out: string;
  methods: Method[];
  mode: CompressMode;
  before: { bytes_on_disk: number; embedding_bytes: number; linear_bytes: number; dev_accuracy?: number };
  after: { bytes_on_disk: number; embedding_bytes: number; linear_bytes: number; dev_accuracy?: number };
  embedding_ratio: number;
  prune?: PruneInfo;
  training?: CompressTrainResult;
  seconds: number;
}

export async function compressModel(o: CompressOptions): Promise<CompressReport> {
  const t0 = performance.now();
  checkOutputPath(o.out, { kind: 'folder', overwrite: o.overwrite });
  const methods = parseMethods(o.methods);
  const mode: CompressMode = o.mode ?? (o.train ? 'joint' : 'posthoc');
  if (mode !== 'posthoc' && !o.train) throw new InputError('--mode', undefined, undefined, `${mode} trains on the task: give the labelled data with --train`);
  const s: CompressSettings = { ...DEFAULT_SETTINGS, ...o.settings };
  if (s.qnorm && !methods.includes('pq')) throw new InputError('--qnorm', undefined, undefined, `quantises the norms of pq rows: use it with --method pq (or prune,pq), not ${methods.join(',')}`);
  if (s.pruneBy === 'gradient' && methods.includes('prune') && !o.train) throw new InputError('--prune-by', undefined, undefined, 'gradient ranks n-grams by their gradient signal on the task: give the labelled data with --train');
  checkTeacherOptions(o, mode);
  const tm = await loadAnyModel(o.model);
  if (o.teacherLogits !== undefined && !isDan(tm)) {
    throw new InputError('--teacher-logits', undefined, undefined, `learning from teacher logits is supported for DAN students only; ${o.model} is a ${tm.task} transformer (compress it with --train's gold labels alone)`);
  }
  if (!isDan(tm) && tm.task === 'reply') {
    throw new InputError(o.model, undefined, 'task', 'compress takes DAN students and transformer classifiers (classify / pair); this is a reply (bi-encoder) model');
  }
  if (!isDan(tm) && methods.includes('prune')) {
    throw new InputError('--method', undefined, undefined, `prune removes n-grams from a DAN student's vocabulary; a ${tm.task} transformer's word-piece vocabulary cannot be pruned (use int8, int4, f16, lowrank, pq or codes)`);
  }
  const source = await readBundle(o.model);
  checkInt8Linear(tm, o.model, methods, mode, source.manifest.recipe);
  const tableMethods = methods.filter((m): m is Exclude<Method, typeof INT8_LINEAR> => m !== INT8_LINEAR);
  const before = await inspectModel(o.model);
  const train = o.train ? subsample((await readSplit(o.train, undefined, 'train', o.data, tm.task)).examples, o.maxTrain ?? 0, s.seed, 'compress') : undefined;
  const devAll = o.dev ? (await readSplit(o.dev, undefined, 'dev', o.data, tm.task)).examples : o.train ? await devOf(o.train, o.data, tm.task) : undefined;
  const dev = devAll && o.maxDev ? subsample(devAll, o.maxDev, s.seed, 'compress-dev') : devAll;
  const teacher = o.teacherLogits !== undefined && isDan(tm)
    ? { logits: teacherLogitsForTrain(o.teacherLogits, train!, o.train!, tm.dan.labels, source.manifest.recipe, o.model), alpha: o.alpha ?? DEFAULT_ALPHA, temperature: 1 }
    : undefined;
  const log = o.log ?? (() => {});
  const trainOpts = (mode: 'retrain' | 'joint') => ({
    mode, epochs: o.epochs ?? DEFAULT_TRAIN.epochs, lr: o.lr ?? (isDan(tm) ? DEFAULT_TRAIN.lr : 2e-4), batchSize: o.batchSize ?? DEFAULT_TRAIN.batchSize, seed: s.seed,
    onEpoch: (e: number, loss: number, acc: number | undefined) => log(`${mode} epoch ${e}: loss ${loss.toFixed(4)}${acc !== undefined ? `, dev accuracy ${acc.toFixed(4)}` : ''}`),
  });
  let prune: PruneInfo | undefined;
  let training: CompressTrainResult | undefined;
  let accBefore: number | undefined, accAfter: number | undefined;
  const taskAware = train !== undefined && (o.fitWeights ?? 'count') === 'count';
  const compressOne = (table: EmbeddingTable, m: TableMethod, rowIds: () => Int32Array[]): EmbeddingTable => {
    const t = performance.now();
    const out = compressTable(table, m, s, taskAware ? rowCounts(table.rows, rowIds()) : undefined);
    log(`${m}: ${tableBytes(out)} table bytes (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    return out;
  };
  const recipe = (table: EmbeddingTable) => ({
    methods, mode, settings: s, fit_weights: taskAware ? 'count' : 'none', source: o.model, ...(prune ? { prune } : {}), table: table.spec(),
    ...(training ? { training, train: o.train, train_rows: train!.length } : {}),
    ...(teacher ? { teacher_logits: o.teacherLogits, alpha: teacher.alpha, temperature: teacher.temperature } : {}),
  });
  const notes = [
    ...source.manifest.notes,
    ...(tableMethods.length ? [`embedding table compressed: ${tableMethods.join(',')} (${mode})`] : []),
    ...(methods.includes(INT8_LINEAR) ? ['encoder linear layers stored as int8 (int8-linear): predict, eval, label and serve run the int8 path'] : []),
  ];
  if (isDan(tm)) {
    let dan = tm.dan;
    accBefore = dev ? danAccuracy(dan, dev) : undefined;
    for (const m of tableMethods) {
      if (m === 'prune') {
        ({ dan, info: prune } = pruneDan(dan, s, s.pruneBy === 'gradient' ? gradientImportance(dan, train!, o.batchSize ?? DEFAULT_TRAIN.batchSize) : undefined));
        log(`pruned to ${prune.kept} n-grams (${prune.dropped} ${prune.fallout === 'bucket' ? `fall out to ${prune.buckets} buckets` : 'skipped'})`);
      } else {
        const d0 = dan;
        dan = new Dan(withTable(dan.model, compressOne(dan.model.embeddings, m, () => [d0.featurize(train!.map((e) => e.text)).ids])), dan.vocab, dan.features, dan.labels);
      }
    }
    if (mode !== 'posthoc') training = trainCompressed(dan, train!, dev, trainOpts(mode), teacher);
    accAfter = dev ? danAccuracy(dan, dev) : undefined;
    await dan.save(o.out, {
      recipe: { compression: recipe(dan.model.embeddings), source_recipe: source.manifest.recipe },
      metrics: { ...(accBefore !== undefined ? { dev_accuracy_before: accBefore, dev_accuracy: accAfter } : {}), source_metrics: source.manifest.metrics },
      notes,
    });
  } else {
    const emb = tm.model.bert.embeddings;
    const clsAcc = () => (dev ? classifierAccuracy(tm, dev) : undefined);
    accBefore = clsAcc();
    const tokens = () => tokenizeAll(tm.tokenizer, train!.map((e) => e.text), tm.task === 'pair' ? train!.map((e) => e.pair ?? '') : undefined, tm.maxLength).ids;
    if (tableMethods.length) emb.setWordTable(compressOne(emb.word_embeddings, tableMethods[0] as TableMethod, tokens));
    if (mode !== 'posthoc') training = trainCompressedClassifier(tm, train!, dev, trainOpts(mode));
    if (methods.includes(INT8_LINEAR)) log(`int8-linear: ${applyInt8Linear(tm)} encoder linear layers stored as int8`);
    accAfter = clsAcc();
    await saveTaskModel(o.out, tm, {
      tokenizerFiles: tokenizerFilesIn(o.model),
      recipe: { ...source.manifest.recipe, compression: recipe(emb.word_embeddings) },
      metrics: { ...source.manifest.metrics, ...(accBefore !== undefined ? { dev_accuracy_before_compression: accBefore, dev_accuracy_after_compression: accAfter } : {}) },
      notes,
    });
  }
  const after = await inspectModel(o.out);
  return {
    out: o.out, methods, mode,
    before: { bytes_on_disk: before.bytes_on_disk, embedding_bytes: before.embedding_bytes, linear_bytes: before.linear_bytes, ...(accBefore !== undefined ? { dev_accuracy: accBefore } : {}) },
    after: { bytes_on_disk: after.bytes_on_disk, embedding_bytes: after.embedding_bytes, linear_bytes: after.linear_bytes, ...(accAfter !== undefined ? { dev_accuracy: accAfter } : {}) },
    embedding_ratio: after.embedding_bytes / before.embedding_bytes,
    ...(prune ? { prune } : {}), ...(training ? { training } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The teacher term's weight when --alpha is not given: half teacher, half gold labels. */
export const DEFAULT_ALPHA = 0.5;

function checkTeacherOptions(o: CompressOptions, mode: CompressMode): void {
  if (o.teacherLogits === undefined) {
    if (o.alpha !== undefined) throw new InputError('--alpha', undefined, undefined, 'weighs the teacher logits in the loss: give --teacher-logits too');
    return;
  }
  if (mode === 'posthoc') throw new InputError('--teacher-logits', undefined, undefined, `${o.teacherLogits} is learnt from in training; --mode posthoc does not train: use --mode retrain or joint with --train`);
  if (o.alpha !== undefined && !(o.alpha > 0 && o.alpha <= 1)) throw new InputError('--alpha', undefined, undefined, `must be in (0, 1] (the teacher term's weight; without a teacher, drop --teacher-logits), got ${o.alpha}`);
}

async function devOf(train: string, data: OpenOptions | undefined, task: TaskKind): Promise<Example[] | undefined> {
  try {
    return (await readSplit(train, 'dev', 'dev', data, task)).examples;
  } catch {
    return undefined;
  }
}

/** How many times each row id occurs in the task's data. */
function rowCounts(rows: number, ids: Int32Array[]): Float32Array {
  const c = new Float32Array(rows);
  for (const a of ids) for (const id of a) c[id]!++;
  return c;
}

function danAccuracy(dan: Dan, rows: readonly Example[]): number {
  return accuracyOf(dan.predict(rows.map((e) => e.text)), dan.labels, rows);
}

function classifierAccuracy(tm: ClassifierTaskModel, rows: readonly Example[]): number {
  const tok = tm.tokenizer;
  const set = tokenizeAll(tok, rows.map((e) => e.text), tm.task === 'pair' ? rows.map((e) => e.pair ?? '') : undefined, tm.maxLength);
  return accuracyOf(classifierLogits(tm.model, set, 64, plainEncode(tok.padId >= 0 ? tok.padId : 0)), tm.labels, rows);
}

function accuracyOf(logits: Float32Array, labels: readonly string[], rows: readonly Example[]): number {
  const map = LabelMap.fromJSON({ version: 1, labels: [...labels] });
  return classifierMetrics(logits, map.encode(rows), labels.length).accuracy!;
}
