/**
 * Served-model folders with random weights, for benches that measure speed and memory (which do not
 * need trained weights): a transformer classifier of BERT-base's shape (12 x 768, 12 heads, 3072,
 * the 30,522-entry uncased vocabulary of ../shared/models/bert-l4-h128-mlm), a classifier on that
 * small checkpoint with a new head, and a DAN with a large hashed n-gram table.
 */
import { join } from 'node:path';
import { type BertConfig } from '../src/io/hfCheckpoint.js';
import { BertModel, loadBert } from '../src/models/bert/model.js';
import { SequenceClassifier } from '../src/models/classifier.js';
import { saveTaskModel, tokenizerFilesIn } from '../src/models/taskModel.js';
import { Dan, DanModel } from '../src/models/dan.js';
import { NgramVocab } from '../src/text/ngramVocab.js';
import { loadTokenizer } from '../src/text/tokenizer.js';
import { repoRoot } from './root.js';

export const SMALL_CHECKPOINT = join(repoRoot, '..', 'shared', 'models', 'bert-l4-h128-mlm');

export const BERT_BASE: BertConfig = {
  vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, hiddenAct: 'gelu', maxPositions: 512,
  typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0,
};

/** A 2-label classifier (mean pooling, max length 128): BERT-base-shaped random weights, or the small checkpoint's with a random head. */
export async function writeClassifier(dir: string, shape: 'base' | 'small', seed = 0): Promise<string> {
  const bert = shape === 'base' ? new BertModel(BERT_BASE, { seed, pooler: false }) : (await loadBert(SMALL_CHECKPOINT, { pooler: false })).model;
  const model = new SequenceClassifier(bert, { numLabels: 2, pooling: 'mean', seed });
  model.eval();
  const maxLength = 128;
  await saveTaskModel(dir, { task: 'classify', model, labels: ['negative', 'positive'], tokenizer: loadTokenizer(SMALL_CHECKPOINT, { maxLength }), maxLength }, {
    tokenizerFiles: tokenizerFilesIn(SMALL_CHECKPOINT),
    notes: [`random weights (${shape === 'base' ? 'BERT-base shape' : 'small checkpoint, new head'}), for speed and memory benches`],
  });
  return dir;
}

/** A DAN (unigrams of `words` + `buckets` hashed rows, dim x hidden, 2 labels) with random weights. */
export async function writeBigDan(dir: string, words: readonly string[], buckets: number, dim: number, hidden = 64, seed = 0): Promise<string> {
  const uniq = [...new Set(words)];
  const vocab = new NgramVocab(uniq, uniq.map(() => 1), { maxN: 1, lowercase: true, minCount: 1, lines: 0, words: uniq.length, approximate: false, maxUndercount: 0, sources: [] });
  const model = new DanModel({ rows: uniq.length + buckets, dim, hidden, numLabels: 2, dropIds: 0 }, { seed });
  await new Dan(model, vocab, { buckets, maxN: 1 }, ['negative', 'positive']).save(dir, { notes: ['random weights, for memory benches'] });
  return dir;
}
