/**
 * Kernels big enough to run on several threads (the native backend splits work only above ~1M
 * element-operations) give the reference's results on 1 and 2 threads: strided sums split by
 * column (a bias gradient) or by row, and the layouts where a column split would be wrong.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryOp } from '../../src/engine/backend.js';
import { refBackend } from './refBackend.js';
import { realBackends } from './backendsUnderTest.js';

function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * Math.max(1, Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

interface StridedCase {
  what: string;
  shape: number[];
  ss: number[];
  ds: number[];
  dstLen: number;
}

const I = (xs: number[]) => Int32Array.from(xs);

// Source contiguous over `shape` unless given; dst strides as listed.
const cases: StridedCase[] = [
  { what: 'bias gradient: sum over 4096 rows of 512 columns', shape: [4096, 512], ss: [512, 1], ds: [0, 1], dstLen: 512 },
  { what: 'sum over the middle of (8, 256, 640)', shape: [8, 256, 640], ss: [256 * 640, 640, 1], ds: [640, 0, 1], dstLen: 8 * 640 },
  { what: 'sum over columns into rows', shape: [640, 2048], ss: [2048, 1], ds: [1, 0], dstLen: 640 },
  // dst offset row + column: row r column c and row r-1 column c+1 write the same element, so
  // threads splitting the columns would race on every row (this layout must stay on one thread)
  { what: 'overlapping anti-diagonal sums', shape: [8192, 512], ss: [512, 1], ds: [1, 1], dstLen: 8192 + 512 },
];

for (const { name, backend } of realBackends) {
  describe(`multi-threaded kernels on ${name}`, () => {
    for (const c of cases) {
      test(`copyStrided accumulate: ${c.what}`, () => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const src = values(n, 7);
        const want = values(c.dstLen, 3);
        refBackend.copyStrided(I(c.shape), src, I(c.ss), want, I(c.ds), 0.5, true);
        const t0 = backend.threads();
        try {
          for (const threads of [1, 2]) {
            backend.setThreads(threads);
            const got = values(c.dstLen, 3);
            backend.copyStrided(I(c.shape), src, I(c.ss), got, I(c.ds), 0.5, true);
            close(got, want, `${threads} threads`);
          }
        } finally {
          backend.setThreads(t0);
        }
      });
    }

    test('binary ops over 2M elements, with a broadcast row, on 1 and 2 threads', () => {
      const rows = 2048, cols = 1024;
      const a = values(rows * cols, 1), b = values(cols, 2);
      const want = new Float32Array(rows * cols);
      refBackend.binary(BinaryOp.Mul, I([rows, cols]), a, I([cols, 1]), b, I([0, 1]), want, false);
      const t0 = backend.threads();
      try {
        for (const threads of [1, 2]) {
          backend.setThreads(threads);
          const got = new Float32Array(rows * cols);
          backend.binary(BinaryOp.Mul, I([rows, cols]), a, I([cols, 1]), b, I([0, 1]), got, false);
          assert.deepEqual(got, want, `${threads} threads`);
        }
      } finally {
        backend.setThreads(t0);
      }
    });
  });
}
