/**
 * A fine-tuning recipe: every option that changes what training computes, with all defaults in
 * this one place (the CLI's --help shows these). The recipe is saved in the model bundle and in the
 * training checkpoint; `--resume` refuses a recipe that differs from the interrupted run's.
 */
import { OptionError } from '../errors.js';
import { POOLINGS, type Pooling } from '../models/heads/pooling.js';
import { SCORES, type Score } from '../models/heads/similarity.js';
import { TASKS, type TaskKind } from '../models/taskModel.js';

export interface Recipe {
  task: TaskKind;
  epochs: number;
  batchSize: number;
  /** Peak learning rate (after warm-up). */
  lr: number;
  /** Share of all steps spent warming the learning rate up linearly from 0; then linear decay to 0. */
  warmupRatio: number;
  weightDecay: number;
  /** Gradient-norm clipping threshold. */
  clipNorm: number;
  /** Truncation length in tokens, special tokens included. */
  maxLength: number;
  seed: number;
  freezeEmbeddings: boolean;
  /** Bottom encoder layers frozen (counted after dropping). */
  freezeLayers: number;
  /** Layers removed before fine-tuning (see layerDrop.ts): 'none', 'top:K', 'bottom:K', 'alternate', '1,3'. */
  dropLayers: string;
  /** Start from random weights of the checkpoint's shape instead of its trained weights. */
  randomInit: boolean;
  /** Classification: [CLS] through the pooler (initialised when the checkpoint has none); not with mean pooling. */
  usePooler: boolean;
  /** Reply: one encoder for messages and replies. */
  sharedEncoder: boolean;
  /** Sentence vector: [CLS] or the mean of the tokens ('auto': cls to classify, as Hugging Face does; mean for replies). */
  pooling: Pooling | 'auto';
  score: Score;
  /** Reply: score scale (0 means the score's default: 20 for cosine, 1 for dot). */
  scale: number;
  /** Reply: size of the fixed reply set. */
  responses: number;
  /** Use at most this many training / dev examples (a seeded sample; 0 = all). */
  maxTrain: number;
  maxDev: number;
  /** Share of train held out as dev when the data has no dev split. */
  devFraction: number;
}

export const DEFAULT_RECIPE: Readonly<Recipe> = Object.freeze({
  task: 'classify',
  epochs: 3,
  batchSize: 32,
  lr: 5e-5,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  clipNorm: 1.0,
  maxLength: 128,
  seed: 0,
  freezeEmbeddings: false,
  freezeLayers: 0,
  dropLayers: 'none',
  randomInit: false,
  usePooler: true,
  sharedEncoder: true,
  // Replies pool by the mean: on small encoders [CLS] vectors start out nearly identical for every
  // input, and in-batch training from there can collapse them (seen on tiny random checkpoints).
  pooling: 'auto',
  score: 'cosine',
  scale: 0,
  responses: 1000,
  maxTrain: 0,
  maxDev: 0,
  devFraction: 0.1,
});

/** Options that change speed or bookkeeping but not the numbers a run computes. */
export interface RunSettings {
  /** Rows per batch in evaluation (default 128). */
  evalBatchSize: number;
  /** Memory for cached frozen-prefix features, in MiB (0 turns the cache off). */
  cacheMb: number;
  /** Save a resumable checkpoint every N steps as well as after each epoch (0: epoch ends only). */
  checkpointEvery: number;
  /** Keep the resumable checkpoint after the run completes. */
  keepCheckpoint: boolean;
}

export const DEFAULT_SETTINGS: Readonly<RunSettings> = Object.freeze({ evalBatchSize: 128, cacheMb: 2048, checkpointEvery: 0, keepCheckpoint: false });

/** A full recipe from partial options, checked. */
export function makeRecipe(over: Partial<Recipe>): Recipe {
  const r: Recipe = { ...DEFAULT_RECIPE, ...definedOnly(over) };
  const fail = (opt: string, why: string): never => {
    throw new OptionError(`--${opt}: ${why}`);
  };
  if (!TASKS.includes(r.task)) fail('task', `'${r.task}' is not one of ${TASKS.join(', ')}`);
  const posInt = (v: number, opt: string, min = 1) => (Number.isInteger(v) && v >= min) || fail(opt, `must be an integer >= ${min}, got ${v}`);
  posInt(r.epochs, 'epochs');
  posInt(r.batchSize, 'batch-size', r.task === 'reply' ? 2 : 1);
  posInt(r.maxLength, 'max-length', 3);
  posInt(r.freezeLayers, 'freeze-layers', 0);
  posInt(r.responses, 'responses', 1);
  posInt(r.maxTrain, 'max-train', 0);
  posInt(r.maxDev, 'max-dev', 0);
  posInt(r.seed, 'seed', 0);
  if (!(r.lr > 0)) fail('lr', `must be positive, got ${r.lr}`);
  if (!(r.warmupRatio >= 0 && r.warmupRatio <= 1)) fail('warmup', `must be in [0, 1], got ${r.warmupRatio}`);
  if (!(r.weightDecay >= 0)) fail('weight-decay', `must be >= 0, got ${r.weightDecay}`);
  if (!(r.clipNorm > 0)) fail('clip-norm', `must be positive, got ${r.clipNorm}`);
  if (!(r.scale >= 0)) fail('scale', `must be >= 0, got ${r.scale}`);
  if (!(r.devFraction > 0 && r.devFraction < 1)) fail('dev-fraction', `must be in (0, 1), got ${r.devFraction}`);
  if (r.pooling !== 'auto' && !POOLINGS.includes(r.pooling)) fail('pooling', `'${r.pooling}' is not one of auto, ${POOLINGS.join(', ')}`);
  if (!SCORES.includes(r.score)) fail('score', `'${r.score}' is not one of ${SCORES.join(', ')}`);
  return r;
}

/**
 * Defaults that depend on the checkpoint, for the options the user did not give, as common recipes
 * do: small encoders want a larger learning rate (Google's small BERTs: 1e-4 to 3e-4 and up; BERT
 * base 2e-5 to 5e-5), and [CLS] through a newly initialised pooler (an MLM-only checkpoint has
 * none) learns slowly, so `auto` pooling is the mean of the tokens there. Returns the chosen values
 * and one note saying what was chosen and why.
 */
export function checkpointDefaults(given: Partial<Recipe>, hiddenSize: number, hasPooler: boolean): { over: Partial<Recipe>; note?: string } {
  const over: Partial<Recipe> = {};
  const why: string[] = [];
  if (given.lr === undefined) {
    over.lr = hiddenSize <= 256 ? 5e-4 : hiddenSize <= 512 ? 1e-4 : DEFAULT_RECIPE.lr;
    why.push(`--lr ${over.lr} (a ${hiddenSize}-wide encoder)`);
  }
  const task = given.task ?? DEFAULT_RECIPE.task;
  if ((given.pooling ?? DEFAULT_RECIPE.pooling) === 'auto' && task !== 'reply' && !hasPooler) {
    over.pooling = 'mean';
    why.push('--pooling mean (the checkpoint has no trained pooler)');
  }
  return why.length ? { over, note: `defaults for this checkpoint: ${why.join(', ')}` } : { over };
}

/** The pooling a recipe means for its task. */
export function poolingOf(r: Recipe): Pooling {
  return r.pooling !== 'auto' ? r.pooling : r.task === 'reply' ? 'mean' : 'cls';
}

/** The fields of two recipes that differ, as 'name: a -> b'. */
export function recipeDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k])}`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
