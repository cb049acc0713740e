/**
 * Compressing a transformer classifier's word embeddings: int8 keeps its predictions, PQ saves
 * and loads as a PQ table (the manifest says so, inspect counts its bytes), joint training moves
 * the codebooks, and pruning (a DAN-only method) is refused naming the method.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BertModel } from '../../../src/models/bert/model.js';
import { SequenceClassifier } from '../../../src/models/classifier.js';
import { classifierLogits, plainEncode } from '../../../src/models/inference.js';
import { inspectModel } from '../../../src/models/inspect.js';
import { loadTaskModel, saveTaskModel } from '../../../src/models/taskModel.js';
import { tokenizeAll } from '../../../src/models/textBatch.js';
import { writeHfCheckpoint } from '../../../src/io/hfCheckpoint.js';
import { loadTokenizer } from '../../../src/text/tokenizer.js';
import { compressModel } from '../../../src/train/compress/compress.js';
import { CodesTable } from '../../../src/models/tables/codes.js';
import { classData, tempDir, tinyConfig, VOCAB } from '../fixtures.js';

const texts = ['hello the cat', 'a red fish on the big dog', 'hi'];

async function classifier(): Promise<string> {
  const src = join(tempDir(), 'ckpt');
  const config = tinyConfig();
  const bert = new BertModel(config, { seed: 4, pooler: false });
  await writeHfCheckpoint(src, { config, weights: bert.toWeights(), vocab: VOCAB });
  const tokenizer = loadTokenizer(src);
  const model = new SequenceClassifier(bert, { numLabels: 2, seed: 5, pooling: 'mean' });
  const out = join(tempDir(), 'clf');
  await saveTaskModel(out, { task: 'classify', model, labels: ['animal', 'greeting'], tokenizer, maxLength: 12 }, { tokenizerFiles: [join(src, 'vocab.txt')] });
  return out;
}

async function logits(dir: string): Promise<Float32Array> {
  const { model: tm } = await loadTaskModel(dir);
  if (tm.task !== 'classify') throw new Error('expected a classifier');
  return classifierLogits(tm.model, tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength), 4, plainEncode(0));
}

test('transformer word embeddings: int8 keeps predictions, pq round-trips, joint trains the codebooks, prune is refused', async () => {
  const dir = await classifier();
  const base = await logits(dir);
  const i8 = join(tempDir(), 'i8');
  const r8 = await compressModel({ model: dir, methods: 'int8', out: i8 });
  assert.equal(r8.mode, 'posthoc');
  assert.ok(r8.after.embedding_bytes < r8.before.embedding_bytes / 2, JSON.stringify(r8));
  const l8 = await logits(i8);
  for (let i = 0; i < base.length; i++) assert.ok(Math.abs(l8[i]! - base[i]!) < 0.05, `logit ${i}: ${l8[i]} vs ${base[i]}`);

  const pq = join(tempDir(), 'pq');
  await compressModel({ model: dir, methods: 'pq', out: pq, settings: { pqDsub: 4, pqBits: 3, kmeansIters: 5 } });
  const info = await inspectModel(pq);
  assert.equal((info.table as { kind: string }).kind, 'pq');
  assert.equal((info.compression as { mode: string }).mode, 'posthoc');
  const { model: tm, manifest } = await loadTaskModel(pq);
  assert.equal((manifest.architecture.word_table as { kind: string }).kind, 'pq');
  if (tm.task !== 'classify') throw new Error('expected a classifier');
  const table = tm.model.bert.embeddings.word_embeddings;
  assert.ok(table instanceof CodesTable);
  assert.equal(info.embedding_bytes, VOCAB.length * 4 + 4 * 8 * 4 * 4);

  const data = classData(64, 16);
  const joint = join(tempDir(), 'joint');
  const rj = await compressModel({ model: dir, methods: 'pq', mode: 'joint', train: data, epochs: 1, lr: 1e-2, out: joint, settings: { pqDsub: 4, pqBits: 3, kmeansIters: 5 } });
  assert.equal(rj.training!.epochs.length, 1);
  const { model: tj } = await loadTaskModel(joint);
  if (tj.task !== 'classify') throw new Error('expected a classifier');
  const before = (table as CodesTable).codebooks.data, after = (tj.model.bert.embeddings.word_embeddings as CodesTable).codebooks.data;
  assert.ok(before.some((v, i) => Math.abs(v - after[i]!) > 1e-6), 'joint training left the codebooks as they were');
  // The encoder trains too (not only the head: the loss runs the taped forward); joint differs from retrain.
  const retrain = join(tempDir(), 'retrain');
  const rr = await compressModel({ model: dir, methods: 'pq', mode: 'retrain', train: data, epochs: 1, lr: 1e-2, out: retrain, settings: { pqDsub: 4, pqBits: 3, kmeansIters: 5 } });
  const { model: tr } = await loadTaskModel(retrain);
  if (tr.task !== 'classify') throw new Error('expected a classifier');
  // Both fitted alike (task-weighted k-means on the same data); only joint moves them afterwards.
  const rBooks = (tr.model.bert.embeddings.word_embeddings as CodesTable).codebooks.data;
  assert.ok(rBooks.some((v, i) => Math.abs(v - after[i]!) > 1e-6), 'joint codebooks equal retrain (frozen) ones');
  const { model: t0 } = await loadTaskModel(dir);
  const layer = (m: { model: { namedParameters(): [string, { data: Float32Array }][] } }) => {
    const ps = new Map(m.model.namedParameters());
    const name = [...ps.keys()].find((n) => /layer\.0\..*query.*weight/.test(n)) ?? assert.fail(`no layer-0 query weight among ${[...ps.keys()].join(', ')}`);
    return ps.get(name)!.data;
  };
  assert.equal(rj.training!.bestEpoch, 1);
  assert.ok(layer(tj).some((v, i) => Math.abs(v - layer(t0)[i]!) > 1e-6), 'training left the encoder as it was (only the head trained)');
  assert.notEqual(rr.training!.epochs[0]!.loss, rj.training!.epochs[0]!.loss, 'joint and retrain trained alike');

  await assert.rejects(compressModel({ model: dir, methods: 'prune,pq', out: join(tempDir(), 'x') }), /prune removes n-grams from a DAN/);
});
