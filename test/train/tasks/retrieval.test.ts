/** The 1-of-100 retrieval test and the reply set. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../../src/engine/index.js';
import { normalizeRows } from '../../../src/models/heads/similarity.js';
import { oneOfNRetrieval } from '../../../src/train/tasks/retrieval.js';
import { buildResponseSet, normalizeReply } from '../../../src/train/tasks/responseSet.js';

function randomVectors(n: number, h: number, seed: number): Float32Array {
  const out = new Float32Array(n * h);
  new Rng(seed).fillNormal(out);
  return out;
}

test('replies identical to their (unit-length) messages are always ranked first', () => {
  const u = normalizeRows(new Tensor(randomVectors(300, 16, 1), [300, 16])).data;
  const r = oneOfNRetrieval(u, u, 16);
  assert.deepEqual(r, { recall_at_1: 1, recall_at_5: 1, mrr: 1, n: 300, candidates: 100 });
});

test('unrelated vectors score near chance: recall@1 ~ 1/100, recall@5 ~ 5/100', () => {
  const r = oneOfNRetrieval(randomVectors(2000, 16, 2), randomVectors(2000, 16, 3), 16);
  assert.ok(r.recall_at_1 > 0.002 && r.recall_at_1 < 0.025, `recall@1 ${r.recall_at_1}`);
  assert.ok(r.recall_at_5 > 0.03 && r.recall_at_5 < 0.08, `recall@5 ${r.recall_at_5}`);
  assert.ok(r.mrr > 0.03 && r.mrr < 0.08, `mrr ${r.mrr}`);
});

test('candidates are a sample: a reply that beats every true reply hurts only the messages it is drawn for', () => {
  // Every true reply scores 0.5, reply 0 scores 1 for every message, the rest tie with the truth
  // (ties rank the true reply first). Reply 0 is drawn for about 99 of 149 messages.
  const n = 150;
  const h = 2;
  const u = new Float32Array(n * h);
  const v = new Float32Array(n * h);
  for (let i = 0; i < n; i++) {
    u[i * h] = 1;
    v[i * h] = 0.5;
  }
  v[0] = 1;
  const r = oneOfNRetrieval(u, v, h, { seed: 4 });
  assert.ok(r.recall_at_1 > 0.2 && r.recall_at_1 < 0.5, `recall@1 ${r.recall_at_1}`);
  assert.equal(r.recall_at_5, 1);
  assert.ok(Math.abs(r.mrr - (r.recall_at_1 + (1 - r.recall_at_1) / 2)) < 1e-9);
});

test('with fewer than 100 pairs every other reply is a candidate; the seed fixes the candidates', () => {
  const u = randomVectors(40, 8, 5);
  const v = randomVectors(40, 8, 6);
  assert.equal(oneOfNRetrieval(u, v, 8).candidates, 40);
  const big = [randomVectors(500, 8, 7), randomVectors(500, 8, 8)] as const;
  assert.deepEqual(oneOfNRetrieval(...big, 8, { seed: 1 }), oneOfNRetrieval(...big, 8, { seed: 1 }));
  assert.notDeepEqual(oneOfNRetrieval(...big, 8, { seed: 1 }), oneOfNRetrieval(...big, 8, { seed: 2 }));
});

test('reply normalisation and the reply set: most frequent first, shown in their most common form', () => {
  assert.equal(normalizeReply('  Thank you  !'), 'thank you!');
  assert.equal(normalizeReply("I don 't know ."), "i don't know.");
  const s = buildResponseSet(['Thank you!', 'thank you !', 'Yes.', 'Thank you!', 'No.', 'yes .', 'Sure', ''], 3);
  assert.deepEqual(s.texts, ['Thank you!', 'Yes.', 'No.']);
  assert.deepEqual(s.counts, [3, 2, 1]);
});
