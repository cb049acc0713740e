/**
 * SparseGrad's id -> slot table against a Map: duplicates coalesce, slots survive table growth and
 * accumulation over several lookups, clear() starts afresh, structured ids (multiples of 1024) do
 * not break it, and a bad id leaves the gradient untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, SparseGrad } from '../../src/engine/index.js';
import { refBackend } from './refBackend.js';
import { withBackend } from './backendsUnderTest.js';

test('slots match a Map reference across growth, accumulation and clear', () => withBackend(refBackend, () => {
  const rng = new Rng(1);
  const sg = new SparseGrad(1 << 22, 2);
  for (const round of [0, 1]) {
    const ref = new Map<number, number>();
    for (let batch = 0; batch < 3; batch++) {
      const ids = Int32Array.from({ length: 3000 }, (_, j) => (j % 3 === 0 ? 1024 * rng.int(4000) : rng.int(5000)));
      const slots = sg.slotsFor('test', ids);
      ids.forEach((id, j) => {
        if (!ref.has(id)) ref.set(id, ref.size);
        assert.equal(slots[j], ref.get(id), `round ${round} batch ${batch} id ${id}`);
      });
    }
    assert.equal(sg.count, ref.size);
    assert.deepEqual([...sg.ids], [...ref.keys()]);
    sg.clear();
    assert.equal(sg.count, 0);
  }
}));

test('rows accumulate per id; new slots start at zero after a clear', () => withBackend(refBackend, () => {
  const sg = new SparseGrad(10, 2);
  sg.add('test', Int32Array.of(3, 5, 3), Float32Array.of(1, 1, 2, 2, 10, 10));
  assert.deepEqual([...sg.rows], [11, 11, 2, 2]);
  sg.clear();
  sg.add('test', Int32Array.of(5), Float32Array.of(1, 2));
  assert.deepEqual([...sg.rows], [1, 2]);
  const dense = new Float32Array(20);
  sg.addInto(dense);
  assert.deepEqual([...dense.subarray(10, 12)], [1, 2]);
  assert.ok(Math.abs(sg.sumSquares() - 5) < 1e-9);
  sg.scale(2);
  assert.deepEqual([...sg.rows], [2, 4]);
}));

test('an id outside the table throws and changes nothing', () => withBackend(refBackend, () => {
  const sg = new SparseGrad(10, 1);
  sg.add('test', Int32Array.of(1), Float32Array.of(1));
  assert.throws(() => sg.slotsFor('lookup', Int32Array.of(2, 10)), /lookup: id 10 at position 1 is outside the table of 10 rows/);
  assert.deepEqual([...sg.ids], [1]);
  sg.add('test', Int32Array.of(2), Float32Array.of(5));
  assert.deepEqual([...sg.rows], [1, 5]);
}));
