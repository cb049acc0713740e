/**
 * Models of every kind the bundle holds, saved as model folders the way slimtext saves them (so a
 * test compares the runtime with `slimtext predict` on the same folder): DAN students over each
 * table format, with and without buckets and a hidden layer, and BERT classifiers (pooler / mean).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { writeHfCheckpoint } from '../../src/io/hfCheckpoint.js';
import { loadBert, BertModel } from '../../src/models/bert/model.js';
import { SequenceClassifier } from '../../src/models/classifier.js';
import { Dan, DanModel } from '../../src/models/dan.js';
import { saveTaskModel, tokenizerFilesIn } from '../../src/models/taskModel.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { compressTable } from '../../src/train/compress/methods.js';
import { CodesTable } from '../../src/models/tables/codes.js';
import { DEFAULT_SETTINGS } from '../../src/train/compress/methods.js';
import { withTable } from '../../src/train/compress/prune.js';
import { vocabFromTexts } from '../../src/train/distill/vocab.js';
import { tempDir, tinyConfig, VOCAB } from '../train/fixtures.js';

export const TEXTS = [
  'book a table for two at the red fish',
  'What is my balance?!',
  "can't you play some jazz, please... now",
  'Ünïcödé café — naïve façade; ΣΊΣΥΦΟΣ and 東京 weather 𠀀',
  'the the the the',
  'unknownword anotherone xyz123',
  '',
  '   \t\n ',
  'a\u00a0b\u200bc',
  Array.from({ length: 3000 }, (_, i) => ['red', 'fish', 'jazz', 'balance', 'zzq'][i % 5]).join(' '),
];

const CORPUS = [
  'book a table for two', 'book a flight to tokyo', 'what is my balance', 'play some jazz', 'play the red song',
  'what is the weather in tokyo', 'transfer money to my savings', 'red fish blue fish', 'can you play jazz now',
  'café naïve façade', 'σίσυφος 東京', 'please book a table', 'my balance please', 'weather now please',
];

export const DAN_KINDS = ['dense', 'f16', 'int8', 'int4', 'lowrank', 'pq', 'pq-qnorm', 'codes'] as const;
export type DanKind = (typeof DAN_KINDS)[number];

/** A DAN model folder: random weights large enough that labels differ clearly. */
export async function danFolder(kind: DanKind, opts: { buckets?: number; hidden?: number; seed?: number } = {}): Promise<string> {
  const vocab = await vocabFromTexts(CORPUS, { maxVocab: 1000, maxN: 3, workers: 0 });
  const buckets = opts.buckets ?? 32;
  const hidden = opts.hidden ?? 12;
  const dim = 16;
  let model = new DanModel({ rows: vocab.size + buckets, dim, hidden, numLabels: 4, dropIds: 0 }, { seed: opts.seed ?? 1 });
  const rng = new Rng(opts.seed ?? 1);
  for (const [, p] of model.namedParameters()) rng.fillNormal(p.data, 0, 0.7);
  if (kind !== 'dense') {
    const s = { ...DEFAULT_SETTINGS, rank: 4, pqDsub: 2, pqBits: 4, codebooks: 4, codeBits: 4, kmeansIters: 5 };
    if (kind === 'pq-qnorm') {
      // A table this small cannot fit 256 norms; quantised norms of its own (16, random) test the format.
      const t = compressTable(model.embeddings, 'pq', s) as CodesTable;
      const norms = { codes: Uint8Array.from({ length: t.rows }, () => rng.int(16)), book: Float32Array.from({ length: 16 }, (_, i) => 0.25 + i / 8) };
      model = withTable(model, new CodesTable('pq', t.rows, t.dim, t.books, t.words, t.codes, t.codebooks.data, norms));
    } else model = withTable(model, compressTable(model.embeddings, kind, s));
  }
  const dan = new Dan(model, vocab, { buckets, maxN: 3 }, ['book', 'balance', 'music', 'weather']);
  const dir = join(tempDir('slimtext-rt-'), `dan-${kind}`);
  await dan.save(dir);
  return dir;
}

/** A tiny BERT classifier folder (tiny vocabulary: WordPiece continuations and [UNK] show up). */
export async function tinyTransformerFolder(pooling: 'cls' | 'mean', seed = 4, table: Exclude<DanKind, 'pq-qnorm'> = 'dense'): Promise<string> {
  const src = tempDir('slimtext-rt-src-');
  const config = tinyConfig();
  const bert = new BertModel(config, { seed, pooler: pooling === 'cls', initializerRange: 0.5 });
  await writeHfCheckpoint(src, { config, weights: bert.toWeights(), vocab: VOCAB });
  const model = new SequenceClassifier(bert, { numLabels: 3, seed: seed + 1, pooling });
  new Rng(seed).fillNormal(model.classifier.weight.data, 0, 0.5);
  if (table !== 'dense') bert.embeddings.setWordTable(compressTable(bert.embeddings.word_embeddings, table, { ...DEFAULT_SETTINGS, rank: 4, pqDsub: 2, pqBits: 3, codebooks: 3, codeBits: 3, kmeansIters: 5 }));
  const dir = join(tempDir('slimtext-rt-'), `bert-${pooling}-${table}`);
  await saveTaskModel(dir, { task: 'classify', model, labels: ['a', 'b', 'c'], tokenizer: loadTokenizer(src), maxLength: 24 }, { tokenizerFiles: tokenizerFilesIn(src) });
  return dir;
}

export const SHARED_BERT = '../shared/models/bert-l4-h128-mlm';

/** A classifier over the shared pretrained BERT (a real 30k WordPiece vocabulary), or undefined when it is missing. */
export async function sharedTransformerFolder(): Promise<string | undefined> {
  if (!existsSync(join(SHARED_BERT, 'config.json'))) return undefined;
  const { model: bert } = await loadBert(SHARED_BERT, { pooler: false });
  const model = new SequenceClassifier(bert, { numLabels: 5, seed: 2, pooling: 'mean' });
  new Rng(9).fillNormal(model.classifier.weight.data, 0, 0.5);
  const dir = join(tempDir('slimtext-rt-'), 'bert-shared');
  await saveTaskModel(dir, { task: 'classify', model, labels: ['l0', 'l1', 'l2', 'l3', 'l4'], tokenizer: loadTokenizer(SHARED_BERT, { maxLength: 64 }), maxLength: 64 }, { tokenizerFiles: tokenizerFilesIn(SHARED_BERT) });
  return dir;
}
