import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topEntries } from '../../src/text/fingerprintTable.js';

test('topEntries keeps every entry when asked for more than there are, even with millions of ties', () => {
  // 2M entries all tied at count 1: spreading them into one push() call overflows the stack.
  const n = 2_000_000;
  const k1 = new Int32Array(n).map((_, i) => i);
  const k2 = new Int32Array(n);
  const val = new Uint32Array(n).fill(1);
  const out = topEntries(k1, k2, val, n + 10);
  assert.equal(out.length, n);
});

test('topEntries picks the highest counts and breaks ties deterministically', () => {
  const k1 = Int32Array.from([5, 4, 3, 2, 1]);
  const k2 = new Int32Array(5);
  const val = Uint32Array.from([1, 9, 3, 3, 7]);
  const out = [...topEntries(k1, k2, val, 3)].sort();
  // 9 and 7 for sure, then one of the two 3s: the one with the smaller key (k1 = 2 at index 3).
  assert.deepEqual(out, [1, 3, 4]);
});
