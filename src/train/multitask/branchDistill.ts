/**
 * Branch distillation (`slimtext distill --teacher BRANCH_DIR --student-layers l`): an l-layer
 * branch from an L-layer one on the same frozen trunk, as CentraBert does it. The student is the
 * teacher's trunk (embeddings + K frozen layers, shared bytes, so it stays mergeable), the
 * teacher branch's bottom l layers, its pooler and its classifier; it trains on
 *
 *   softWeight x T^2 x KL(teacher_T || student_T)  on every example (labelled and unlabelled)
 *   + hardWeight x cross-entropy                   on the labelled ones
 *
 * with the trunk frozen and its features cached (prefixCache.ts), through the shared trainer
 * (best-on-dev kept, resumable). KL differs from soft cross-entropy by the teacher's entropy, a
 * constant: same gradients, and the loss reads 0 when the student matches.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, add, crossEntropy, klDiv, scale } from '../../engine/index.js';
import { InputError, SlimtextError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readBundle } from '../../io/bundle.js';
import { corpusSentences } from '../../data/corpus.js';
import { LabelMap, splitDev, type Example, type OpenOptions } from '../../data/index.js';
import { BertModel } from '../../models/bert/model.js';
import { SequenceClassifier } from '../../models/classifier.js';
import { classifierLogits, plainEncode } from '../../models/inference.js';
import { loadTaskModel, saveTaskModel, tokenizerFilesIn } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';
import type { WordPieceTokenizer } from '../../text/tokenizer.js';
import { freezeEncoder, type FreezePlan } from '../freeze.js';
import { PrefixCache, PrefixRunner } from '../prefixCache.js';
import type { ProgressSink } from '../progress.js';
import { DEFAULT_SETTINGS, makeRecipe, type Recipe, type RunSettings } from '../recipe.js';
import { ClassifyTask, classifierMetrics, type ClassifyData } from '../tasks/classify.js';
import type { Metrics } from '../tasks/task.js';
import { readSplit, requireFields, subsample } from '../tasks/taskData.js';
import { train, type TrainResult } from '../trainer.js';
import { removeState } from '../trainState.js';
import { parseTrunkIdentity, trunkIdentity } from '../trunk.js';
import { checkOutputPath } from '../../io/outputPath.js';

export interface BranchDistillLoss {
  /** Softening temperature T (loss x T^2). */
  temperature: number;
  softWeight: number;
  hardWeight: number;
}

export const DEFAULT_BRANCH_LOSS: Readonly<BranchDistillLoss> = Object.freeze({ temperature: 2, softWeight: 1, hardWeight: 1 });

export interface BranchDistillOptions {
  /** The L-layer branch model (a classifier fine-tuned on a frozen trunk). */
  teacher: string;
  studentLayers: number;
  train: string;
  trainSplit?: string;
  dev?: string;
  devSplit?: string;
  /** Unlabelled texts (corpus specs): more soft-target examples. */
  corpus?: readonly string[];
  /** Use at most this many corpus texts (0: all). */
  maxCorpus?: number;
  out: string;
  overwrite?: boolean;
  resume?: boolean;
  recipe?: Partial<Recipe>;
  loss?: Partial<BranchDistillLoss>;
  settings?: Partial<RunSettings>;
  data?: OpenOptions;
  progress?: ProgressSink;
  warn?: (line: string) => void;
  stopAfterSteps?: number;
}

export interface BranchDistillResult extends TrainResult {
  out: string;
  startLayer: number;
  teacherLayers: number;
  studentLayers: number;
  /** The teacher's accuracy on the same dev rows, for comparison. */
  teacherDev: Metrics;
  trainSeconds: number;
  wallSeconds: number;
  rows: { labelled: number; unlabelled: number; dev: number };
}

export const BRANCH_LOG_FILE = 'distill_log.json';

export async function distillBranch(opts: BranchDistillOptions): Promise<BranchDistillResult> {
  const start = performance.now();
  const warn = opts.warn ?? (() => undefined);
  const loss: BranchDistillLoss = { ...DEFAULT_BRANCH_LOSS, ...Object.fromEntries(Object.entries(opts.loss ?? {}).filter(([, v]) => v !== undefined)) };
  if (!(loss.temperature > 0)) throw new SlimtextError(`--temperature must be positive, got ${loss.temperature}`);
  if (!(loss.softWeight >= 0 && loss.hardWeight >= 0) || loss.softWeight + loss.hardWeight === 0) throw new SlimtextError('--soft-weight and --hard-weight must be >= 0, not both 0');
  const stateDir = join(opts.out, 'checkpoint');
  checkOutputPath(opts.out, { kind: 'folder', overwrite: opts.overwrite, resume: opts.resume ?? false });

  // ---- teacher and student
  const { manifest } = await readBundle(opts.teacher);
  const trunk = parseTrunkIdentity(manifest.architecture.trunk);
  if (!trunk) throw new InputError(join(opts.teacher, 'slimtext.json'), undefined, 'architecture.trunk', 'not a branch model (no trunk identity): fine-tune the teacher with --freeze-embeddings --freeze-layers K first');
  const { model: teacher } = await loadTaskModel(opts.teacher);
  if (teacher.task !== 'classify') throw new InputError(opts.teacher, undefined, 'task', `branch distillation needs a single-text classifier, this model's task is '${teacher.task}'`);
  const K = trunk.start_layer;
  const L = teacher.model.bert.numLayers - K;
  const l = opts.studentLayers;
  if (!(Number.isInteger(l) && l >= 1 && l <= L)) throw new SlimtextError(`--student-layers ${l}: the teacher's branch has ${L} layer${L === 1 ? '' : 's'} above its ${K} frozen ones, so l must be in 1..${L}`);
  const recipe = makeRecipe({ lr: 1e-4, ...definedOnly(opts.recipe ?? {}), task: 'classify', freezeEmbeddings: true, freezeLayers: K });
  const settings: RunSettings = { ...DEFAULT_SETTINGS, ...definedOnly(opts.settings ?? {}) };
  const tm = teacher.model;
  const bert = new BertModel({ ...tm.bert.currentConfig(), numLayers: K + l }, { pooler: tm.bert.pooler !== undefined, skipInit: true, seed: recipe.seed });
  const teacherParams = new Map(tm.namedParameters());
  const student = new SequenceClassifier(bert, { numLabels: teacher.labels.length, usePooler: tm.usePooler, pooling: tm.pooling, dropout: tm.dropout.p, seed: recipe.seed });
  // Layers 0..K+l-1 keep their indices: the trunk's K, then the branch's bottom l.
  student.loadParameters((name) => teacherParams.get(name)?.data);
  const plan = freezeEncoder(bert, { embeddings: true, layers: K });
  warn(`student: trunk of ${K} frozen layers + ${l} of the teacher's ${L} branch layers, its ${tm.usePooler ? 'pooler and ' : ''}classifier; ${plan.trainableParameters.toLocaleString('en-US')} parameters train`);

  // ---- data: labelled rows, then unlabelled corpus rows; dev
  const tok = teacher.tokenizer;
  const labels = LabelMap.fromJSON({ version: 1, labels: [...teacher.labels] });
  const rows = await readSplit(opts.train, opts.trainSplit, 'train', opts.data, 'classify');
  let trainEx = rows.examples;
  let devEx: Example[];
  if (opts.dev !== undefined) devEx = (await readSplit(opts.dev, opts.devSplit, 'dev', opts.data, 'classify')).examples;
  else if (opts.devSplit !== undefined || rows.dataset.splits.some((s) => ['dev', 'val', 'valid', 'validation'].includes(s))) devEx = (await readSplit(opts.train, opts.devSplit ?? 'dev', 'dev', opts.data, 'classify')).examples;
  else {
    const s = splitDev(trainEx, { fraction: recipe.devFraction, stratify: true });
    trainEx = s.train;
    devEx = s.dev;
    warn(`no dev split in ${opts.train}: holding out a seeded ${Math.round(recipe.devFraction * 100)}% of it as dev`);
  }
  requireFields(trainEx, 'classify', rows.file);
  trainEx = subsample(trainEx, recipe.maxTrain, recipe.seed, 'train');
  devEx = subsample(devEx, recipe.maxDev, recipe.seed, 'dev');
  const unlabelled: string[] = [];
  for (const spec of opts.corpus ?? []) {
    for await (const s of corpusSentences(spec)) {
      if (opts.maxCorpus && unlabelled.length >= opts.maxCorpus) break;
      if (/\S/.test(s)) unlabelled.push(s);
    }
  }
  const hard = Int32Array.from([...labels.encode(trainEx), ...unlabelled.map(() => -1)]);
  const set = tokenizeAll(tok, [...trainEx.map((e) => e.text), ...unlabelled], undefined, teacher.maxLength);
  const dev = tokenizeAll(tok, devEx.map((e) => e.text), undefined, teacher.maxLength);
  const devLabels = labels.encode(devEx);
  const padId = tok.padId >= 0 ? tok.padId : 0;
  const t0 = performance.now();
  const teacherLogits = classifierLogits(tm, set, settings.evalBatchSize, plainEncode(padId));
  const teacherDev = classifierMetrics(classifierLogits(tm, dev, settings.evalBatchSize, plainEncode(padId)), devLabels, teacher.labels.length);
  warn(`teacher logits for ${set.lengths.length} texts in ${((performance.now() - t0) / 1000).toFixed(1)} s; teacher dev accuracy ${teacherDev.accuracy!.toFixed(4)}`);

  const runner = new PrefixRunner(bert, plan, padId, settings.cacheMb > 0 ? new PrefixCache(settings.cacheMb * 2 ** 20) : undefined);
  const task = new BranchDistillTask(student, plan, runner, { train: set, trainLabels: hard, dev, devLabels, labels: teacher.labels }, teacherLogits, loss, tok, teacher.maxLength, settings.evalBatchSize);
  const tokenizerFiles = tokenizerFilesIn(opts.teacher);
  const identity = trunkIdentity(new Map(student.namedParameters()), K, tokenizerFiles);
  if (identity.id !== trunk.id) throw new SlimtextError(`the student's trunk differs from the teacher's recorded trunk ${trunk.id.slice(0, 12)} (the teacher folder was edited?)`);

  await mkdir(opts.out, { recursive: true });
  const info = {
    teacher: opts.teacher, teacher_layers: L, student_layers: l, start_layer: K, ...loss, train: opts.train, corpus: opts.corpus ?? [], max_corpus: opts.maxCorpus ?? 0,
  };
  const logFile = join(opts.out, BRANCH_LOG_FILE);
  const result = await train(task, {
    recipe, identity: info, stateDir, resume: opts.resume, checkpointEvery: settings.checkpointEvery, progress: opts.progress, stopAfterSteps: opts.stopAfterSteps,
    onBest: async (epoch, d) => {
      await saveTaskModel(opts.out, task.taskModel(), {
        tokenizerFiles, trunk: identity, recipe: { ...recipe, branch_distillation: info }, metrics: { dev: d, epoch, teacher_dev: teacherDev },
        notes: [`distilled from ${opts.teacher}: ${l} of its ${L} branch layers on a frozen trunk of ${K} layers`],
      });
    },
    onEpoch: async (rec, soFar) => {
      warn(`epoch ${rec.epoch + 1}/${recipe.epochs}: loss ${rec.train_loss.toFixed(4)}, dev accuracy ${rec.dev.accuracy!.toFixed(4)} (${rec.train_seconds.toFixed(1)} s training${soFar.best?.epoch === rec.epoch ? ', best so far: saved' : ''})`);
      await writeFileAtomic(logFile, `${JSON.stringify({ version: 1, status: 'running', ...info, recipe, teacher_dev: teacherDev, epochs: soFar.history, best: soFar.best }, null, 2)}\n`);
    },
  });
  await writeFileAtomic(logFile, `${JSON.stringify({ version: 1, status: result.completed ? 'completed' : 'interrupted', ...info, recipe, teacher_dev: teacherDev, epochs: result.history, best: result.best }, null, 2)}\n`);
  if (result.completed && !settings.keepCheckpoint) await removeState(stateDir);
  return {
    ...result, out: opts.out, startLayer: K, teacherLayers: L, studentLayers: l, teacherDev,
    trainSeconds: round(result.history.reduce((s, e) => s + e.train_seconds, 0)), wallSeconds: round((performance.now() - start) / 1000),
    rows: { labelled: trainEx.length, unlabelled: unlabelled.length, dev: devEx.length },
  };
}

/**
 * Classification with the distillation loss: the training set holds the labelled rows and then the
 * unlabelled ones (label -1), with the teacher's logits (N, C) for every row.
 */
class BranchDistillTask extends ClassifyTask {
  constructor(
    module: SequenceClassifier, plan: FreezePlan, runner: PrefixRunner, data: ClassifyData,
    private readonly teacher: Float32Array,
    private readonly lossSpec: BranchDistillLoss,
    tokenizer: WordPieceTokenizer, maxLength: number, evalBatchSize: number,
  ) {
    super('classify', module, plan, runner, data, tokenizer, maxLength, evalBatchSize);
  }

  override loss(rows: Int32Array): Tensor {
    const { softWeight, hardWeight, temperature } = this.lossSpec;
    const C = this.data.labels.length;
    const hard = this.data.trainLabels;
    const labelled = rows.filter((r) => hard[r]! >= 0);
    const unlabelled = rows.filter((r) => hard[r]! < 0);
    let total: Tensor | undefined;
    const plus = (t: Tensor) => (total = total ? add(total, t) : t);
    for (const part of [labelled, unlabelled]) {
      if (part.length === 0) continue;
      const { last, batch } = this.runner.run(this.data.train, part);
      const logits = this.module.head(last, batch.attentionMask);
      if (softWeight > 0) {
        const t = new Float32Array(part.length * C);
        part.forEach((r, k) => t.set(this.teacher.subarray(r * C, (r + 1) * C), k * C));
        // klDiv averages over its rows: weight each part by its share of the batch.
        plus(scale(klDiv(logits, new Tensor(t, [part.length, C]), { temperature }), (softWeight * part.length) / rows.length));
      }
      if (hardWeight > 0 && part === labelled) plus(scale(crossEntropy(logits, part.map((r) => hard[r]!)), (hardWeight * part.length) / rows.length));
    }
    return total!;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
