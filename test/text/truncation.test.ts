import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncatedLengths } from '../../src/text/truncation.js';

test('longest_first on pairs follows HF tokenizers (its own test table, budget 7)', () => {
  // [len A, len B, kept A, kept B], from tokenizers/src/utils/truncation.rs
  const cases: [number, number, number, number][] = [
    [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
    [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
    [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
    [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
  ];
  for (const [a, b, ka, kb] of cases) assert.deepEqual(truncatedLengths(a, b, 7), [ka, kb], `${a} + ${b}`);
});

test('a single sequence is cut to the budget; a budget of 0 keeps nothing', () => {
  assert.deepEqual(truncatedLengths(10, undefined, 4), [4, undefined]);
  assert.deepEqual(truncatedLengths(3, undefined, 4), [3, undefined]);
  assert.deepEqual(truncatedLengths(5, 5, 0), [0, 0]);
});

test('only_first / only_second cut one side, or refuse when it is too short', () => {
  assert.deepEqual(truncatedLengths(6, 4, 7, 'only_first'), [3, 4]);
  assert.deepEqual(truncatedLengths(6, 4, 7, 'only_second'), [6, 1]);
  assert.throws(() => truncatedLengths(2, 9, 7, 'only_first'), /only the first/);
  assert.throws(() => truncatedLengths(9, undefined, 7, 'only_second'), /needs a pair/);
});
