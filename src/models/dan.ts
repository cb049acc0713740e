/**
 * The DAN student of sparse distillation (a deep averaging network whose parameters are mostly
 * n-gram embeddings):
 *
 *   text -> n-gram ids (1..maxN-grams of an NgramVocab, unknown ones hashed into buckets)
 *        -> mean of their embedding rows (B, dim), ids dropped at random while training
 *        -> dense + tanh (B, hidden)            (left out when hidden = 0)
 *        -> output layer (B, C) logits
 *
 * `Dan` bundles the module with its featuriser and labels, and is what `loadDan(dir)` returns: the
 * same `predict(texts) -> logits` surface that evaluation and prediction use for every model.
 * Saved as a slimtext bundle (io/bundle.ts), architecture kind 'dan', the n-gram vocabulary
 * copied in as `ngrams.vocab`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, Parameter, Rng, linear, tanh, type Tensor } from '../engine/index.js';
import { InputError, OpError } from '../errors.js';
import { readBundle, writeBundle, type BundleManifest } from '../io/bundle.js';
import type { TensorToWrite } from '../io/safetensors.js';
import { NgramFeaturizer, maxIds } from '../text/featurizer.js';
import { NgramVocab } from '../text/ngramVocab.js';
import { DenseNgramTable, type NgramTable } from './danTable.js';
import { tableFromSpec } from './tables/load.js';
import type { TableSpec } from './tables/table.js';
import { DanPredictor } from './danPredictor.js';

export interface DanConfig {
  /** Rows of the n-gram table: vocabulary size + hash buckets. */
  rows: number;
  /** Embedding width. */
  dim: number;
  /** Width of the dense + tanh layer (0: the averaged embedding goes straight to the output layer). */
  hidden: number;
  numLabels: number;
  /** Probability of dropping each n-gram id while training (feature dropout). */
  dropIds: number;
}

/** n-gram ids of several texts, CSR style: text b has ids[offsets[b] .. offsets[b+1]). */
export interface Bags {
  ids: Int32Array;
  offsets: Int32Array;
}

/** Where a parameter's values live: by default a fresh array; SharedArrayBuffer views for Hogwild training. */
export type ParamStorage = (name: string, size: number) => Float32Array;

export interface DanModelOptions {
  /** Seed of the initialisation and of the id-dropout draws (default 0). */
  seed?: number;
  /** An existing table (loaded from a bundle, or compressed) instead of a new one. */
  table?: NgramTable;
  /** Storage for every parameter (see ParamStorage). */
  storage?: ParamStorage;
  /** Initialise the parameters (default true; false attaches to values already in `storage`). */
  init?: boolean;
}

export class DanModel extends Module {
  readonly embeddings: NgramTable;
  readonly hidden: DanDense | undefined;
  readonly output: DanDense;
  readonly config: DanConfig;
  private rng: Rng;

  constructor(config: DanConfig, opts: DanModelOptions = {}) {
    super();
    const { rows, dim, hidden, numLabels, dropIds } = config;
    if (!(Number.isInteger(hidden) && hidden >= 0)) throw new OpError('DanModel', `hidden width must be a whole number >= 0, got ${hidden}`);
    if (!(Number.isInteger(numLabels) && numLabels >= 1)) throw new OpError('DanModel', `needs at least one label, got ${numLabels}`);
    if (!(dropIds >= 0 && dropIds < 1)) throw new OpError('DanModel', `id dropout ${dropIds} must be in [0, 1)`);
    this.config = { ...config };
    const seed = opts.seed ?? 0;
    const init = opts.init ?? true;
    const storage: ParamStorage = opts.storage ?? ((_, size) => new Float32Array(size));
    const rng = Rng.derive(seed, 'dan');
    if (opts.table && (opts.table.rows !== rows || opts.table.dim !== dim)) {
      throw new OpError('DanModel', `table is ${opts.table.rows} x ${opts.table.dim}, the config needs ${rows} x ${dim}`);
    }
    this.embeddings = opts.table ?? new DenseNgramTable(rows, dim, { data: storage('embeddings.weight', rows * dim), ...(init ? { initSeed: rng.seed() } : {}) });
    this.hidden = hidden > 0 ? new DanDense(dim, hidden, 'hidden', storage, init ? rng : undefined) : undefined;
    this.output = new DanDense(hidden > 0 ? hidden : dim, numLabels, 'output', storage, init ? rng : undefined);
    this.rng = rng.fork();
  }

  get table(): NgramTable {
    return this.embeddings;
  }

  /** Bags of B texts -> logits (B, C). Drops ids (feature dropout) in training mode. */
  forward(bags: Bags): Tensor {
    const p = this.training ? this.config.dropIds : 0;
    const avg = this.embeddings.bagMean(bags.ids, bags.offsets, p > 0 ? { dropIds: p, seed: this.rng.seed() } : {});
    return this.output.forward(this.hidden ? tanh(this.hidden.forward(avg)) : avg);
  }

  /** Gives the id-dropout draws a new seed (one per Hogwild worker, so workers drop different ids). */
  reseedDropout(seed: number): void {
    this.rng = Rng.derive(seed, 'dan/dropout');
  }

  /** The parameters to save, by name; the table may be stored as float16. */
  tensors(tableDtype?: 'F32' | 'F16'): Map<string, TensorToWrite> {
    const out = this.embeddings.tensors('embeddings.', tableDtype);
    for (const [name, p] of this.namedParameters()) if (!name.startsWith('embeddings.')) out.set(name, { shape: [...p.shape], data: p.data });
    return out;
  }
}

/**
 * y = x W^T + b, W stored [out, in], initialised as PyTorch's Linear (uniform +-1/sqrt(in)). The
 * engine's Linear allocates its own arrays; this one takes them from a ParamStorage so worker
 * threads can share them.
 */
export class DanDense extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(readonly inFeatures: number, readonly outFeatures: number, prefix: string, storage: ParamStorage, rng: Rng | undefined) {
    super();
    this.weight = new Parameter(storage(`${prefix}.weight`, outFeatures * inFeatures), [outFeatures, inFeatures], 'weight');
    this.bias = new Parameter(storage(`${prefix}.bias`, outFeatures), [outFeatures], 'bias');
    if (rng) {
      const bound = 1 / Math.sqrt(inFeatures);
      rng.fillUniform(this.weight.data, -bound, bound);
      rng.fillUniform(this.bias.data, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Options of the featuriser that a DAN is trained with (and must be served with). */
export interface DanFeatures {
  /** Hash buckets for n-grams the vocabulary lacks (0: drop them). */
  buckets: number;
  /** Longest n-gram, 1..4 (at most the vocabulary's). */
  maxN: number;
}

export interface DanSaveInfo {
  recipe?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  notes?: readonly string[];
  /** Store the n-gram table as float16 (half the size; logits move by ~1e-3). */
  tableDtype?: 'F32' | 'F16';
}

export const DAN_VOCAB_FILE = 'ngrams.vocab';

/** A DAN ready to use: module, featuriser, labels. */
export class Dan {
  readonly featurizer: NgramFeaturizer;
  private batchPredictor: DanPredictor | undefined;

  constructor(readonly model: DanModel, readonly vocab: NgramVocab, readonly features: DanFeatures, readonly labels: readonly string[]) {
    this.featurizer = new NgramFeaturizer(vocab, { buckets: features.buckets, maxN: features.maxN });
    if (this.featurizer.dim !== model.config.rows) {
      throw new OpError('Dan', `the featuriser has ${this.featurizer.dim} ids (${vocab.size} n-grams + ${features.buckets} buckets) but the table has ${model.config.rows} rows`);
    }
    if (labels.length !== model.config.numLabels) throw new OpError('Dan', `${labels.length} labels for a model with ${model.config.numLabels} outputs`);
  }

  get numLabels(): number {
    return this.labels.length;
  }

  parameterCount(): number {
    return this.model.parameterCount();
  }

  /** n-gram ids of the texts (for training and batched evaluation). */
  featurize(texts: readonly string[]): Bags {
    return featurizeAll(this.featurizer, texts);
  }

  /** Logits of each text, (n x C) row-major, in a new array. */
  predict(texts: readonly string[]): Float32Array {
    this.batchPredictor ??= this.predictor();
    const C = this.numLabels;
    const out = new Float32Array(texts.length * C);
    const B = 256;
    for (let i = 0; i < texts.length; i += B) out.set(this.batchPredictor.logitsBatch(texts.slice(i, i + B)), i * C);
    return out;
  }

  /** A fast, allocation-free inference path (reused buffers; one per thread of use). */
  predictor(): DanPredictor {
    this.model.eval();
    return new DanPredictor(this.model, this.featurizer);
  }

  /** Saves as a slimtext bundle in `dir` (atomically; the manifest is the commit point). */
  async save(dir: string, info: DanSaveInfo = {}): Promise<BundleManifest> {
    const c = this.model.config;
    const tmp = await mkdtemp(join(tmpdir(), 'slimtext-dan-'));
    try {
      const vocabFile = join(tmp, DAN_VOCAB_FILE);
      await this.vocab.save(vocabFile);
      return await writeBundle(dir, {
        task: 'classify',
        architecture: {
          kind: 'dan',
          ngram_vocab: DAN_VOCAB_FILE,
          vocab_size: this.vocab.size,
          buckets: this.features.buckets,
          max_n: this.features.maxN,
          lowercase: this.vocab.meta.lowercase,
          dim: c.dim,
          hidden: c.hidden,
          num_labels: c.numLabels,
          drop_ids: c.dropIds,
          ...tableField(this.model.embeddings.spec()),
        },
        labels: this.labels,
        recipe: info.recipe,
        metrics: info.metrics,
        notes: info.notes,
        tensors: this.model.tensors(info.tableDtype),
        tokenizerFiles: [vocabFile],
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** The manifest's `table` entry: none for a plain float32 table (bundles from before compression). */
function tableField(spec: TableSpec): { table?: TableSpec } {
  return spec.kind === 'dense' && spec.dtype === undefined ? {} : { table: spec };
}

/** Loads a DAN bundle written by Dan.save (errors name the file and what is wrong). */
export async function loadDan(dir: string): Promise<Dan> {
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const file = join(dir, 'slimtext.json');
  const a = m.architecture;
  const bad = (field: string, why: string): never => {
    throw new InputError(file, undefined, field, why);
  };
  if (a.kind !== 'dan') bad('architecture.kind', `expected 'dan', got ${JSON.stringify(a.kind)}`);
  const whole = (k: string, min: number): number => (typeof a[k] === 'number' && Number.isInteger(a[k]) && (a[k] as number) >= min ? (a[k] as number) : bad(`architecture.${k}`, `expected a whole number >= ${min}`));
  const labels = m.labels ?? bad('labels', 'missing');
  const vocabName = typeof a.ngram_vocab === 'string' ? a.ngram_vocab : DAN_VOCAB_FILE;
  const vocabPath = bundle.path(vocabName) ?? bad('architecture.ngram_vocab', `${vocabName} is not one of the bundle's files`);
  const vocab = NgramVocab.load(vocabPath);
  const features: DanFeatures = { buckets: whole('buckets', 0), maxN: whole('max_n', 1) };
  const config: DanConfig = {
    rows: vocab.size + features.buckets,
    dim: whole('dim', 1),
    hidden: whole('hidden', 0),
    numLabels: whole('num_labels', 1),
    dropIds: typeof a.drop_ids === 'number' ? a.drop_ids : 0,
  };
  if (config.numLabels !== labels.length) bad('labels', `${labels.length} labels but num_labels is ${config.numLabels}`);
  if (a.vocab_size !== undefined && a.vocab_size !== vocab.size) bad('architecture.vocab_size', `${String(a.vocab_size)}, but ${vocabName} holds ${vocab.size} n-grams`);
  const weights = join(dir, m.weights);
  const tensor = (name: string, shape: number[]): Float32Array => {
    const t = bundle.tensors.get(name) ?? bad('weights', `${m.weights} has no tensor ${name}`);
    if (!(t.data instanceof Float32Array) || t.shape.join(',') !== shape.join(',')) {
      throw new InputError(weights, undefined, name, `shape [${t.shape.join(', ')}] (${t.dtype}) but the architecture needs [${shape.join(', ')}] float`);
    }
    return t.data;
  };
  const spec: TableSpec = a.table === undefined ? { kind: 'dense', rows: config.rows, dim: config.dim } : (a.table as TableSpec);
  if (spec.rows !== config.rows || spec.dim !== config.dim) bad('architecture.table', `a ${spec.rows} x ${spec.dim} table, but the vocabulary and dim need ${config.rows} x ${config.dim}`);
  const { table, names: tableNames } = tableFromSpec(spec, (n) => bundle.tensors.get(`embeddings.${n}`), bad);
  const model = new DanModel(config, { table, init: false });
  const names = new Set(tableNames.map((n) => `embeddings.${n}`));
  for (const [name, p] of model.namedParameters()) {
    if (name.startsWith('embeddings.')) continue;
    names.add(name);
    p.load(tensor(name, [...p.shape]));
  }
  const extra = [...bundle.tensors.keys()].filter((n) => !names.has(n));
  if (extra.length) throw new InputError(weights, undefined, undefined, `tensors a DAN does not use: ${extra.slice(0, 5).join(', ')}`);
  model.eval();
  return new Dan(model, vocab, features, labels);
}

/** n-gram ids of many texts in one CSR pair (grows its buffer as needed). */
export function featurizeAll(f: NgramFeaturizer, texts: readonly string[]): Bags {
  const offsets = new Int32Array(texts.length + 1);
  let ids = new Int32Array(Math.max(1024, texts.length * 32));
  let k = 0;
  for (let i = 0; i < texts.length; i++) {
    const words = f.words(texts[i]!);
    const need = maxIds(words.length, f.maxN);
    if (k + need > ids.length) {
      const grown = new Int32Array(Math.max(ids.length * 2, k + need));
      grown.set(ids.subarray(0, k));
      ids = grown;
    }
    k += f.featurizeWords(words, ids.subarray(k, k + need));
    offsets[i + 1] = k;
  }
  return { ids: ids.slice(0, k), offsets };
}
