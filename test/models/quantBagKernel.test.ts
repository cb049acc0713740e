/**
 * The fused dequantising bag (backend quantBagMean) for row-wise int8 / int4 tables: native and
 * wasm agree with the plain-JS reference, with each other and with the path they replaced
 * (dequantGather every row, then embeddingBagMean), on wide and narrow tables, empty and repeated
 * bags, windows whose offsets do not start at 0; bad arguments are refused naming the kernel.
 * QuantTable's lookups (tape, inference, a DAN over an int4 table) equal the old expanded path.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { QuantTable, type QuantBits } from '../../src/models/tables/quantized.js';
import { refBackend } from '../engine/refBackend.js';
import { backendsUnderTest, realBackends, withBackend } from '../engine/backendsUnderTest.js';
import type { Backend } from '../../src/engine/backend.js';

function table(rows: number, dim: number, bits: QuantBits, seed: number, expanded = false): QuantTable {
  const data = new Float32Array(rows * dim);
  new Rng(seed).fillNormal(data, 0.1, 0.6);
  const t = QuantTable.quantize(data, rows, dim, bits);
  return expanded ? new QuantTable(rows, dim, bits, t.q, t.scaleBias, { expanded: true }) : t;
}

/**
 * Bags of random ids: empty ones, one-id ones, repeats, long ones (a 3,000-word text makes ~9,000
 * ids: long sums must not lose more than the dequantise-then-bag path did).
 */
function bags(rows: number, seed: number): { ids: Int32Array; offsets: Int32Array } {
  const rng = new Rng(seed);
  const sizes = [3, 0, 1, 7, 0, 2, 400, 5, 1, 0, 9000];
  const offsets = new Int32Array(sizes.length + 1);
  sizes.forEach((n, b) => (offsets[b + 1] = offsets[b]! + n));
  const ids = Int32Array.from({ length: offsets[sizes.length]! }, () => rng.int(rows));
  ids[1] = ids[0]!;
  ids[2] = rows - 1;
  return { ids, offsets };
}

/** The old path: dequantise the rows, then the plain mean bag over them. */
function viaRows(be: Backend, t: QuantTable, nBags: number, ids: Int32Array, offsets: Int32Array): Float32Array {
  const lo = offsets[0]!, n = offsets[nBags]! - lo;
  const rows = new Float32Array(n * t.dim);
  be.dequantGather(n, t.dim, t.bits, t.rows, t.q, t.scaleBias, ids.subarray(lo, lo + n), rows);
  const iota = Int32Array.from({ length: n }, (_, i) => i);
  const out = new Float32Array(nBags * t.dim);
  be.embeddingBagMean(nBags, t.dim, n, rows, iota, offsets.map((o) => o - lo).subarray(0, nBags + 1), out);
  return out;
}

/** Largest |a - b| relative to max(1, |b|). */
function maxRel(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

const SHAPES = [
  { rows: 300, dim: 16 },
  { rows: 5000, dim: 200 },
  { rows: 50, dim: 8 },
];

describe('quantBagMean agrees with the reference, the old path and across backends', () => {
  const results = new Map<string, Float32Array>();
  for (const { name, backend } of backendsUnderTest) {
    test(name, () => {
      for (const bits of [8, 4] as const) {
        for (const { rows, dim } of SHAPES) {
          const t = table(rows, dim, bits, rows + bits);
          const { ids, offsets } = bags(rows, dim + bits);
          const nBags = offsets.length - 1;
          const got = new Float32Array(nBags * dim).fill(NaN);
          withBackend(backend, () => backend.quantBagMean(nBags, dim, bits, rows, t.q, t.scaleBias, ids, offsets, got));
          const want = new Float32Array(nBags * dim);
          refBackend.quantBagMean(nBags, dim, bits, rows, t.q, t.scaleBias, ids, offsets, want);
          const where = `${name} int${bits} ${rows} x ${dim}`;
          const old = withBackend(backend, () => viaRows(backend, t, nBags, ids, offsets));
          // No further from the (f64) reference than the old path, long bags included.
          assert.ok(maxRel(got, want) <= 1.25 * maxRel(old, want) + 1e-7, `${where}: vs reference ${maxRel(got, want)}, the old path ${maxRel(old, want)}`);
          assert.ok(maxRel(got, old) < 1e-5, `${where}: vs dequantise + bag`);
          for (const b of [1, 4, 9]) for (let j = 0; j < dim; j++) assert.equal(got[b * dim + j], 0, `${where}: empty bag ${b}`);
          // A window of bags whose offsets start inside ids (a sliced batch).
          const w = offsets.subarray(3, 8);
          const win = new Float32Array(4 * dim);
          withBackend(backend, () => backend.quantBagMean(4, dim, bits, rows, t.q, t.scaleBias, ids, w, win));
          assert.ok(maxRel(win, want.subarray(3 * dim, 7 * dim)) < 1e-5, `${where}: window`);
          results.set(`${name} ${bits} ${dim}`, got);
        }
      }
    });
  }

  test('native and wasm give the same bags', (t) => {
    const names = realBackends.map((b) => b.name);
    if (names.length < 2) return t.skip(`only ${names.join(', ')} loads here`);
    for (const bits of [8, 4]) for (const { dim } of SHAPES) {
      const [a, b] = names.map((n) => results.get(`${n} ${bits} ${dim}`)!);
      assert.ok(maxRel(a!, b!) < 1e-5, `int${bits} width ${dim}: ${maxRel(a!, b!)}`);
    }
  });

  for (const { name, backend } of realBackends) {
    test(`${name}: bad arguments are refused naming the kernel and the sizes`, () => {
      const t = table(300, 16, 4, 1);
      const call = (bits: number, dim: number, ids: Int32Array, offsets: Int32Array, out = new Float32Array((offsets.length - 1) * dim)) =>
        withBackend(backend, () => backend.quantBagMean(offsets.length - 1, dim, bits, 300, t.q, t.scaleBias, ids, offsets, out));
      assert.throws(() => call(4, 16, Int32Array.of(3, 300), Int32Array.of(0, 2)), /quantBagMean.*300.*300 rows/);
      assert.throws(() => call(4, 16, Int32Array.of(3, -1), Int32Array.of(0, 2)), /quantBagMean.*-1/);
      assert.throws(() => call(5, 16, Int32Array.of(3), Int32Array.of(0, 1)), /quantBagMean.*bits must be 8 or 4, got 5/);
      assert.throws(() => call(4, 12, Int32Array.of(3), Int32Array.of(0, 1)), /quantBagMean.*12 x 4 bits/);
      assert.throws(() => call(4, 16, Int32Array.of(3, 4), Int32Array.of(0, 2, 1)), /quantBagMean.*offsets/);
      assert.throws(() => call(4, 16, Int32Array.of(3), Int32Array.of(0, 2)), /quantBagMean.*offsets/);
      assert.throws(() => call(4, 16, Int32Array.of(3), Int32Array.of(0, 1), new Float32Array(8)), /quantBagMean.*out/);
    });
  }
});

describe('QuantTable lookups: fused kernel = the old expanded path', () => {
  for (const { name, backend } of realBackends) {
    test(name, () => {
      withBackend(backend, () => {
        for (const bits of [8, 4] as const) {
          const fused = table(2000, 64, bits, 7), old = table(2000, 64, bits, 7, true);
          const { ids, offsets } = bags(2000, 3);
          const nBags = offsets.length - 1;
          assert.ok(maxRel(fused.bagMean(ids, offsets).data, old.bagMean(ids, offsets).data) < 1e-5, `int${bits} tape lookup`);
          // Id dropout (training): the same ids are dropped on both paths.
          const drop = { dropIds: 0.3, seed: 11 };
          assert.ok(maxRel(fused.bagMean(ids, offsets, drop).data, old.bagMean(ids, offsets, drop).data) < 1e-5, `int${bits} with dropped ids`);
          const a = new Float32Array(nBags * 64), b = new Float32Array(nBags * 64);
          fused.bagMeanInto(nBags, ids, offsets, a);
          old.bagMeanInto(nBags, ids, offsets, b);
          assert.ok(maxRel(a, b) < 1e-5, `int${bits} inference lookup`);
          const wa = new Float32Array(3 * 64), wb = new Float32Array(3 * 64);
          fused.bagMeanInto(3, ids, offsets.subarray(5), wa);
          old.bagMeanInto(3, ids, offsets.subarray(5), wb);
          assert.ok(maxRel(wa, wb) < 1e-5, `int${bits} inference lookup of a window`);
          assert.ok(maxRel(fused.lookup(Int32Array.of(0, 1999, 5)).data, old.lookup(Int32Array.of(0, 1999, 5)).data) < 1e-6, `int${bits} row lookup`);
          assert.deepEqual(fused.toDense(), old.toDense());
        }
      });
    });
  }
});
