/** Length-bucketed batches: a permutation, seeded per epoch, with little padding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { batchesPerEpoch, epochBatches } from '../../src/train/batches.js';

const rng = new Rng(5);
const lengths = Int32Array.from({ length: 1000 }, () => 3 + rng.int(60));
const opts = { batchSize: 16, seed: 1, poolBatches: 10 };

test('each epoch is a permutation of all examples in batches of the batch size', () => {
  const batches = epochBatches(lengths, 0, opts);
  assert.equal(batches.length, batchesPerEpoch(1000, opts));
  const seen = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(batches.filter((b) => b.length !== 16).length, 1);
});

test('the order is a function of (seed, epoch): same again, different next epoch or seed', () => {
  const a = epochBatches(lengths, 2, opts);
  assert.deepEqual(epochBatches(lengths, 2, opts), a);
  assert.notDeepEqual(epochBatches(lengths, 3, opts), a);
  assert.notDeepEqual(epochBatches(lengths, 2, { ...opts, seed: 2 }), a);
});

test('bucketing pads far less than random batches', () => {
  const padding = (bs: Int32Array[]) => bs.reduce((s, b) => {
    const ls = Array.from(b, (i) => lengths[i]!);
    return s + Math.max(...ls) * ls.length - ls.reduce((x, y) => x + y, 0);
  }, 0);
  const bucketed = padding(epochBatches(lengths, 0, opts));
  const random = padding(epochBatches(lengths, 0, { ...opts, poolBatches: 1 }));
  assert.ok(bucketed * 4 < random, `bucketed ${bucketed} vs random ${random} padded tokens`);
});

test('dropLast removes the one short batch', () => {
  const b = epochBatches(lengths, 0, { ...opts, dropLast: true });
  assert.equal(b.length, 62);
  assert.ok(b.every((x) => x.length === 16));
  assert.equal(batchesPerEpoch(1000, { ...opts, dropLast: true }), 62);
});
