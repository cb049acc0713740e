/**
 * `slimtext finetune` as a library call: load a BERT checkpoint, drop and freeze layers, read and
 * tokenise the data, train (trainer.ts), keep the best-on-dev model as a bundle in `out`, and write
 * `out/train_log.json` after every epoch. The resumable checkpoint lives in `out/checkpoint/` while
 * the run is unfinished.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { OutputPathError, checkOutputPath } from '../../io/outputPath.js';
import { describeCheckpoint, readHfCheckpoint, type HfCheckpoint } from '../../io/hfCheckpoint.js';
import { LabelMap, splitDev, unseenLabels, unseenWarning, type Example, type OpenOptions } from '../../data/index.js';
import { BertModel } from '../../models/bert/model.js';
import { BiEncoder } from '../../models/biEncoder.js';
import { SequenceClassifier } from '../../models/classifier.js';
import { saveTaskModel, tokenizerFilesIn } from '../../models/taskModel.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { loadTokenizer, type WordPieceTokenizer } from '../../text/tokenizer.js';
import { ClassifyTask } from '../tasks/classify.js';
import { freezeEncoder, type FreezePlan } from '../freeze.js';
import { dropLayers, parseDropSpec } from './layerDrop.js';
import { PrefixCache, PrefixRunner, type CacheStats } from '../prefixCache.js';
import type { ProgressSink } from '../progress.js';
import { DEFAULT_SETTINGS, checkpointDefaults, makeRecipe, poolingOf, type Recipe, type RunSettings } from '../recipe.js';
import { ReplyTask } from '../tasks/reply.js';
import { buildResponseSet } from '../tasks/responseSet.js';
import type { TrainTask } from '../tasks/task.js';
import { readSplit, requireFields, subsample } from '../tasks/taskData.js';
import { train, type TrainResult } from '../trainer.js';
import { trunkIdentity, type TrunkIdentity } from '../trunk.js';
import { removeState } from '../trainState.js';
import { chanceAccuracy, learningCheck } from '../learningCheck.js';

export interface FinetuneOptions {
  /** Hugging Face BERT checkpoint folder. */
  model: string;
  train: string;
  trainSplit?: string;
  /** Dev data; default: the train data's dev split, else a seeded share of train. */
  dev?: string;
  devSplit?: string;
  out: string;
  recipe: Partial<Recipe>;
  settings?: Partial<RunSettings>;
  /** How to read the data files (format, columns). */
  data?: OpenOptions;
  resume?: boolean;
  /** Replace an existing model in `out` (and discard an unfinished run's checkpoint there). */
  overwrite?: boolean;
  progress?: ProgressSink;
  /** Warnings and notes for the user (stderr in the CLI). */
  warn?: (line: string) => void;
  stopAfterSteps?: number;
  shouldStop?: () => boolean;
}

export interface FinetuneResult extends TrainResult {
  out: string;
  recipe: Recipe;
  /** Wall time of this call, set-up and evaluation included. */
  wallSeconds: number;
  /** Training time summed over epochs (excluding evaluation and checkpoints), over the whole run. */
  trainSeconds: number;
  /** The part of trainSeconds spent by this call (less than trainSeconds after a resume; at most wallSeconds). */
  trainSecondsThisCall: number;
  parameters: { total: number; trainable: number };
  layers: { kept: number[]; dropped: number[] };
  cache?: CacheStats;
  notes: string[];
  logFile: string;
}

export const LOG_FILE = 'train_log.json';
export const CHECKPOINT_DIR = 'checkpoint';

/** A line for users of a model whose fine-tuning run did not finish (its checkpoint remains). */
export function unfinishedRunNote(dir: string): string | undefined {
  if (!existsSync(join(dir, CHECKPOINT_DIR, 'slimtext.json'))) return undefined;
  return `note: ${dir} is from an unfinished run (the best epoch so far): resume it with the same slimtext finetune command and --resume`;
}

export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  const start = performance.now();
  // Checked now (usage errors before any reading); completed below by the checkpoint's defaults.
  let recipe = makeRecipe(opts.recipe);
  const settings: RunSettings = { ...DEFAULT_SETTINGS, ...definedOnly(opts.settings ?? {}) };
  const warn = opts.warn ?? (() => undefined);
  const stateDir = join(opts.out, CHECKPOINT_DIR);
  if (!opts.resume && !opts.overwrite && existsSync(join(stateDir, 'slimtext.json'))) {
    throw new OutputPathError(opts.out, `holds an unfinished run (${stateDir}); continue it with --resume, or start again with --overwrite`);
  }
  checkOutputPath(opts.out, { kind: 'folder', overwrite: opts.overwrite, resume: opts.resume ?? false });
  if (!opts.resume && existsSync(join(stateDir, 'slimtext.json'))) await removeState(stateDir);
  const notes: string[] = [];
  const note = (l: string) => {
    notes.push(l);
    warn(l);
  };

  const ck = await readHfCheckpoint(opts.model);
  const chosen = checkpointDefaults(opts.recipe, ck.config.hiddenSize, ck.weights.pooler !== undefined && !recipe.randomInit);
  recipe = makeRecipe({ ...definedOnly(opts.recipe), ...chosen.over });
  if (chosen.note) note(chosen.note);
  const tokenizer = loadTokenizer(opts.model);
  const maxLength = Math.min(recipe.maxLength, ck.config.maxPositions);
  if (maxLength < recipe.maxLength) note(`--max-length ${recipe.maxLength} exceeds the model's ${ck.config.maxPositions} positions: using ${maxLength}`);
  for (const l of describeCheckpoint(ck).slice(1)) if (!l.startsWith('no pooler')) (l.startsWith('warning:') ? note : (x: string) => notes.push(x))(l);

  const built = await buildTask(opts, recipe, settings, ck, tokenizer, maxLength, note);
  const { task, layers } = built;
  const parameters = { total: task.module.parameterCount(), trainable: task.module.parameterCount(true) };
  note(`${parameters.trainable.toLocaleString('en-US')} of ${parameters.total.toLocaleString('en-US')} parameters train; ${describeLayers(layers, built.plans[0]!)}`);

  const outExisted = existsSync(opts.out);
  await mkdir(opts.out, { recursive: true });
  const logFile = join(opts.out, LOG_FILE);
  const tokenizerFiles = tokenizerFilesIn(opts.model);
  // A classifier whose embeddings and bottom layers are frozen is a branch of that frozen trunk:
  // its identity goes into the manifest so that `merge` can prove branches share it.
  const trunk: TrunkIdentity | undefined = recipe.task === 'classify' && recipe.freezeEmbeddings
    ? trunkIdentity(new Map(task.module.namedParameters()), recipe.freezeLayers, tokenizerFiles)
    : undefined;
  if (trunk) note(`a branch of frozen trunk ${trunk.id.slice(0, 12)} (embeddings + ${trunk.start_layer} layers): slimtext merge can combine it with other branches of that trunk`);
  const log = (result: Pick<TrainResult, 'history' | 'best' | 'resumedFrom'>, status: string) =>
    writeFileAtomic(logFile, `${JSON.stringify({
      version: 1, status, model: opts.model, train: built.dataInfo.train, dev: built.dataInfo.dev, recipe, settings,
      parameters, layers, freeze: built.plans, notes, epochs: result.history, best: result.best ?? null,
      train_seconds: round(result.history.reduce((s, e) => s + e.train_seconds, 0)),
      cache: cacheReport(task.cacheStats()),
      ...(result.resumedFrom ? { resumed_from: result.resumedFrom } : {}),
    }, null, 2)}\n`);

  const fixes = recipe.lr < 5e-4 || poolingOf(recipe) === 'cls'
    ? `a higher --lr (small checkpoints such as a 4-layer, 128-wide BERT want about 5e-4)${poolingOf(recipe) === 'cls' && recipe.task !== 'reply' ? ', --pooling mean (no newly initialised pooler)' : ''}, more --epochs`
    : 'more --epochs, or a lower --lr if the loss jumps about';
  const check = learningCheck(built.chance, fixes);
  const result = await removeOutIfNothingSaved(opts.out, outExisted, () => train(task, {
    recipe,
    identity: { model: opts.model, train_data: built.dataInfo.train, dev_data: built.dataInfo.dev },
    stateDir,
    resume: opts.resume,
    checkpointEvery: settings.checkpointEvery,
    stopAfterSteps: opts.stopAfterSteps,
    shouldStop: opts.shouldStop,
    progress: opts.progress,
    onBest: async (epoch, dev) => {
      await saveTaskModel(opts.out, task.taskModel(), {
        tokenizerFiles,
        recipe: { ...recipe, source_model: opts.model, train: built.dataInfo.train, dev: built.dataInfo.dev, layers_kept: layers.kept, layers_dropped: layers.dropped },
        metrics: { dev, epoch, dev_split: built.dataInfo.dev.split },
        notes,
        ...(trunk ? { trunk } : {}),
      });
    },
    onEpoch: async (record, soFar) => {
      const line = Object.entries(record.dev).filter(([k]) => k !== 'n').map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
      const stuck = check.afterEpoch(record.epoch, record.train_loss, record.dev.accuracy);
      if (stuck) note(stuck);
      warn(`epoch ${record.epoch + 1}/${recipe.epochs}: loss ${record.train_loss.toFixed(4)}, dev ${line} (${record.train_seconds.toFixed(1)} s training${soFar.best?.epoch === record.epoch ? ', best so far: saved' : ''})`);
      await log(soFar, 'running');
    },
  }));
  await log(result, result.completed ? 'completed' : 'interrupted');
  if (result.completed && !settings.keepCheckpoint) await removeState(stateDir);
  const cache = task.cacheStats();
  if (cache) warn(cacheReport(cache)!.summary);
  return {
    ...result, out: opts.out, recipe, wallSeconds: round((performance.now() - start) / 1000),
    trainSeconds: round(result.history.reduce((s, e) => s + e.train_seconds, 0)),
    trainSecondsThisCall: round(result.history.reduce((s, e) => s + e.train_seconds, 0) - secondsBefore(result)), parameters, layers, ...(cache ? { cache } : {}), notes, logFile,
  };
}

interface BuiltTask {
  task: TrainTask;
  plans: FreezePlan[];
  layers: { kept: number[]; dropped: number[] };
  dataInfo: { train: DataInfo; dev: DataInfo };
  /** Dev accuracy of always answering the most frequent label (classify / pair). */
  chance?: number;
}

interface DataInfo {
  path: string;
  split: string;
  rows: number;
  /** Set when dev was held out of train. */
  heldOut?: { fraction: number; seed: number };
}

async function buildTask(
  opts: FinetuneOptions, recipe: Recipe, settings: RunSettings, ck: HfCheckpoint, tokenizer: WordPieceTokenizer, maxLength: number, note: (l: string) => void,
): Promise<BuiltTask> {
  // ---- data
  const trainRows = await readSplit(opts.train, opts.trainSplit, 'train', opts.data, recipe.task);
  if (trainRows.examples.length === 0) throw new InputError(trainRows.file, undefined, undefined, 'holds no examples');
  if (trainRows.skipped) note(trainRows.skipped);
  let devExamples: Example[];
  let devInfo: DataInfo;
  if (opts.dev !== undefined) {
    const d = await readSplit(opts.dev, opts.devSplit, 'dev', opts.data, recipe.task);
    if (d.skipped) note(d.skipped);
    devExamples = d.examples;
    devInfo = { path: opts.dev, split: d.split, rows: 0 };
  } else if (opts.devSplit !== undefined || trainRows.dataset.splits.some((s) => ['dev', 'val', 'valid', 'validation'].includes(s))) {
    const d = await readSplit(opts.train, opts.devSplit ?? 'dev', 'dev', opts.data, recipe.task);
    if (d.skipped) note(d.skipped);
    devExamples = d.examples;
    devInfo = { path: opts.train, split: d.split, rows: 0 };
  } else {
    const s = splitDev(trainRows.examples, { fraction: recipe.devFraction, stratify: recipe.task !== 'reply' });
    if (s.dev.length === 0) throw new InputError(trainRows.file, undefined, undefined, `the held-out dev split is empty (${trainRows.examples.length} rows x --dev-fraction ${recipe.devFraction}): give --dev data, a larger --dev-fraction, or more rows`);
    trainRows.examples = s.train;
    devExamples = s.dev;
    devInfo = { path: opts.train, split: `${trainRows.split} (held out)`, rows: 0, heldOut: { fraction: recipe.devFraction, seed: 1234 } };
    note(`no dev split in ${opts.train}: holding out a seeded ${Math.round(recipe.devFraction * 100)}% of ${trainRows.split} as dev`);
  }
  requireFields(trainRows.examples, recipe.task, trainRows.file);
  requireFields(devExamples, recipe.task, devInfo.path);
  const train = subsample(trainRows.examples, recipe.maxTrain, recipe.seed, 'train');
  const dev = subsample(devExamples, recipe.maxDev, recipe.seed, 'dev');
  const trainInfo: DataInfo = { path: opts.train, split: trainRows.split, rows: train.length };
  devInfo.rows = dev.length;

  // ---- encoders
  const pooling = poolingOf(recipe);
  const pooler = recipe.task !== 'reply' && recipe.usePooler && pooling === 'cls';
  const range = typeof ck.rawConfig.initializer_range === 'number' ? ck.rawConfig.initializer_range : 0.02;
  const makeEncoder = (label: string): BertModel => {
    if (recipe.randomInit) {
      note(`${label}: random initialisation (normal(0, ${range}), seed ${recipe.seed}); the checkpoint's weights are not used`);
      return new BertModel(ck.config, { seed: recipe.seed, initializerRange: range, pooler });
    }
    const { model, notes } = BertModel.fromCheckpoint(ck, { seed: recipe.seed, pooler });
    for (const n of notes) note(`${label}: ${n}`);
    return model;
  };
  const encoders = recipe.task === 'reply' && !recipe.sharedEncoder ? [makeEncoder('message encoder'), makeEncoder('reply encoder')] : [makeEncoder('encoder')];
  const dropped = parseDropSpec(recipe.dropLayers, ck.config.numLayers);
  let kept: number[] = [];
  for (const e of encoders) kept = dropLayers(e, dropped);
  if (dropped.length) note(`dropped encoder layers ${dropped.join(', ')} of ${ck.config.numLayers}; kept ${kept.join(', ')} (renumbered 0..${kept.length - 1})`);
  const plans = encoders.map((e) => freezeEncoder(e, { embeddings: recipe.freezeEmbeddings, layers: recipe.freezeLayers }));
  if (recipe.freezeLayers > 0 && !recipe.freezeEmbeddings) {
    note('--freeze-layers without --freeze-embeddings: gradients still flow down through the frozen layers to the embeddings, so only their weight gradients are saved');
  }
  const padId = tokenizer.padId >= 0 ? tokenizer.padId : 0;
  const budget = settings.cacheMb * 2 ** 20;
  const runnerFor = (e: BertModel, plan: FreezePlan, share: number) =>
    new PrefixRunner(e, plan, padId, plan.prefixLayers >= 0 && budget > 0 ? new PrefixCache(budget / share) : undefined);

  // ---- task
  let task: TrainTask;
  let devChance: number | undefined;
  if (recipe.task === 'reply') {
    const model = new BiEncoder(encoders[0]!, encoders[1], { pooling, score: recipe.score, ...(recipe.scale > 0 ? { scale: recipe.scale } : {}) });
    const msgRunner = runnerFor(encoders[0]!, plans[0]!, encoders.length);
    const replyRunner = encoders.length > 1 ? runnerFor(encoders[1]!, plans[1]!, 2) : msgRunner;
    const responses = buildResponseSet(train.map((e) => e.target!), recipe.responses);
    const tok = (xs: Example[], f: (e: Example) => string) => tokenizeAll(tokenizer, xs.map(f), undefined, maxLength);
    task = new ReplyTask(model, plans, { message: msgRunner, reply: replyRunner }, {
      trainMessages: tok(train, (e) => e.text), trainReplies: tok(train, (e) => e.target!),
      devMessages: tok(dev, (e) => e.text), devReplies: tok(dev, (e) => e.target!), responses: responses.texts,
    }, tokenizer, maxLength, settings.evalBatchSize, recipe.seed);
  } else {
    const labels = LabelMap.fromLabels(train.map((e) => e.label!));
    const unseen = unseenWarning(await unseenLabels(labels, dev, `dev (${devInfo.path})`));
    if (unseen) note(unseen);
    if (labels.size < 2) note(`warning: the training data has only one label ('${labels.labels[0]}'): a classifier needs at least two to learn anything`);
    devChance = chanceAccuracy(labels.encode(dev));
    const model = new SequenceClassifier(encoders[0]!, { numLabels: labels.size, usePooler: pooler, pooling, seed: recipe.seed });
    const pairs = (xs: Example[]) => (recipe.task === 'pair' ? xs.map((e) => e.pair!) : undefined);
    task = new ClassifyTask(recipe.task, model, plans[0]!, runnerFor(encoders[0]!, plans[0]!, 1), {
      train: tokenizeAll(tokenizer, train.map((e) => e.text), pairs(train), maxLength), trainLabels: labels.encode(train),
      dev: tokenizeAll(tokenizer, dev.map((e) => e.text), pairs(dev), maxLength), devLabels: labels.encode(dev), labels: labels.labels,
    }, tokenizer, maxLength, settings.evalBatchSize);
  }
  return { task, plans, layers: { kept, dropped }, dataInfo: { train: trainInfo, dev: devInfo }, ...(devChance !== undefined ? { chance: devChance } : {}) };
}

/** Training seconds a resumed run had already spent: the epochs done before it, and the part of the one it resumed in. */
function secondsBefore(r: Pick<TrainResult, 'history' | 'resumedFrom'>): number {
  const p = r.resumedFrom;
  if (!p) return 0;
  return r.history.filter((e) => e.epoch < p.epoch).reduce((s, e) => s + e.train_seconds, 0) + p.epochSeconds;
}

/** Runs `fn`; if it fails and left `out` (which it created) without a model or checkpoint, removes it. */
async function removeOutIfNothingSaved<T>(out: string, existed: boolean, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!existed && !existsSync(join(out, 'slimtext.json')) && !existsSync(join(out, CHECKPOINT_DIR, 'slimtext.json'))) await rm(out, { recursive: true, force: true });
    throw e;
  }
}

function describeLayers(layers: { kept: number[]; dropped: number[] }, plan: FreezePlan): string {
  const parts = [`${layers.kept.length} encoder layers`];
  if (plan.embeddings) parts.push('embeddings frozen');
  if (plan.layers > 0) parts.push(`bottom ${plan.layers} layer${plan.layers > 1 ? 's' : ''} frozen`);
  if (plan.prefixLayers >= 0) parts.push(`frozen prefix (embeddings${plan.prefixLayers ? ` + ${plan.prefixLayers} layers` : ''}) computed once and cached`);
  return parts.join(', ');
}

function cacheReport(s: CacheStats | undefined): (CacheStats & { summary: string }) | undefined {
  if (!s) return undefined;
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const summary = `frozen-prefix cache: ${s.entries} examples stored (${mb(s.bytes)} of ${mb(s.budgetBytes)} MiB), ${s.hits} rows served from it, ${s.computed} computed` +
    `${s.notStored ? ` (${s.notStored} not stored: budget full)` : ''}; about ${s.savedSeconds.toFixed(1)} s of forward computation saved`;
  return { ...s, summary };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
