/**
 * The fused codes kernels (codesBagMean / codesBagMeanBackward, nearestCentroids) against the
 * reference on every backend, against the path they replace (ids expanded into codeword ids, then
 * the plain embedding bag), a gradient check of the codebooks through the fused op with quantised
 * norms, and --qnorm end to end on a table (fit, save/load round trip, bad settings).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, codesBag, gradcheck, mul, sum, uniform, Tensor, type CodesLayout } from '../../src/engine/index.js';
import { DenseNgramTable } from '../../src/models/danTable.js';
import { CodesTable } from '../../src/models/tables/codes.js';
import { tableFromSpec } from '../../src/models/tables/load.js';
import { compressTable, DEFAULT_SETTINGS } from '../../src/train/compress/methods.js';
import type { SafeTensor } from '../../src/io/safetensors.js';
import { refBackend } from '../engine/refBackend.js';
import { backendsUnderTest, realBackends, withBackend } from '../engine/backendsUnderTest.js';

const ROWS = 300, DIM = 16, M = 4, K = 32;
const rng = new Rng(11);
const codes = Uint8Array.from({ length: ROWS * M }, () => rng.int(K));
const scale = Float32Array.from({ length: ROWS }, () => 0.5 + rng.int(100) / 50);
const ids = Int32Array.from([3, 7, 7, 299, 0, 12, 150, 151, 152, 5, 42]);
const offsets = Int32Array.from([0, 3, 3, 6, 10, 11]);
const B = offsets.length - 1;

function books(kind: 0 | 1): Float32Array {
  const b = new Float32Array(M * K * (kind === 0 ? DIM / M : DIM));
  new Rng(3 + kind).fillNormal(b, 0, 1);
  return b;
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The path the fused kernel replaces: each id expanded into its codeword ids, then the plain bag. */
function expandedPath(be: typeof refBackend, kind: 0 | 1, cb: Float32Array): Float32Array {
  const sub = kind === 0 ? DIM / M : DIM;
  const ex: number[] = [], off = [0];
  for (let b = 0; b < B; b++) {
    if (kind === 0) {
      for (let m = 0; m < M; m++) {
        for (let j = offsets[b]!; j < offsets[b + 1]!; j++) ex.push(m * K + codes[ids[j]! * M + m]!);
        off.push(ex.length);
      }
    } else {
      for (let j = offsets[b]!; j < offsets[b + 1]!; j++) for (let m = 0; m < M; m++) ex.push(m * K + codes[ids[j]! * M + m]!);
      off.push(ex.length);
    }
  }
  const out = new Float32Array(B * DIM);
  be.embeddingBagMean(kind === 0 ? B * M : B, sub, M * K, cb, Int32Array.from(ex), Int32Array.from(off), out);
  if (kind === 1) for (let i = 0; i < out.length; i++) out[i]! *= M;
  return out;
}

describe('codesBagMean / codesBagMeanBackward agree with the reference and the expanded path on every backend', () => {
  for (const { name, backend } of backendsUnderTest) {
    test(name, () => {
      for (const kind of [0, 1] as const) {
        const cb = books(kind);
        for (const rs of [null, scale]) {
          const want = new Float32Array(B * DIM), got = new Float32Array(B * DIM);
          refBackend.codesBagMean(kind, B, DIM, ROWS, M, K, codes, cb, rs, ids, offsets, want);
          withBackend(backend, () => backend.codesBagMean(kind, B, DIM, ROWS, M, K, codes, cb, rs, ids, offsets, got));
          assert.ok(maxAbs(got, want) < 1e-5, `${name} kind ${kind} forward ${maxAbs(got, want)}`);
          assert.deepEqual(Array.from(got.subarray(DIM, 2 * DIM)), new Array(DIM).fill(0), 'an empty bag gives zeros');
          if (!rs) {
            const old = withBackend(backend, () => expandedPath(backend, kind, cb));
            assert.ok(maxAbs(got, old) < 1e-5, `${name} kind ${kind}: fused vs expanded ${maxAbs(got, old)}`);
          }
          const dy = new Float32Array(B * DIM);
          new Rng(9).fillNormal(dy, 0, 1);
          const gWant = new Float32Array(cb.length).fill(0.25), gGot = new Float32Array(cb.length).fill(0.25);
          refBackend.codesBagMeanBackward(kind, B, DIM, ROWS, M, K, codes, rs, ids, offsets, dy, gWant);
          withBackend(backend, () => backend.codesBagMeanBackward(kind, B, DIM, ROWS, M, K, codes, rs, ids, offsets, dy, gGot));
          assert.ok(maxAbs(gGot, gWant) < 1e-5, `${name} kind ${kind} backward ${maxAbs(gGot, gWant)} (accumulates into the gradient)`);
        }
      }
      const out = new Float32Array(B * DIM);
      assert.throws(() => withBackend(backend, () => backend.codesBagMean(0, B, DIM, ROWS, M, K, codes, books(0), null, Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 300]), offsets, out)), /300/);
      const bad = codes.slice();
      bad[5 * M + 2] = K;
      assert.throws(() => withBackend(backend, () => backend.codesBagMean(0, B, DIM, ROWS, M, K, bad, books(0), null, ids, offsets, out)), /code 32/);
    });
  }
});

describe('nearestCentroids agrees with the reference on every backend', () => {
  const n = 500;
  for (const { name, backend } of backendsUnderTest) {
    test(name, () => {
      for (const d of [1, 2, 8, 20]) {
        const x = new Float32Array(n * d), c = new Float32Array(K * d);
        new Rng(d).fillNormal(x, 0, 1);
        new Rng(d + 100).fillNormal(c, 0, 1);
        const want = new Int32Array(n), got = new Int32Array(n);
        refBackend.nearestCentroids(n, d, K, x, c, want);
        withBackend(backend, () => backend.nearestCentroids(n, d, K, x, c, got));
        // Same centroid, or (float rounding on a near tie) one exactly as near in double precision.
        for (let i = 0; i < n; i++) {
          if (got[i] === want[i]) continue;
          const dist = (k: number) => {
            let s = 0;
            for (let j = 0; j < d; j++) s += (x[i * d + j]! - c[k * d + j]!) ** 2;
            return s;
          };
          assert.ok(Math.abs(dist(got[i]!) - dist(want[i]!)) < 1e-4, `${name} d=${d} point ${i}: ${got[i]} vs ${want[i]}`);
        }
      }
    });
  }
});

describe('codesBag op', () => {
  for (const kind of ['pq', 'codes'] as const) {
    test(`${kind}: finite-difference gradient check of the codebooks (with per-row norms)`, () => {
      const k = kind === 'pq' ? 0 : 1;
      const cb = new Tensor(books(k), [M * K, kind === 'pq' ? DIM / M : DIM], true);
      const layout: CodesLayout = { kind, rows: ROWS, dim: DIM, books: M, words: K, codes, rowScale: scale };
      const R = uniform([B, DIM], new Rng(9), -1, 1);
      const r = gradcheck(() => sum(mul(codesBag(cb, layout, ids, offsets), R)), [cb]);
      assert.ok(r.ok, r.failures.join('; '));
    });
  }

  test('every real backend gives the same training step as the reference', () => {
    for (const { name, backend } of realBackends) {
      const run = (be: typeof refBackend) =>
        withBackend(be, () => {
          const cb = new Tensor(books(0), [M * K, DIM / M], true);
          const y = sum(mul(codesBag(cb, { kind: 'pq', rows: ROWS, dim: DIM, books: M, words: K, codes, rowScale: scale }, ids, offsets), uniform([B, DIM], new Rng(2), -1, 1)));
          backward(y);
          return cb.grad!;
        });
      const want = run(refBackend), got = run(backend);
      assert.ok(maxAbs(got, want) < 1e-5, `${name}: ${maxAbs(got, want)}`);
    }
  });
});

describe('--qnorm (norm-quantised pq)', () => {
  const data = new Float32Array(ROWS * DIM);
  new Rng(5).fillNormal(data, 0, 0.5);
  // Rows of very different norms: what a norm codebook is for.
  for (let r = 0; r < ROWS; r++) for (let j = 0; j < DIM; j++) data[r * DIM + j]! *= 1 + (r % 10);
  const dense = new DenseNgramTable(ROWS, DIM, { data });
  const s = { ...DEFAULT_SETTINGS, pqDsub: 4, pqBits: 5, kmeansIters: 8 };

  const relErr = (t: { toDense(): Float32Array }) => {
    const w = t.toDense();
    let num = 0, den = 0;
    for (let i = 0; i < w.length; i++) {
      num += (w[i]! - data[i]!) ** 2;
      den += data[i]! ** 2;
    }
    return Math.sqrt(num / den);
  };

  test('fits unit rows and 256 norms; rows are norm x unit pq vector; the source table is untouched; saved and loaded alike', () => {
    const before = data.slice();
    const t = compressTable(dense, 'pq', { ...s, qnorm: true }) as CodesTable;
    assert.deepEqual(data, before, 'the dense table is not normalised in place');
    assert.ok(t.norms && t.norms.book.length === 256 && t.norms.codes.length === ROWS);
    assert.equal(t.spec().qnorm, true);
    // The codebooks describe unit rows: every reconstructed row's norm is close to its quantised norm.
    const w = t.toDense();
    for (const r of [0, 7, 123, 299]) {
      let n = 0;
      for (let j = 0; j < DIM; j++) n += w[r * DIM + j]! ** 2;
      const qn = t.norms.book[t.norms.codes[r]!]!;
      assert.ok(Math.abs(Math.sqrt(n) / qn - 1) < 0.5, `row ${r}: norm ${Math.sqrt(n)} vs quantised ${qn}`);
    }
    assert.ok(relErr(t) < 0.8, `relative error ${relErr(t)}`);
    // Tape = inference = the kernel's per-row factor applied to the plain pq rows.
    const into = new Float32Array(B * DIM);
    t.bagMeanInto(B, ids, offsets, into);
    assert.ok(maxAbs(t.bagMean(ids, offsets).data, into) < 1e-5);
    // Save / load round trip through the spec and tensors.
    const tensors = t.tensors('');
    const get = (name: string): SafeTensor | undefined => {
      const w = tensors.get(name);
      if (!w) return undefined;
      const d = w.data instanceof Uint8Array ? Int32Array.from(w.data) : w.data;
      return { shape: w.shape, data: d, dtype: w.dtype } as unknown as SafeTensor;
    };
    const back = tableFromSpec(t.spec(), get, (f, why) => {
      throw new Error(`${f}: ${why}`);
    });
    assert.deepEqual(back.names.sort(), ['codebooks', 'codes', 'norm_book', 'norm_codes']);
    assert.deepEqual(back.table.toDense(), t.toDense());
  });

  test('bad settings name the flag and the sizes', () => {
    assert.throws(() => compressTable(dense, 'int8', { ...s, qnorm: true }), /--qnorm.*--method int8/);
    const big = new DenseNgramTable(600, DIM);
    assert.throws(() => compressTable(big, 'pq', { ...s, pqBits: 9, qnorm: true }), /--qnorm.*one-byte.*--pq-bits 9/);
    assert.throws(() => compressTable(new DenseNgramTable(200, DIM, { data: data.slice(0, 200 * DIM) }), 'pq', { ...s, qnorm: true }), /--qnorm.*256 norm centroids.*200/);
  });
});
