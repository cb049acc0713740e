/**
 * Every embedding table: the tape lookup, the inference lookup and a dense reconstruction agree;
 * trainable tables pass a finite-difference gradient check; the dequantising kernel agrees
 * between the reference and every real backend; bad settings name the flag and the sizes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, embeddingBag, gradcheck, mul, sum, uniform, Tensor } from '../../src/engine/index.js';
import { DenseNgramTable } from '../../src/models/danTable.js';
import { compressTable, DEFAULT_SETTINGS, parseMethods, type TableMethod } from '../../src/train/compress/methods.js';
import type { EmbeddingTable } from '../../src/models/tables/table.js';
import { QuantTable } from '../../src/models/tables/quantized.js';
import { refBackend } from '../engine/refBackend.js';
import { backendsUnderTest, withBackend } from '../engine/backendsUnderTest.js';

const ROWS = 300, DIM = 16;

function denseTable(): DenseNgramTable {
  const data = new Float32Array(ROWS * DIM);
  new Rng(5).fillNormal(data, 0, 0.5);
  return new DenseNgramTable(ROWS, DIM, { data });
}

const bags = { ids: Int32Array.from([3, 7, 7, 299, 0, 12, 150, 151, 152, 5]), offsets: Int32Array.from([0, 3, 3, 6, 10]) };
const settings = { ...DEFAULT_SETTINGS, rank: 8, pqDsub: 4, pqBits: 5, codebooks: 4, codeBits: 4, kmeansIters: 8 };

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The bags' means computed from the table's dense reconstruction. */
function viaDense(t: EmbeddingTable): Float32Array {
  const w = new Tensor(t.toDense(), [t.rows, t.dim]);
  return embeddingBag(w, bags.ids, bags.offsets).data;
}

describe('tables', () => {
  const dense = denseTable();
  const kinds: TableMethod[] = ['f16', 'int8', 'int4', 'lowrank', 'pq', 'codes'];
  for (const k of kinds) {
    test(`${k}: tape lookup = inference lookup = dense reconstruction; error against the original is small`, () => {
      const t = compressTable(dense, k, settings);
      const tape = t.bagMean(bags.ids, bags.offsets).data;
      const into = new Float32Array(4 * DIM);
      t.bagMeanInto(4, bags.ids, bags.offsets, into);
      assert.ok(maxAbs(tape, into) < 1e-5, `tape vs into ${maxAbs(tape, into)}`);
      assert.ok(maxAbs(tape, viaDense(t)) < 1e-5, `tape vs dense ${maxAbs(tape, viaDense(t))}`);
      // Relative reconstruction error of the whole table: tight for int8, loose for the lossy ones.
      const w = t.toDense(), w0 = dense.weight.data;
      let num = 0, den = 0;
      for (let i = 0; i < w.length; i++) {
        num += (w[i]! - w0[i]!) ** 2;
        den += w0[i]! ** 2;
      }
      const rel = Math.sqrt(num / den);
      const bound = { f16: 1e-9, int8: 0.02, int4: 0.2, lowrank: 0.8, pq: 0.8, codes: 0.9 }[k];
      assert.ok(rel <= bound || (k === 'f16' && rel === 0), `${k} relative error ${rel} > ${bound}`);
    });
  }

  for (const k of ['lowrank', 'pq', 'codes'] as const) {
    test(`${k}: finite-difference gradient check of the trainable values`, () => {
      const t = compressTable(dense, k, settings);
      const R = uniform([4, DIM], new Rng(9), -1, 1);
      const r = gradcheck(() => sum(mul(t.bagMean(bags.ids, bags.offsets), R)), t.trainable());
      assert.ok(r.ok, r.failures.join('; '));
    });
  }

  test('int8 / int4 codes are frozen: no trainable values', () => {
    assert.equal(compressTable(dense, 'int8', settings).trainable().length, 0);
  });

  test('settings that do not fit the table: errors name the flag and the sizes', () => {
    assert.throws(() => compressTable(dense, 'pq', { ...settings, pqDsub: 5 }), /--pq-dsub.*5.*16/);
    assert.throws(() => compressTable(dense, 'pq', { ...settings, pqBits: 9 }), /--pq-bits.*512 centroids.*300 rows/);
    assert.throws(() => compressTable(dense, 'lowrank', { ...settings, rank: 17 }), /--rank.*17.*16/);
    assert.throws(() => compressTable(new DenseNgramTable(4, 6), 'int4', settings), /int4.*width 6/);
    const pq = compressTable(dense, 'pq', settings);
    assert.throws(() => compressTable(pq, 'int8', settings), /already pq.*int8 needs a dense table/);
    assert.throws(() => parseMethods('pq,int8'), /--method.*pq and int8/);
    assert.throws(() => parseMethods('zip'), /unknown method 'zip'/);
    assert.throws(() => parseMethods('pq,prune'), /prune must come first/);
  });
});

describe('dequantGather agrees with the reference on every backend', () => {
  const q = QuantTable.quantize(denseTable().weight.data, ROWS, DIM, 8);
  const q4 = QuantTable.quantize(denseTable().weight.data, ROWS, DIM, 4);
  const ids = Int32Array.from([0, 299, 7, 7, 150]);
  for (const { name, backend } of backendsUnderTest) {
    test(name, () => {
      for (const t of [q, q4]) {
        const want = new Float32Array(ids.length * DIM), got = new Float32Array(ids.length * DIM);
        refBackend.dequantGather(ids.length, DIM, t.bits, ROWS, t.q, t.scaleBias, ids, want);
        withBackend(backend, () => backend.dequantGather(ids.length, DIM, t.bits, ROWS, t.q, t.scaleBias, ids, got));
        assert.ok(maxAbs(got, want) < 1e-6);
      }
      assert.throws(() => withBackend(backend, () => backend.dequantGather(1, DIM, 8, ROWS, q.q, q.scaleBias, Int32Array.of(300), new Float32Array(DIM))), /300/);
    });
  }
});
