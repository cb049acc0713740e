/**
 * Freezing: frozen parameters get no gradient and no optimiser state; a frozen prefix (embeddings +
 * bottom K layers) runs without dropout and off the tape, and its cached features give the same
 * result as running it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, crossEntropy, noGrad } from '../../src/engine/index.js';
import { BertModel } from '../../src/models/bert/model.js';
import { SequenceClassifier } from '../../src/models/classifier.js';
import { tokenizeAll } from '../../src/models/textBatch.js';
import { tokenizerFromVocab } from '../../src/text/tokenizer.js';
import { freezeEncoder, frozenToEval } from '../../src/train/freeze.js';
import { PrefixCache, PrefixRunner } from '../../src/train/prefixCache.js';
import { classRows, tinyConfig, VOCAB } from './fixtures.js';

const tok = tokenizerFromVocab(VOCAB, { do_lower_case: true });
const rows = classRows(12, 4);
const set = tokenizeAll(tok, rows.map((r) => r[0]), undefined, 16);
const labels = Int32Array.from(rows, (r) => (r[1] === 'animal' ? 0 : 1));
const all = Int32Array.from({ length: rows.length }, (_, i) => i);

function classifier(): SequenceClassifier {
  return new SequenceClassifier(new BertModel(tinyConfig(), { seed: 1, pooler: true }), { numLabels: 2, seed: 1 });
}

test('frozen embeddings and bottom layers get no gradients; the rest does', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { embeddings: true, layers: 2 });
  assert.equal(plan.prefixLayers, 2);
  assert.ok(plan.frozenParameters > 0 && plan.trainableParameters > 0);
  const runner = new PrefixRunner(m.bert, plan, 0, undefined);
  m.train();
  frozenToEval(m.bert, plan);
  const { last, batch } = runner.run(set, all);
  backward(crossEntropy(m.head(last, batch.attentionMask), labels));
  for (const [name, p] of m.namedParameters()) {
    const frozen = name.startsWith('bert.embeddings.') || /^bert\.encoder\.layer\.[01]\./.test(name);
    assert.equal(p.frozen, frozen, name);
    if (frozen) assert.ok(!p.grad && !p.sparseGrad, `${name} got a gradient`);
    else assert.ok(p.grad || p.sparseGrad, `${name} got no gradient`);
  }
});

test('the frozen prefix is off the tape: its output is a leaf that needs no gradient', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { embeddings: true, layers: 3 });
  const runner = new PrefixRunner(m.bert, plan, 0, undefined);
  m.train();
  frozenToEval(m.bert, plan);
  const { last, batch } = runner.run(set, all);
  // All layers frozen: the encoder output is the prefix itself, recorded nowhere.
  assert.equal(last.requiresGrad, false);
  assert.equal(last.node, undefined);
  const logits = m.head(last, batch.attentionMask);
  assert.ok(logits.requiresGrad);
});

test('freezing layers but not the embeddings: gradients flow through the frozen layers to the embeddings', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { layers: 1 });
  assert.equal(plan.prefixLayers, -1);
  const runner = new PrefixRunner(m.bert, plan, 0, new PrefixCache(1 << 20));
  const { last, batch } = runner.run(set, all);
  backward(crossEntropy(m.head(last, batch.attentionMask), labels));
  assert.ok(m.bert.embeddings.word_embeddings.trainable()[0]!.sparseGrad!.count > 0);
  assert.ok(!m.bert.encoder.layer[0]!.attention.self.query.weight.grad);
  assert.ok(m.bert.encoder.layer[1]!.attention.self.query.weight.grad);
});

test('frozen parts run without dropout in training mode, trainable parts with it', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { embeddings: true, layers: 1 });
  m.train();
  frozenToEval(m.bert, plan);
  assert.equal(m.bert.embeddings.training, false);
  assert.equal(m.bert.encoder.layer[0]!.training, false);
  assert.equal(m.bert.encoder.layer[1]!.training, true);
  assert.equal(m.dropout.training, true);
});

test('cached prefix features equal computed ones; the second pass is all cache hits', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { embeddings: true, layers: 2 });
  const cache = new PrefixCache(1 << 20);
  const cached = new PrefixRunner(m.bert, plan, 0, cache);
  cached.register(set);
  const plain = new PrefixRunner(m.bert, plan, 0, undefined);
  m.eval();
  // Batches that mix rows differently than the ones that filled the cache.
  const first = noGrad(() => cached.run(set, all.subarray(0, 7)).last);
  assert.equal(cache.stats().computed, 7);
  const mixed = Int32Array.of(9, 2, 11, 5, 0);
  const fromCache = noGrad(() => cached.run(set, mixed).last);
  const direct = noGrad(() => plain.run(set, mixed).last);
  assert.deepEqual(fromCache.shape, direct.shape);
  const [B, T, H] = direct.shape as [number, number, number];
  for (let b = 0; b < B; b++) {
    const len = set.lengths[mixed[b]!]!;
    for (let i = 0; i < len * H; i++) {
      assert.ok(Math.abs(fromCache.data[b * T * H + i]! - direct.data[b * T * H + i]!) < 1e-5, `row ${b}, value ${i}`);
    }
  }
  const s = cache.stats();
  assert.equal(s.hits, 3);
  assert.equal(s.computed, 9);
  assert.equal(s.entries, 9);
  assert.ok(first.shape[0] === 7);
  noGrad(() => cached.run(set, all));
  assert.equal(cache.stats().hits, 3 + 9);
});

test('the cache stops storing at its budget and recomputes what it could not keep', () => {
  const m = classifier();
  const plan = freezeEncoder(m.bert, { embeddings: true, layers: 1 });
  const H = tinyConfig().hiddenSize;
  const oneRow = set.lengths[0]! * H * 4;
  const cache = new PrefixCache(oneRow);
  const r = new PrefixRunner(m.bert, plan, 0, cache);
  r.register(set);
  m.eval();
  noGrad(() => r.run(set, all));
  noGrad(() => r.run(set, all));
  const s = cache.stats();
  assert.ok(s.bytes <= oneRow);
  assert.ok(s.notStored > 0);
  assert.equal(s.hits + s.computed, 2 * rows.length);
});
