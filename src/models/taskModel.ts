/**
 * A fine-tuned model with everything needed to use it: the modules, the tokenizer, the labels (or
 * the reply set), the maximum length, saved as and loaded from a slimtext bundle (io/bundle.ts).
 *
 *   classify / pair: SequenceClassifier, labels in id order
 *   reply:           BiEncoder, the fixed reply set that `predict` ranks
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { bundleFiles, readBundle, writeBundle, type BundleManifest } from '../io/bundle.js';
import type { TensorToWrite } from '../io/safetensors.js';
import { bertConfigToJson, parseBertConfig, type BertConfig } from '../io/hfCheckpoint.js';
import { loadTokenizer, type WordPieceTokenizer } from '../text/tokenizer.js';
import { BertModel } from './bert/model.js';
import { BiEncoder } from './biEncoder.js';
import { SequenceClassifier } from './classifier.js';
import { POOLINGS, type Pooling } from './heads/pooling.js';
import { SCORES, type Score } from './heads/similarity.js';
import { tableFromSpec } from './tables/load.js';
import { INT8_LINEAR_SCHEME, int8Tensors, loadInt8 } from './bert/int8.js';
import type { TableSpec } from './tables/table.js';

/** Where a classifier's word-embedding table's tensors live. */
export const WORD_TABLE_PREFIX = 'bert.embeddings.word_embeddings.';

export type TaskKind = 'classify' | 'pair' | 'reply';
export const TASKS: readonly TaskKind[] = ['classify', 'pair', 'reply'];

interface Common {
  tokenizer: WordPieceTokenizer;
  /** Truncation length (special tokens included) used in training, and so at inference. */
  maxLength: number;
}

export interface ClassifierTaskModel extends Common {
  task: 'classify' | 'pair';
  model: SequenceClassifier;
  labels: readonly string[];
}

export interface ReplyTaskModel extends Common {
  task: 'reply';
  model: BiEncoder;
  /** The replies `predict` ranks (most frequent normalised training replies). */
  responses: readonly string[];
}

export type TaskModel = ClassifierTaskModel | ReplyTaskModel;

export interface LoadedTaskModel {
  model: TaskModel;
  manifest: BundleManifest;
}

export interface SaveInfo {
  /** Tokenizer files to copy in (from the checkpoint the model started from). */
  tokenizerFiles: readonly string[];
  recipe?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  notes?: readonly string[];
  /** The frozen trunk this model is a branch of (train/trunk.ts), recorded as architecture.trunk. */
  trunk?: object;
}

/** The tokenizer files of a checkpoint or bundle folder, as they should be copied into a bundle. */
export function tokenizerFilesIn(dir: string): string[] {
  const inBundle = bundleFiles(dir);
  return ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'].map((f) => inBundle?.get(f) ?? join(dir, f)).filter((p) => existsSync(p));
}

export async function saveTaskModel(dir: string, tm: TaskModel, info: SaveInfo): Promise<BundleManifest> {
  const tensors = new Map<string, TensorToWrite>(tm.model.namedParameters().map(([name, p]) => [name, { shape: [...p.shape], data: p.data }] as const));
  // A compressed (or float16) word table saves its own tensors and says what it is.
  const words = tm.task === 'reply' ? undefined : tm.model.bert.embeddings.word_embeddings.spec();
  const wordTable = words && !(words.kind === 'dense' && words.dtype === undefined) ? words : undefined;
  if (wordTable && tm.task !== 'reply') {
    for (const name of [...tensors.keys()]) if (name.startsWith(WORD_TABLE_PREFIX)) tensors.delete(name);
    for (const [name, t] of tm.model.bert.embeddings.word_embeddings.tensors(WORD_TABLE_PREFIX)) tensors.set(name, t);
  }
  // int8 encoder layers (compress --method int8-linear) save their codes and scales instead of the weight.
  const int8 = int8Tensors(tm.model);
  for (const name of int8.replaces) tensors.delete(name);
  for (const [name, t] of int8.tensors) tensors.set(name, t);
  const encoderJson = (b: BertModel) => ({ config: bertConfigToJson(b.currentConfig()), pooler: b.pooler !== undefined });
  const architecture: Record<string, unknown> =
    tm.task === 'reply'
      ? {
          kind: 'bi-encoder',
          message_encoder: encoderJson(tm.model.messageEncoder),
          reply_encoder: tm.model.shared ? 'shared' : encoderJson(tm.model.replyEncoder),
          pooling: tm.model.pooling,
          score: tm.model.score,
          scale: tm.model.scale,
          max_length: tm.maxLength,
        }
      : {
          kind: 'sequence-classifier',
          encoder: encoderJson(tm.model.bert),
          use_pooler: tm.model.usePooler,
          pooling: tm.model.pooling,
          num_labels: tm.model.numLabels,
          dropout: tm.model.dropout.p,
          max_length: tm.maxLength,
          ...(info.trunk ? { trunk: info.trunk } : {}),
          ...(wordTable ? { word_table: wordTable } : {}),
          ...(int8.replaces.size ? { int8_linear: INT8_LINEAR_SCHEME } : {}),
        };
  return writeBundle(dir, {
    task: tm.task,
    architecture,
    ...(tm.task === 'reply' ? {} : { labels: tm.labels }),
    recipe: info.recipe,
    metrics: info.metrics,
    notes: info.notes,
    tensors,
    tokenizerFiles: info.tokenizerFiles,
    ...(tm.task === 'reply' ? { data: { 'responses.json': tm.responses } } : {}),
  });
}

export async function loadTaskModel(dir: string): Promise<LoadedTaskModel> {
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const file = join(dir, 'slimtext.json');
  const a = m.architecture;
  const bad = (field: string, why: string): never => {
    throw new InputError(file, undefined, field, why);
  };
  const encoder = (v: unknown, field: string): BertModel => {
    const e = v as { config?: Record<string, unknown>; pooler?: unknown } | undefined;
    if (!e || typeof e.config !== 'object' || e.config === null) return bad(field, 'missing the encoder config');
    const config: BertConfig = parseBertConfig(e.config, `${file} (${field}.config)`);
    return new BertModel(config, { pooler: e.pooler === true, skipInit: true });
  };
  const maxLength = typeof a.max_length === 'number' && a.max_length > 2 ? a.max_length : bad('architecture.max_length', 'missing or too small');
  const tokenizer = loadTokenizer(dir, { maxLength });
  let tm: TaskModel;
  const wordTableNames = new Set<string>();
  if (m.task === 'reply') {
    if (a.kind !== 'bi-encoder') bad('architecture.kind', `task 'reply' needs a bi-encoder, got ${JSON.stringify(a.kind)}`);
    const msg = encoder(a.message_encoder, 'architecture.message_encoder');
    const reply = a.reply_encoder === 'shared' ? undefined : encoder(a.reply_encoder, 'architecture.reply_encoder');
    if (!POOLINGS.includes(a.pooling as Pooling)) bad('architecture.pooling', `expected one of ${POOLINGS.join(', ')}`);
    if (!SCORES.includes(a.score as Score)) bad('architecture.score', `expected one of ${SCORES.join(', ')}`);
    const model = new BiEncoder(msg, reply, { pooling: a.pooling as Pooling, score: a.score as Score, scale: Number(a.scale) });
    const responses = bundle.data('responses.json');
    if (!Array.isArray(responses) || responses.some((r) => typeof r !== 'string')) bad('files', 'responses.json is missing or not a list of strings');
    tm = { task: 'reply', model, responses: responses as string[], tokenizer, maxLength };
  } else if (m.task === 'classify' || m.task === 'pair') {
    if (a.kind !== 'sequence-classifier') bad('architecture.kind', `task '${m.task}' needs a sequence-classifier, got ${JSON.stringify(a.kind)}`);
    const labels = m.labels ?? bad('labels', 'missing');
    if (a.num_labels !== labels.length) bad('labels', `${labels.length} labels but num_labels is ${String(a.num_labels)}`);
    const pooling = (a.pooling ?? 'cls') as Pooling;
    if (!POOLINGS.includes(pooling)) bad('architecture.pooling', `expected one of ${POOLINGS.join(', ')}`);
    const model = new SequenceClassifier(encoder(a.encoder, 'architecture.encoder'), { numLabels: labels.length, usePooler: a.use_pooler === true, pooling, dropout: Number(a.dropout ?? 0.1) });
    if (a.word_table !== undefined) {
      const spec = a.word_table as TableSpec;
      const { table, names: tableNames } = tableFromSpec(spec, (n) => bundle.tensors.get(WORD_TABLE_PREFIX + n), bad);
      model.bert.embeddings.setWordTable(table);
      for (const n of tableNames) wordTableNames.add(WORD_TABLE_PREFIX + n);
    }
    tm = { task: m.task, model, labels, tokenizer, maxLength };
  } else {
    return bad('task', `unknown task ${JSON.stringify(m.task)} (known: classify, pair, reply)`);
  }
  const weights = join(dir, m.weights);
  const names = new Set<string>(wordTableNames);
  const int8 = loadInt8(tm.model, bundle.tensors, (field, why) => {
    throw new InputError(weights, undefined, field, why);
  });
  for (const n of int8.used) names.add(n);
  for (const [name, p] of tm.model.namedParameters()) {
    if (wordTableNames.has(name) || int8.weights.has(name)) continue;
    names.add(name);
    const t = bundle.tensors.get(name);
    if (!t) bad('weights', `${m.weights} has no tensor ${name}, which the architecture needs`);
    if (!(t!.data instanceof Float32Array) || t!.shape.join(',') !== p.shape.join(',')) {
      throw new InputError(weights, undefined, name, `shape [${t!.shape.join(', ')}] (${t!.dtype}) but the architecture in slimtext.json needs [${p.shape.join(', ')}] float`);
    }
    p.load(t!.data as Float32Array);
  }
  const extra = [...bundle.tensors.keys()].filter((n) => !names.has(n));
  if (extra.length) throw new InputError(weights, undefined, undefined, `tensors the architecture does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  tm.model.eval();
  return { model: tm, manifest: m };
}
