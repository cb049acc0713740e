/**
 * Tests specific to the wasm backend (kernel-by-kernel agreement with the oracle lives in
 * kernels.test.ts): worker threads (used, bit-identical to one thread, never keeping the process
 * alive), memory growth, inputs larger than one streaming chunk, sparse kernels on a big table
 * copying only the rows they touch, and loading from bytes as a browser would.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryOp, UnaryOp, hashUniform, type F32, type I32 } from '../../src/engine/backend.js';
import { loadWasm, loadWasmFromBytes, type WasmBackend } from '../../src/engine/wasm/index.js';
import { repoRoot } from '../helpers.js';
import { refBackend } from './refBackend.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randn(n: number, r: () => number): F32 {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** |a - e| <= 1e-4 * max(|e|, rms(e)) element-wise. */
function assertClose(a: ArrayLike<number>, e: ArrayLike<number>, what: string): void {
  assert.equal(a.length, e.length, `${what}: length`);
  let ss = 0;
  for (let i = 0; i < e.length; i++) ss += e[i] * e[i];
  const floor = Math.sqrt(ss / Math.max(1, e.length));
  for (let i = 0; i < e.length; i++) {
    const tol = 1e-4 * Math.max(Math.abs(e[i]), floor);
    if (!(Math.abs(a[i] - e[i]) <= tol)) assert.fail(`${what}[${i}]: got ${a[i]}, expected ${e[i]}`);
  }
}

async function threadsUp(be: WasmBackend, n: number): Promise<void> {
  be.setThreads(n);
  for (let i = 0; i < 1000 && be.usableThreads() < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(be.usableThreads(), n, `${n} threads should come up within 10 s`);
}

const be = loadWasm() as WasmBackend;

describe('wasm backend: threads', () => {
  before(() => threadsUp(be, 2));

  test('a big gemm is split across 2 threads and gives bit-identical results to 1 thread', () => {
    const r = rng(1);
    for (const [ta, tb, M, N, K, batch] of [[false, false, 130, 70, 200, 1], [true, true, 40, 300, 90, 1], [false, true, 64, 64, 64, 6]] as const) {
      const lda = ta ? M : K, ldb = tb ? K : N;
      const a = randn(batch * M * K, r), b = randn(batch * K * N, r), c0 = randn(batch * M * N, r);
      const run = (threads: number): F32 => {
        be.setThreads(threads);
        const c = c0.slice();
        be.gemm(ta, tb, M, N, K, 0.5, a, lda, M * K, b, ldb, K * N, 2, c, N, M * N, batch);
        return c;
      };
      const before = be.stats.parallelCalls;
      const two = run(2);
      assert.equal(be.stats.parallelCalls, before + 1, 'the 2-thread gemm used a worker');
      const one = run(1);
      assert.equal(be.stats.parallelCalls, before + 1, 'setThreads(1) keeps work on the calling thread');
      assert.deepEqual(two, one);
      const ref = c0.slice();
      refBackend.gemm(ta, tb, M, N, K, 0.5, a, lda, M * K, b, ldb, K * N, 2, ref, N, M * N, batch);
      assertClose(two, ref, `gemm ${ta} ${tb} ${M}x${N}x${K}x${batch}`);
    }
    be.setThreads(2);
  });

  test('gemm with a shared C (strideC 0) splits rows, never batches', () => {
    const r = rng(2);
    const M = 96, N = 80, K = 120, batch = 4;
    const a = randn(batch * M * K, r), b = randn(K * N, r);
    const c = new Float32Array(M * N), ref = new Float32Array(M * N);
    be.gemm(false, false, M, N, K, 1, a, K, M * K, b, N, 0, 1, c, N, 0, batch);
    refBackend.gemm(false, false, M, N, K, 1, a, K, M * K, b, N, 0, 1, ref, N, 0, batch);
    assertClose(c, ref, 'accumulating batched gemm');
  });

  test('gelu, its backward and adam split across threads match one thread bit for bit', () => {
    const r = rng(3);
    const n = 300_001; // not a multiple of 4, several chunks
    const x = randn(n, r), dy = randn(n, r);
    const p = randn(n, r), g = randn(n, r), m = randn(n, r), v = randn(n, r).map(Math.abs);
    const run = (threads: number) => {
      be.setThreads(threads);
      const y = new Float32Array(n), dx = new Float32Array(n).fill(1);
      be.unary(UnaryOp.Gelu, n, x, y);
      be.unaryBackward(UnaryOp.Gelu, n, x, y, dy, dx);
      const [pp, mm, vv] = [p.slice(), m.slice(), v.slice()];
      be.adam(n, pp, g, mm, vv, 1e-3, 0.9, 0.999, 1e-8, 0.01, 3);
      return { y, dx, pp, mm, vv };
    };
    const before = be.stats.parallelCalls;
    const two = run(2);
    assert.ok(be.stats.parallelCalls > before, 'element-wise work was split');
    const one = run(1);
    assert.deepEqual(two, one);
    const yr = new Float32Array(n);
    refBackend.unary(UnaryOp.Gelu, n, x, yr);
    assertClose(two.y, yr, 'gelu');
    be.setThreads(2);
  });

  test('a trap inside a worker surfaces as an error on the caller (no hang) and the pool keeps working', () => {
    const pool = (be as unknown as { pool: { run(jobs: unknown[], local: (j: { fn: string; args: number[] }) => void): void } }).pool;
    const exports = (be as unknown as { x: Record<string, (...a: number[]) => void> }).x;
    const local = (j: { fn: string; args: number[] }): void => exports[j.fn](...j.args);
    // The worker's job reads far past the end of linear memory: a wasm trap in that thread.
    const jobs = [{ fn: 'unary', args: [UnaryOp.Neg, 16, 1 << 16, 1 << 16] }, { fn: 'unary', args: [UnaryOp.Neg, 16, 0xffffff00, 1 << 16] }];
    assert.throws(() => pool.run(jobs, local), /worker/);
    const c = new Float32Array(200 * 200);
    const a = new Float32Array(200 * 200).fill(1);
    const before = be.stats.parallelCalls;
    be.gemm(false, false, 200, 200, 200, 1, a, 200, 0, a, 200, 0, 0, c, 200, 0, 1);
    assert.equal(be.stats.parallelCalls, before + 1);
    assert.equal(c[200 * 200 - 1], 200);
  });

  test('setThreads validates its argument', () => {
    assert.throws(() => be.setThreads(0), /setThreads/);
    assert.throws(() => be.setThreads(1.5), /setThreads/);
    be.setThreads(1);
    assert.equal(be.threads(), 1);
    be.setThreads(2);
    assert.equal(be.threads(), 2);
  });

  test('worker threads do not keep the process alive', () => {
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const url = new URL(`../../src/engine/wasm/index.${ext}`, import.meta.url).href;
    const code = `
      const { loadWasm } = await import(${JSON.stringify(url)});
      const be = loadWasm();
      be.setThreads(2);
      while (be.usableThreads() < 2) await new Promise((r) => setTimeout(r, 5));
      const n = 256, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
      be.gemm(false, false, n, n, n, 1, a, n, 0, a, n, 0, 0, c, n, 0, 1);
      console.log('done', be.stats.parallelCalls, c[0]);`;
    const t0 = Date.now();
    const res = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, `child failed: ${res.stderr}`);
    assert.match(res.stdout, /^done 1 256$/m);
    assert.ok(Date.now() - t0 < 30_000);
  });
});

describe('wasm backend: memory and big inputs', () => {
  test('memory grows for big operands and results stay right (with a worker on the grown memory)', async () => {
    const fresh = loadWasm() as WasmBackend;
    await threadsUp(fresh, 2);
    const start = fresh.memoryBytes();
    const M = 600, N = 500, K = 700; // ~4.7 MB of operands, more than the initial 4 MiB
    const r = rng(4);
    const a = randn(M * K, r), b = randn(K * N, r), c = new Float32Array(M * N), ref = new Float32Array(M * N);
    fresh.gemm(false, true, M, N, K, 1, a, K, 0, b, K, 0, 0, c, N, 0, 1);
    assert.ok(fresh.memoryBytes() > start, `memory grew (${start} -> ${fresh.memoryBytes()})`);
    refBackend.gemm(false, true, M, N, K, 1, a, K, 0, b, K, 0, 0, ref, N, 0, 1);
    assertClose(c, ref, 'gemm after growth');
    // A second call after growth reuses the arena.
    const grown = fresh.memoryBytes();
    fresh.gemm(false, true, M, N, K, 1, a, K, 0, b, K, 0, 0, c, N, 0, 1);
    assert.equal(fresh.memoryBytes(), grown);
    assertClose(c, ref, 'gemm again');
  });

  test('element-wise kernels stream inputs larger than one chunk', () => {
    const r = rng(5);
    // binary with broadcasting over a big outer dimension
    const R = 3001, C = 37;
    const a = randn(R * C, r), bias = randn(C, r);
    const out = new Float32Array(R * C), outRef = new Float32Array(R * C);
    const shape = Int32Array.from([R, C]);
    be.binary(BinaryOp.Mul, shape, a, Int32Array.from([C, 1]), bias, Int32Array.from([0, 1]), out, false);
    refBackend.binary(BinaryOp.Mul, shape, a, Int32Array.from([C, 1]), bias, Int32Array.from([0, 1]), outRef, false);
    assertClose(out, outRef, 'binary broadcast');
    // transpose (materialise a permuted view) and a column-sum reduction, both big
    const t = new Float32Array(R * C), tRef = new Float32Array(R * C);
    be.copyStrided(shape, a, Int32Array.from([C, 1]), t, Int32Array.from([1, R]), 1, false);
    refBackend.copyStrided(shape, a, Int32Array.from([C, 1]), tRef, Int32Array.from([1, R]), 1, false);
    assert.deepEqual(t, tRef);
    const colSum = new Float32Array(C).fill(1), colSumRef = new Float32Array(C).fill(1);
    be.copyStrided(shape, a, Int32Array.from([C, 1]), colSum, Int32Array.from([0, 1]), 2, true);
    refBackend.copyStrided(shape, a, Int32Array.from([C, 1]), colSumRef, Int32Array.from([0, 1]), 2, true);
    assertClose(colSum, colSumRef, 'column sums');
    // row kernels over many rows
    const y = new Float32Array(R * C), yRef = new Float32Array(R * C);
    be.softmax(R, C, a, y);
    refBackend.softmax(R, C, a, yRef);
    assertClose(y, yRef, 'softmax');
    const gamma = randn(C, r), beta = randn(C, r);
    const mean = new Float32Array(R), rstd = new Float32Array(R), meanRef = new Float32Array(R), rstdRef = new Float32Array(R);
    be.layerNorm(R, C, a, gamma, beta, 1e-5, y, mean, rstd);
    refBackend.layerNorm(R, C, a, gamma, beta, 1e-5, yRef, meanRef, rstdRef);
    assertClose(y, yRef, 'layerNorm');
    const dy = randn(R * C, r);
    const dg = new Float32Array(C), dgRef = new Float32Array(C), db = new Float32Array(C), dbRef = new Float32Array(C);
    be.layerNormBackward(R, C, a, gamma, mean, rstd, dy, null, dg, db);
    refBackend.layerNormBackward(R, C, a, gamma, meanRef, rstdRef, dy, null, dgRef, dbRef);
    assertClose(dg, dgRef, 'dgamma accumulated over chunks');
    assertClose(db, dbRef, 'dbeta accumulated over chunks');
    // reductions
    const big = randn(1_000_003, r);
    assert.ok(Math.abs(be.sum(big.length, big) - refBackend.sum(big.length, big)) < 1e-6 * big.length);
    assert.ok(Math.abs(be.sumSquares(big.length, big) / refBackend.sumSquares(big.length, big) - 1) < 1e-9);
    big[999_999] = NaN;
    assert.equal(be.allFinite(big.length, big), false);
  });

  test('dropout masks stay exactly hashUniform across chunk boundaries', () => {
    const n = 100_003, p = 0.3, seed = 0xdeadbeef;
    const x = new Float32Array(n).fill(2), y = new Float32Array(n), mask = new Float32Array(n);
    be.dropout(n, p, seed, x, y, mask);
    const keep = Math.fround(1 / (1 - p));
    for (let i = 0; i < n; i++) {
      const want = hashUniform(seed, i) >= p ? keep : 0;
      if (mask[i] !== want) assert.fail(`mask[${i}] = ${mask[i]}, expected ${want}`);
    }
    assert.equal(y[n - 1], 2 * mask[n - 1]);
  });

  test('sparse kernels on a big table copy only the rows they touch', () => {
    const fresh = loadWasm() as WasmBackend;
    fresh.setThreads(1);
    const rows = 120_000, dim = 64; // a 30 MB table, about 8x the wasm memory we start with
    const r = rng(6);
    const table = randn(rows * dim, r);
    const nIds = 500;
    const ids = new Int32Array(nIds).map(() => Math.floor(r() * rows));
    ids[7] = ids[3]; // a duplicate
    const offsets = Int32Array.from([0, 100, 100, 350, 500]); // includes an empty bag
    const out = new Float32Array(4 * dim), outRef = new Float32Array(4 * dim);
    fresh.embeddingBagMean(4, dim, rows, table, ids, offsets, out);
    refBackend.embeddingBagMean(4, dim, rows, table, ids, offsets, outRef);
    assertClose(out, outRef, 'embeddingBagMean');

    const src = randn(nIds * dim, r);
    const dst = table.slice(), dstRef = table.slice();
    fresh.indexAdd(nIds, dim, src, ids, -0.5, dst);
    refBackend.indexAdd(nIds, dim, src, ids, -0.5, dstRef);
    assertClose(dst, dstRef, 'indexAdd');

    const uniq = Int32Array.from(new Set(ids));
    const grad = randn(uniq.length * dim, r);
    const [p, m, v] = [table.slice(), new Float32Array(rows * dim), new Float32Array(rows * dim)];
    const [pr, mr, vr] = [p.slice(), m.slice(), v.slice()];
    fresh.adamRows(uniq.length, dim, uniq, grad, p, m, v, 1e-2, 0.9, 0.999, 1e-8, 0.01, 1);
    refBackend.adamRows(uniq.length, dim, uniq, grad, pr, mr, vr, 1e-2, 0.9, 0.999, 1e-8, 0.01, 1);
    assertClose(p, pr, 'adamRows p');
    assertClose(v, vr, 'adamRows v');

    const bytes = table.byteLength;
    assert.ok(fresh.memoryBytes() < bytes / 4, `wasm memory ${fresh.memoryBytes()} stays far below the table's ${bytes} bytes`);
    assert.throws(() => fresh.embeddingBagMean(1, dim, rows, table, Int32Array.from([rows]), Int32Array.from([0, 1]), out), new RegExp(`embeddingBagMean.*${rows}.*${rows} rows`));
  });
});

describe('wasm backend: loading', () => {
  for (const file of ['kernels.wasm', 'kernels-single.wasm']) {
    test(`loadWasmFromBytes(${file}) works as it would in a browser`, async () => {
      const bytes = readFileSync(join(repoRoot, 'build', 'wasm', file));
      const b = await loadWasmFromBytes(bytes, { threads: 1 });
      assert.equal(b.name, 'wasm');
      const r = rng(7);
      const a = randn(20 * 30, r), w = randn(30 * 10, r);
      const c = new Float32Array(200), ref = new Float32Array(200);
      b.gemm(false, false, 20, 10, 30, 1, a, 30, 0, w, 10, 0, 0, c, 10, 0, 1);
      refBackend.gemm(false, false, 20, 10, 30, 1, a, 30, 0, w, 10, 0, 0, ref, 10, 0, 1);
      assertClose(c, ref, file);
      const ids: I32 = Int32Array.from([1, 0]);
      assert.throws(() => b.gather(2, 10, 2, w, Int32Array.from([2]), new Float32Array(20)), /gather/);
      b.gather(2, 10, 3, w, ids, c);
      assert.deepEqual(c.subarray(0, 10), w.subarray(10, 20));
    });
  }
});
