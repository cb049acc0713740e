/** SequenceClassifier: Hugging Face names, pooler or not, and a save/load round trip that predicts the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../../src/engine/index.js';
import { BertModel } from '../../src/models/bert/model.js';
import { SequenceClassifier } from '../../src/models/classifier.js';
import { classifierLogits, plainEncode } from '../../src/models/inference.js';
import { Predictor } from '../../src/models/predictor.js';
import { loadTaskModel, saveTaskModel } from '../../src/models/taskModel.js';
import { padRows, tokenizeAll } from '../../src/models/textBatch.js';
import { writeHfCheckpoint } from '../../src/io/hfCheckpoint.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { tinyConfig, VOCAB } from '../train/fixtures.js';

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'slimtext-clf-'));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('parameter names are those of BertForSequenceClassification', () => {
  const m = new SequenceClassifier(new BertModel(tinyConfig(), { pooler: true }), { numLabels: 3 });
  const names = m.namedParameters().map(([n]) => n);
  assert.ok(names.includes('bert.embeddings.word_embeddings.weight'));
  assert.ok(names.includes('bert.encoder.layer.2.output.LayerNorm.bias'));
  assert.ok(names.includes('bert.pooler.dense.weight'));
  assert.deepEqual(names.slice(-2), ['classifier.weight', 'classifier.bias']);
  assert.deepEqual([...m.classifier.weight.shape], [3, 16]);
});

test('without the pooler, [CLS] goes straight to the classifier; asking for a missing pooler is an error', async () => {
  const bert = new BertModel(tinyConfig(), { pooler: false });
  const m = new SequenceClassifier(bert, { numLabels: 2 });
  assert.equal(m.usePooler, false);
  assert.throws(() => new SequenceClassifier(bert, { numLabels: 2, usePooler: true }), /built without one/);
  const d = tmp();
  await writeHfCheckpoint(d, { config: tinyConfig(), weights: bert.toWeights(), vocab: VOCAB });
  const set = tokenizeAll(loadTokenizer(d), ['hello the cat', 'a dog'], undefined, 16);
  const batch = padRows(set, Int32Array.of(0, 1), 0);
  m.eval();
  const logits = noGrad(() => m.forward(batch));
  assert.deepEqual([...logits.shape], [2, 2]);
  const again = noGrad(() => m.head(bert.encode(bert.embed(batch), bert.maskFor(batch)), batch.attentionMask));
  assert.deepEqual(again.data, logits.data);
});

test('padding does not change a row\'s logits (dynamic padding is safe)', async () => {
  const d = tmp();
  const bert = new BertModel(tinyConfig(), { seed: 3, pooler: true });
  await writeHfCheckpoint(d, { config: tinyConfig(), weights: bert.toWeights(), vocab: VOCAB });
  const tok = loadTokenizer(d);
  const m = new SequenceClassifier(bert, { numLabels: 2 }).eval();
  const set = tokenizeAll(tok, ['cat', 'the big red dog on a small fish'], undefined, 16);
  const alone = noGrad(() => m.forward(padRows(set, Int32Array.of(0), 0))).data;
  const padded = noGrad(() => m.forward(padRows(set, Int32Array.of(0, 1), 0))).data.subarray(0, 2);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(alone[i]! - padded[i]!) < 1e-5);
});

test('a saved classifier loads back and predicts exactly the same; the predictor gives labels with probabilities', async () => {
  const src = tmp();
  const config = tinyConfig();
  const bert = new BertModel(config, { seed: 4, pooler: true });
  await writeHfCheckpoint(src, { config, weights: bert.toWeights(), vocab: VOCAB });
  const tokenizer = loadTokenizer(src);
  const model = new SequenceClassifier(bert, { numLabels: 3, seed: 5 });
  const out = tmp();
  await saveTaskModel(out, { task: 'classify', model, labels: ['a', 'b', 'c'], tokenizer, maxLength: 12 }, { tokenizerFiles: [join(src, 'vocab.txt'), join(src, 'tokenizer_config.json')] });
  const { model: tm, manifest } = await loadTaskModel(out);
  assert.equal(tm.task, 'classify');
  assert.equal(tm.maxLength, 12);
  assert.deepEqual(manifest.architecture.use_pooler, true);
  const texts = ['hello the cat', 'a red fish on the big dog', 'hi'];
  const set = tokenizeAll(tokenizer, texts, undefined, 12);
  const before = classifierLogits(model, set, 2, plainEncode(0));
  if (tm.task !== 'classify') throw new Error('expected a classifier');
  const after = classifierLogits(tm.model, tokenizeAll(tm.tokenizer, texts, undefined, tm.maxLength), 2, plainEncode(0));
  assert.deepEqual(after, before);
  const preds = new Predictor(tm, { topK: 3 }).predict(texts);
  assert.equal(preds.length, 3);
  for (const p of preds) {
    assert.deepEqual(p.map((x) => x.text).sort(), ['a', 'b', 'c']);
    assert.ok(Math.abs(p.reduce((s, x) => s + x.score, 0) - 1) < 1e-5);
    assert.ok(p[0]!.score >= p[1]!.score && p[1]!.score >= p[2]!.score);
  }
});

test('mean pooling classifies from the mean of the real tokens, goes without the pooler, and survives a save', async () => {
  const src = tmp();
  const config = tinyConfig();
  const bert = new BertModel(config, { seed: 6, pooler: true });
  await writeHfCheckpoint(src, { config, weights: bert.toWeights(), vocab: VOCAB });
  const tokenizer = loadTokenizer(src);
  assert.throws(() => new SequenceClassifier(bert, { numLabels: 2, pooling: 'mean', usePooler: true }), /mean pooling goes without it/);
  const m = new SequenceClassifier(bert, { numLabels: 2, pooling: 'mean' });
  assert.equal(m.usePooler, false);
  m.eval();
  const set = tokenizeAll(tokenizer, ['cat', 'the big red dog on a small fish'], undefined, 16);
  const alone = noGrad(() => m.forward(padRows(set, Int32Array.of(0), 0))).data;
  const padded = noGrad(() => m.forward(padRows(set, Int32Array.of(0, 1), 0))).data.subarray(0, 2);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(alone[i]! - padded[i]!) < 1e-5, 'padding leaks into the mean');
  const out = tmp();
  await saveTaskModel(out, { task: 'classify', model: m, labels: ['x', 'y'], tokenizer, maxLength: 16 }, { tokenizerFiles: [join(src, 'vocab.txt')] });
  const { model: tm, manifest } = await loadTaskModel(out);
  assert.equal(manifest.architecture.pooling, 'mean');
  if (tm.task !== 'classify') throw new Error('expected a classifier');
  assert.equal(tm.model.pooling, 'mean');
  assert.deepEqual(classifierLogits(tm.model, set, 2, plainEncode(0)), classifierLogits(m, set, 2, plainEncode(0)));
});
