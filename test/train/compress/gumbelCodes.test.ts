/**
 * Codes learned with Gumbel-softmax (straight-through): on a table that truly is a sum of M
 * codewords, the learner recovers most of it (far below the error of the mean row), its codes are
 * small integers in [0, K), the codebooks come back trainable, and the weights steer which rows the
 * fit serves. compressTable routes `codes` to it with codesFit 'gumbel'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/engine/index.js';
import { learnCodes } from '../../../src/train/compress/gumbelCodes.js';
import { compressTable, DEFAULT_SETTINGS } from '../../../src/train/compress/methods.js';
import { DenseNgramTable } from '../../../src/models/danTable.js';

const M = 2, K = 4, DIM = 8, ROWS = 200;

function additiveTable(seed: number): Float32Array {
  const rng = new Rng(seed);
  const books = new Float32Array(M * K * DIM);
  rng.fillNormal(books, 0, 1);
  const w = new Float32Array(ROWS * DIM);
  for (let r = 0; r < ROWS; r++) for (let m = 0; m < M; m++) {
    const c = rng.int(K);
    for (let j = 0; j < DIM; j++) w[r * DIM + j]! += books[(m * K + c) * DIM + j]!;
  }
  return w;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let e = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return e / n;
}

test('learned codes reconstruct an additive table; codes are small integers; codebooks train', () => {
  const w = additiveTable(1);
  const losses: number[] = [];
  const t = learnCodes(w, ROWS, DIM, { books: M, words: K, steps: 400, batch: 64, lr: 1e-2, seed: 0, progress: (_, l) => losses.push(l) });
  assert.equal(t.kind, 'codes');
  assert.ok(t.codes instanceof Uint8Array);
  assert.ok(t.codes.every((c) => c < K));
  const err = relativeError(t.toDense(), w);
  assert.ok(err < 0.25, `relative squared error ${err}`);
  assert.ok(losses[losses.length - 1]! < losses[0]! / 2, `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  assert.equal(t.trainable().length, 1);
});

test('row weights steer the fit toward the rows the task uses', () => {
  const w = additiveTable(2);
  const weights = new Float32Array(ROWS);
  weights.fill(1, 0, 20); // only the first 20 rows matter
  const t = learnCodes(w, ROWS, DIM, { books: M, words: K, steps: 300, batch: 64, lr: 1e-2, seed: 0, weights });
  const r = t.toDense();
  const head = relativeError(r.subarray(0, 20 * DIM), w.subarray(0, 20 * DIM));
  const tail = relativeError(r.subarray(20 * DIM), w.subarray(20 * DIM));
  assert.ok(head < tail, `weighted rows ${head} vs the rest ${tail}`);
});

test('compressTable learns codes with codesFit gumbel, residual k-means with kmeans', () => {
  const w = additiveTable(3);
  const dense = new DenseNgramTable(ROWS, DIM, { data: w });
  const s = { ...DEFAULT_SETTINGS, codebooks: M, codeBits: 2, codesSteps: 800 };
  for (const codesFit of ['gumbel', 'kmeans'] as const) {
    const t = compressTable(dense, 'codes', { ...s, codesFit });
    assert.equal(t.kind, 'codes');
    const e = relativeError(t.toDense(), w);
    assert.ok(e < 0.6, `${codesFit}: ${e}`);
  }
});
