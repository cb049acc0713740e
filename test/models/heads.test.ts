/** Pooling and similarity heads: padding ignored, unit rows, correct gradients. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntTensor, Rng, gradcheck, randn, sum, tensor } from '../../src/engine/index.js';
import { clsVector, meanVector, pool } from '../../src/models/heads/pooling.js';
import { normalizeRows, scoreMatrix } from '../../src/models/heads/similarity.js';

test('mean pooling averages real tokens only; [CLS] pooling takes the first', () => {
  // (B=2, T=3, H=2); row 1 has one padded position holding junk.
  const h = tensor([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 999, 999], [2, 3, 2]);
  const mask = new IntTensor(Int32Array.of(1, 1, 1, 1, 1, 0), [2, 3]);
  assert.deepEqual(Array.from(meanVector(h, mask).data), [3, 4, 20, 30]);
  assert.deepEqual(Array.from(clsVector(h).data), [1, 2, 10, 20]);
  assert.deepEqual(pool('cls', h, mask).data, clsVector(h).data);
  assert.throws(() => meanVector(h, new IntTensor(Int32Array.of(1, 1), [1, 2])), /mask has 2 entries/);
});

test('normalised rows have unit length; cosine scores are scaled cosines, dot scores plain products', () => {
  const x = tensor([3, 4, 0, -2], [2, 2]);
  assert.deepEqual(Array.from(normalizeRows(x).data, (v) => Math.round(v * 1e6) / 1e6), [0.6, 0.8, 0, -1]);
  const s = scoreMatrix('cosine', x, x, 2);
  assert.deepEqual(Array.from(s.data, (v) => Math.round(v * 1e5) / 1e5), [2, -1.6, -1.6, 2]);
  assert.deepEqual(Array.from(scoreMatrix('dot', x, x, 1).data), [25, -8, -8, 4]);
});

test('gradients of mean pooling and cosine scores match finite differences', () => {
  const rng = new Rng(3);
  const h = randn([2, 4, 3], rng, 1, { requiresGrad: true });
  const mask = new IntTensor(Int32Array.of(1, 1, 1, 0, 1, 1, 0, 0), [2, 4]);
  const r1 = gradcheck(() => meanVector(h, mask), [h]);
  assert.ok(r1.ok, r1.failures.join('\n'));
  const u = randn([3, 5], rng, 1, { requiresGrad: true });
  const v = randn([4, 5], rng, 1, { requiresGrad: true });
  const r2 = gradcheck(() => sum(scoreMatrix('cosine', u, v, 20)), [u, v], { rtol: 2e-2, atol: 2e-3 });
  assert.ok(r2.ok, r2.failures.join('\n'));
});
