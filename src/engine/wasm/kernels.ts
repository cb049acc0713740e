/**
 * The portable Backend: every kernel copies its inputs into the wasm arena (memcpy), runs a SIMD
 * kernel from assembly/, and copies results back. Browser-safe: no node: imports; threads come
 * from the ThreadPool it is given (Node workers, or none).
 *
 * Large element-wise work is processed in chunks of CHUNK floats per buffer, so the arena stays
 * small and each chunk's copy-in, compute and copy-out happen while it is still in cache. Sparse
 * kernels on embedding tables copy only the rows they touch.
 */
import { BinaryOp, MAX_DIMS, UnaryOp, type Backend, type F32, type I32, type InferKernels } from '../backend.js';
import { OpError } from '../../errors.js';
import { Arena } from './arena.js';
import type { KernelExports } from './exports.js';
import type { Job, ThreadPool } from './pool.js';
import { wasmInferKernels } from './infer.js';

export interface WasmBackendOptions {
  /** Threads to use by default (the calling thread plus workers from the pool). */
  threads: number;
}

/** Floats per buffer per chunk for streaming element-wise kernels. */
const CHUNK = 1 << 15;
/** Bigger chunks when a chunk is split across threads, so the hand-off cost is amortised. */
const PAR_CHUNK = 1 << 17;
/** Below these sizes one thread is faster than waking a worker. */
const GEMM_PAR_FLOPS = 1 << 21;
const UNARY_PAR_MIN = 1 << 15;
const ADAM_PAR_MIN = 1 << 16;
/** gemm blocking from assembly/gemm.ts: thread splits of M and N keep to these multiples. */
const MR = 4;
const NR = 8;
/** Ops whose cost is dominated by arithmetic, worth splitting across threads. */
const HEAVY_UNARY = new Set<number>([UnaryOp.Tanh, UnaryOp.Gelu, UnaryOp.Exp, UnaryOp.Log, UnaryOp.Sigmoid]);
/** unaryBackward: ops whose derivative reads x, and those that read y. */
const GRAD_USES_X = new Set<number>([UnaryOp.Relu, UnaryOp.Gelu, UnaryOp.Log, UnaryOp.Square, UnaryOp.Abs]);
const GRAD_USES_Y = new Set<number>([UnaryOp.Tanh, UnaryOp.Exp, UnaryOp.Sqrt, UnaryOp.Sigmoid]);

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  /** Kernel calls that were split across threads (for tests and benchmarks). */
  readonly stats = { parallelCalls: 0 };
  private nThreads: number;
  private readonly arena: Arena;
  private readonly scratchFloats: number;
  /** The fused inference kernels (infer.ts): the no-tape forward path and int8. */
  readonly infer: InferKernels;

  constructor(
    private readonly x: KernelExports,
    memory: WebAssembly.Memory,
    private readonly pool: ThreadPool,
    options: WasmBackendOptions,
  ) {
    this.arena = new Arena(memory, (x.heapBase() + 63) & ~63);
    this.scratchFloats = Math.ceil(x.gemmScratchBytes() / 4);
    this.nThreads = 1;
    this.setThreads(options.threads);
    this.infer = wasmInferKernels({ x, arena: this.arena, run: (jobs) => this.runJobs(jobs), threads: () => this.usableThreads() });
  }

  threads(): number {
    return this.nThreads;
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new OpError('setThreads', `expected an integer in [1, 64], got ${n}`);
    this.nThreads = n;
  }

  /** Bytes of wasm linear memory currently reserved (grows on demand, never shrinks). */
  memoryBytes(): number {
    return this.arena.memory.buffer.byteLength;
  }

  /**
   * Threads a kernel may use now: those asked for, limited to workers that are up. Workers are
   * started here, on the first call that could use them, and boot in the background: until they
   * report ready, kernels simply run on the calling thread.
   */
  usableThreads(): number {
    if (this.nThreads <= 1) return 1;
    this.pool.ensureWorkers(this.nThreads - 1);
    return Math.min(this.nThreads, 1 + this.pool.readyWorkers());
  }

  private runJobs(jobs: Job[]): void {
    const call = (j: Job): void => (this.x[j.fn] as (...a: number[]) => void)(...j.args);
    if (jobs.length === 1) {
      call(jobs[0]);
    } else {
      this.stats.parallelCalls++;
      this.pool.run(jobs, call);
    }
  }

  // ---------------------------------------------------------------- matrix products

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: F32, lda: number, strideA: number,
    b: F32, ldb: number, strideB: number,
    beta: number, c: F32, ldc: number, strideC: number,
    batch: number,
  ): void {
    const k = 'gemm';
    counts(k, { M, N, K, batch, lda, ldb, ldc, strideA, strideB, strideC });
    const aRows = transA ? K : M, aCols = transA ? M : K;
    const bRows = transB ? N : K, bCols = transB ? K : N;
    if (lda < Math.max(1, aCols)) throw new OpError(k, `lda ${lda} < ${aCols} (op(A) is ${M}x${K}${transA ? ', transposed' : ''})`);
    if (ldb < Math.max(1, bCols)) throw new OpError(k, `ldb ${ldb} < ${bCols} (op(B) is ${K}x${N}${transB ? ', transposed' : ''})`);
    if (ldc < Math.max(1, N)) throw new OpError(k, `ldc ${ldc} < N = ${N}`);
    if (M === 0 || N === 0 || batch === 0) return;
    const spanA = K === 0 ? 0 : span(batch, strideA, aRows, aCols, lda);
    const spanB = K === 0 ? 0 : span(batch, strideB, bRows, bCols, ldb);
    const spanC = span(batch, strideC, M, N, ldc);
    floats(k, 'a', a, spanA, `${batch} x (${aRows}x${aCols}, lda ${lda}, stride ${strideA})`);
    floats(k, 'b', b, spanB, `${batch} x (${bRows}x${bCols}, ldb ${ldb}, stride ${strideB})`);
    floats(k, 'c', c, spanC, `${batch} x (${M}x${N}, ldc ${ldc}, stride ${strideC})`);

    const jobs = this.gemmSplit(M, N, K, batch, strideC);
    const ar = this.arena;
    ar.reset();
    const pa = ar.alloc(spanA), pb = ar.alloc(spanB), pc = ar.alloc(spanC);
    const scratch = jobs.map(() => ar.alloc(this.scratchFloats));
    ar.commit(k);
    ar.put(pa, a, spanA);
    ar.put(pb, b, spanB);
    // beta == 0 ignores C, but gaps between C's rows/batches must survive the copy back.
    const cDense = ldc === N && (batch === 1 || strideC === M * N);
    if (beta !== 0 || !cDense) ar.put(pc, c, spanC);
    this.runJobs(jobs.map(([b0, b1, m0, m1, n0, n1], i) => ({
      fn: 'gemm',
      args: [
        transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, pa, lda, strideA, pb, ldb, strideB,
        beta, pc, ldc, strideC, b0, b1, m0, m1, n0, n1, scratch[i],
      ],
    })));
    ar.get(pc, c, spanC);
  }

  /** Splits a gemm into per-thread [b0, b1, m0, m1, n0, n1] ranges (one range when small). */
  private gemmSplit(M: number, N: number, K: number, batch: number, strideC: number): number[][] {
    const t = 2 * M * N * K * batch >= GEMM_PAR_FLOPS ? this.usableThreads() : 1;
    if (t === 1) return [[0, batch, 0, M, 0, N]];
    // Batches are independent unless they all write the same C (strideC 0).
    if (batch >= t && strideC !== 0) return splitRange(batch, t, 1).map(([lo, hi]) => [lo, hi, 0, M, 0, N]);
    if (M >= N) return splitRange(M, t, MR).map(([lo, hi]) => [0, batch, lo, hi, 0, N]);
    return splitRange(N, t, NR).map(([lo, hi]) => [0, batch, 0, M, lo, hi]);
  }

  // ---------------------------------------------------------------- element-wise

  binary(op: BinaryOp, shape: I32, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, accumulate: boolean): void {
    const k = 'binary';
    if (!(op >= 0 && op <= 3 && Number.isInteger(op))) throw new OpError(k, `unknown op ${op}`);
    ints(k, 'shape', shape, 0);
    ints(k, 'aStrides', aStrides, shape.length);
    ints(k, 'bStrides', bStrides, shape.length);
    const st = mergeDims(k, shape, [aStrides, bStrides, contiguousStrides(shape)]);
    if (st.numel === 0) return;
    floats(k, 'a', a, extent(st, 0), `shape [${[...shape]}], strides [${[...aStrides.subarray(0, shape.length)]}]`);
    floats(k, 'b', b, extent(st, 1), `shape [${[...shape]}], strides [${[...bStrides.subarray(0, shape.length)]}]`);
    floats(k, 'out', out, st.numel, `shape [${[...shape]}]`);
    const ar = this.arena;
    forChunks(st, (rows, offs, exts) => {
      ar.reset();
      const pd = ar.alloc(18), pa = ar.alloc(exts[0]), pb = ar.alloc(exts[1]), po = ar.alloc(exts[2]);
      ar.commit(k);
      writeDims(ar, pd, st, rows, 0, 1);
      ar.put(pa, a.subarray(offs[0]), exts[0]);
      ar.put(pb, b.subarray(offs[1]), exts[1]);
      if (accumulate) ar.put(po, out.subarray(offs[2]), exts[2]);
      this.x.binary(op, pd, pa, pb, po, accumulate ? 1 : 0);
      ar.get(po, out.subarray(offs[2]), exts[2]);
    });
  }

  copyStrided(shape: I32, src: F32, srcStrides: I32, dst: F32, dstStrides: I32, alpha: number, accumulate: boolean): void {
    const k = 'copyStrided';
    ints(k, 'shape', shape, 0);
    ints(k, 'srcStrides', srcStrides, shape.length);
    ints(k, 'dstStrides', dstStrides, shape.length);
    const st = mergeDims(k, shape, [srcStrides, dstStrides]);
    if (st.numel === 0) return;
    floats(k, 'src', src, extent(st, 0), `shape [${[...shape]}], strides [${[...srcStrides.subarray(0, shape.length)]}]`);
    floats(k, 'dst', dst, extent(st, 1), `shape [${[...shape]}], strides [${[...dstStrides.subarray(0, shape.length)]}]`);
    // A dst that the copy covers densely need not be copied in when overwriting.
    const dense = isContiguous(st.dims, st.strides[1]);
    const ar = this.arena;
    forChunks(st, (rows, offs, exts) => {
      ar.reset();
      const pd = ar.alloc(18), ps = ar.alloc(exts[0]), pt = ar.alloc(exts[1]);
      ar.commit(k);
      writeDims(ar, pd, st, rows, 0, 1);
      ar.put(ps, src.subarray(offs[0]), exts[0]);
      if (accumulate || !dense) ar.put(pt, dst.subarray(offs[1]), exts[1]);
      this.x.copyStrided(pd, ps, pt, alpha, accumulate ? 1 : 0);
      ar.get(pt, dst.subarray(offs[1]), exts[1]);
    });
  }

  unary(op: UnaryOp, n: number, x: F32, y: F32): void {
    const k = 'unary';
    unaryOpCheck(k, op);
    counts(k, { n });
    floats(k, 'x', x, n);
    floats(k, 'y', y, n);
    const par = HEAVY_UNARY.has(op) && n >= UNARY_PAR_MIN ? this.usableThreads() : 1;
    const ar = this.arena;
    streamChunks(n, par > 1 ? PAR_CHUNK : CHUNK, (off, cnt) => {
      ar.reset();
      const px = ar.alloc(cnt), py = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      this.runJobs(splitRange(cnt, par, 16).map(([lo, hi]) => ({ fn: 'unary', args: [op, hi - lo, px + lo * 4, py + lo * 4] })));
      ar.get(py, y.subarray(off), cnt);
    });
  }

  unaryBackward(op: UnaryOp, n: number, x: F32, y: F32, dy: F32, dx: F32): void {
    const k = 'unaryBackward';
    unaryOpCheck(k, op);
    counts(k, { n });
    const useX = GRAD_USES_X.has(op), useY = GRAD_USES_Y.has(op);
    if (useX) floats(k, 'x', x, n);
    if (useY) floats(k, 'y', y, n);
    floats(k, 'dy', dy, n);
    floats(k, 'dx', dx, n);
    const par = n >= UNARY_PAR_MIN && op === UnaryOp.Gelu ? this.usableThreads() : 1;
    const ar = this.arena;
    streamChunks(n, par > 1 ? PAR_CHUNK : CHUNK, (off, cnt) => {
      ar.reset();
      const pdy = ar.alloc(cnt), pdx = ar.alloc(cnt);
      const px = useX ? ar.alloc(cnt) : pdy, py = useY ? ar.alloc(cnt) : pdy;
      ar.commit(k);
      ar.put(pdy, dy.subarray(off), cnt);
      ar.put(pdx, dx.subarray(off), cnt);
      if (useX) ar.put(px, x.subarray(off), cnt);
      if (useY) ar.put(py, y.subarray(off), cnt);
      this.runJobs(splitRange(cnt, par, 16).map(([lo, hi]) => ({
        fn: 'unaryBackward', args: [op, hi - lo, px + lo * 4, py + lo * 4, pdy + lo * 4, pdx + lo * 4],
      })));
      ar.get(pdx, dx.subarray(off), cnt);
    });
  }

  axpby(n: number, alpha: number, x: F32, beta: number, y: F32): void {
    const k = 'axpby';
    counts(k, { n });
    floats(k, 'x', x, n);
    floats(k, 'y', y, n);
    if (alpha === 1 && beta === 0) {
      y.set(x.subarray(0, n));
      return;
    }
    const ar = this.arena;
    streamChunks(n, CHUNK, (off, cnt) => {
      ar.reset();
      const px = ar.alloc(cnt), py = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      if (beta !== 0) ar.put(py, y.subarray(off), cnt);
      this.x.axpby(cnt, alpha, px, beta, py);
      ar.get(py, y.subarray(off), cnt);
    });
  }

  fill(n: number, value: number, x: F32): void {
    counts('fill', { n });
    floats('fill', 'x', x, n);
    x.fill(value, 0, n);
  }

  // ---------------------------------------------------------------- reductions

  sum(n: number, x: F32): number {
    return this.reduce('sum', n, x);
  }

  dot(n: number, x: F32, y: F32): number {
    const k = 'dot';
    counts(k, { n });
    floats(k, 'x', x, n);
    floats(k, 'y', y, n);
    const ar = this.arena;
    let total = 0;
    streamChunks(n, CHUNK, (off, cnt) => {
      ar.reset();
      const px = ar.alloc(cnt), py = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      ar.put(py, y.subarray(off), cnt);
      ar.padZero(px, cnt);
      ar.padZero(py, cnt);
      total += this.x.dot(cnt, px, py);
    });
    return total;
  }

  sumSquares(n: number, x: F32): number {
    return this.reduce('sumSquares', n, x);
  }

  allFinite(n: number, x: F32): boolean {
    const k = 'allFinite';
    counts(k, { n });
    floats(k, 'x', x, n);
    const ar = this.arena;
    for (let off = 0; off < n; off += CHUNK) {
      const cnt = Math.min(CHUNK, n - off);
      ar.reset();
      const px = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      ar.padZero(px, cnt);
      if (this.x.allFinite(cnt, px) === 0) return false;
    }
    return true;
  }

  private reduce(k: 'sum' | 'sumSquares', n: number, x: F32): number {
    counts(k, { n });
    floats(k, 'x', x, n);
    const ar = this.arena;
    let total = 0;
    streamChunks(n, CHUNK, (off, cnt) => {
      ar.reset();
      const px = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      ar.padZero(px, cnt);
      total += this.x[k](cnt, px);
    });
    return total;
  }

  // ---------------------------------------------------------------- row-wise

  softmax(rows: number, cols: number, x: F32, y: F32): void {
    this.rowsForward('softmax', rows, cols, x, y);
  }

  logSoftmax(rows: number, cols: number, x: F32, y: F32): void {
    this.rowsForward('logSoftmax', rows, cols, x, y);
  }

  softmaxBackward(rows: number, cols: number, y: F32, dy: F32, dx: F32): void {
    this.rowsBackward('softmaxBackward', rows, cols, y, dy, dx);
  }

  logSoftmaxBackward(rows: number, cols: number, y: F32, dy: F32, dx: F32): void {
    this.rowsBackward('logSoftmaxBackward', rows, cols, y, dy, dx);
  }

  private rowsForward(k: 'softmax' | 'logSoftmax', rows: number, cols: number, x: F32, y: F32): void {
    counts(k, { rows, cols });
    floats(k, 'x', x, rows * cols);
    floats(k, 'y', y, rows * cols);
    const ar = this.arena;
    streamChunks(rows, rowsPerChunk(cols), (r0, nr) => {
      const n = nr * cols, off = r0 * cols;
      ar.reset();
      const px = ar.alloc(n), py = ar.alloc(n);
      ar.commit(k);
      ar.put(px, x.subarray(off), n);
      this.x[k](nr, cols, px, py);
      ar.get(py, y.subarray(off), n);
    });
  }

  private rowsBackward(k: 'softmaxBackward' | 'logSoftmaxBackward', rows: number, cols: number, y: F32, dy: F32, dx: F32): void {
    counts(k, { rows, cols });
    for (const [name, arr] of [['y', y], ['dy', dy], ['dx', dx]] as const) floats(k, name, arr, rows * cols);
    const ar = this.arena;
    streamChunks(rows, rowsPerChunk(cols), (r0, nr) => {
      const n = nr * cols, off = r0 * cols;
      ar.reset();
      const py = ar.alloc(n), pdy = ar.alloc(n), pdx = ar.alloc(n);
      ar.commit(k);
      ar.put(py, y.subarray(off), n);
      ar.put(pdy, dy.subarray(off), n);
      ar.put(pdx, dx.subarray(off), n);
      this.x[k](nr, cols, py, pdy, pdx);
      ar.get(pdx, dx.subarray(off), n);
    });
  }

  layerNorm(rows: number, cols: number, x: F32, gamma: F32, beta: F32, eps: number, y: F32, mean: F32, rstd: F32): void {
    const k = 'layerNorm';
    counts(k, { rows, cols });
    floats(k, 'x', x, rows * cols);
    floats(k, 'gamma', gamma, cols);
    floats(k, 'beta', beta, cols);
    floats(k, 'y', y, rows * cols);
    floats(k, 'mean', mean, rows);
    floats(k, 'rstd', rstd, rows);
    if (rows === 0 || cols === 0) return;
    const ar = this.arena;
    ar.reset();
    const pg = ar.alloc(cols), pb = ar.alloc(cols);
    ar.commit(k);
    ar.put(pg, gamma, cols);
    ar.put(pb, beta, cols);
    const mark = ar.mark();
    streamChunks(rows, rowsPerChunk(cols), (r0, nr) => {
      const n = nr * cols, off = r0 * cols;
      ar.release(mark);
      const px = ar.alloc(n), py = ar.alloc(n), pm = ar.alloc(nr), pr = ar.alloc(nr);
      ar.commit(k);
      ar.put(px, x.subarray(off), n);
      this.x.layerNorm(nr, cols, px, pg, pb, eps, py, pm, pr);
      ar.get(py, y.subarray(off), n);
      ar.get(pm, mean.subarray(r0), nr);
      ar.get(pr, rstd.subarray(r0), nr);
    });
  }

  layerNormBackward(
    rows: number, cols: number, x: F32, gamma: F32, mean: F32, rstd: F32, dy: F32,
    dx: F32 | null, dgamma: F32 | null, dbeta: F32 | null,
  ): void {
    const k = 'layerNormBackward';
    counts(k, { rows, cols });
    if (!dx && !dgamma && !dbeta) return;
    floats(k, 'x', x, rows * cols);
    floats(k, 'gamma', gamma, cols);
    floats(k, 'mean', mean, rows);
    floats(k, 'rstd', rstd, rows);
    floats(k, 'dy', dy, rows * cols);
    if (dx) floats(k, 'dx', dx, rows * cols);
    if (dgamma) floats(k, 'dgamma', dgamma, cols);
    if (dbeta) floats(k, 'dbeta', dbeta, cols);
    if (rows === 0 || cols === 0) return;
    const ar = this.arena;
    ar.reset();
    const pg = ar.alloc(cols), pdg = dgamma ? ar.alloc(cols) : 0, pdb = dbeta ? ar.alloc(cols) : 0;
    ar.commit(k);
    ar.put(pg, gamma, cols);
    if (dgamma) ar.put(pdg, dgamma, cols);
    if (dbeta) ar.put(pdb, dbeta, cols);
    const mark = ar.mark();
    streamChunks(rows, rowsPerChunk(cols), (r0, nr) => {
      const n = nr * cols, off = r0 * cols;
      ar.release(mark);
      const px = ar.alloc(n), pdy = ar.alloc(n), pm = ar.alloc(nr), pr = ar.alloc(nr);
      const pdx = dx ? ar.alloc(n) : 0;
      ar.commit(k);
      ar.put(px, x.subarray(off), n);
      ar.put(pdy, dy.subarray(off), n);
      ar.put(pm, mean.subarray(r0), nr);
      ar.put(pr, rstd.subarray(r0), nr);
      if (dx) ar.put(pdx, dx.subarray(off), n);
      this.x.layerNormBackward(nr, cols, px, pg, pm, pr, pdy, pdx, pdg, pdb);
      if (dx) ar.get(pdx, dx.subarray(off), n);
    });
    if (dgamma) ar.get(pdg, dgamma, cols);
    if (dbeta) ar.get(pdb, dbeta, cols);
  }

  // ---------------------------------------------------------------- embeddings (sparse)

  gather(n: number, dim: number, rows: number, table: F32, ids: I32, out: F32): void {
    const k = 'gather';
    counts(k, { n, dim, rows });
    ints(k, 'ids', ids, n);
    floats(k, 'table', table, rows * dim, `${rows} rows x ${dim}`);
    floats(k, 'out', out, n * dim);
    this.checkIdsIn(k, ids, 0, n, rows, 'rows');
    // The kernel is a row memcpy: copying rows straight from the table beats a trip through wasm.
    for (let i = 0; i < n; i++) {
      const r = ids[i] * dim;
      out.set(table.subarray(r, r + dim), i * dim);
    }
  }

  indexAdd(n: number, dim: number, src: F32, idx: I32, alpha: number, dst: F32): void {
    const k = 'indexAdd';
    counts(k, { n, dim });
    ints(k, 'idx', idx, n);
    floats(k, 'src', src, n * dim);
    floats(k, 'dst', dst, 0);
    if (n === 0 || dim === 0) return;
    const dstRows = Math.floor(dst.length / dim);
    const ar = this.arena;
    ar.reset();
    const pidx = ar.alloc(n), psrc = ar.alloc(n * dim);
    ar.commit(k);
    ar.putI32(pidx, idx, n);
    this.failOnBadId(k, idx, pidx, n, dstRows, 'rows in dst');
    ar.put(psrc, src, n * dim);
    const top = this.x.maxI32(pidx, n) + 1;
    if (top * dim <= Math.max(2 * n * dim, 1 << 16)) {
      // dst rows [0, top) are few enough to copy whole.
      const pdst = ar.alloc(top * dim);
      ar.commit(k);
      ar.put(pdst, dst, top * dim);
      this.x.indexAdd(n, dim, psrc, pidx, alpha, pdst);
      ar.get(pdst, dst, top * dim);
      return;
    }
    // A big table: coalesce ids and copy only the distinct rows touched.
    const cap = 2 ** Math.ceil(Math.log2(2 * n + 1));
    const pslot = ar.alloc(n), puniq = ar.alloc(n), ptab = ar.alloc(cap);
    ar.commit(k);
    const nu = this.x.uniqueIds(pidx, n, pslot, puniq, ptab, cap);
    const prows = ar.alloc(nu * dim);
    ar.commit(k);
    const uniq = ar.i32.slice(puniq >>> 2, (puniq >>> 2) + nu);
    this.copyRowsIn(prows, dst, uniq, nu, dim);
    this.x.indexAdd(n, dim, psrc, pslot, alpha, prows);
    this.copyRowsOut(prows, dst, uniq, nu, dim);
  }

  embeddingBagMean(nBags: number, dim: number, rows: number, table: F32, ids: I32, offsets: I32, out: F32): void {
    const k = 'embeddingBagMean';
    counts(k, { nBags, dim, rows });
    ints(k, 'offsets', offsets, nBags + 1);
    floats(k, 'out', out, nBags * dim);
    floats(k, 'table', table, rows * dim, `${rows} rows x ${dim}`);
    ints(k, 'ids', ids, 0);
    if (nBags === 0 || dim === 0) return;
    this.checkOffsetsIn(k, nBags, offsets, ids.length);
    const ar = this.arena;
    forBagChunks(nBags, offsets, dim, (b0, b1) => {
      const lo = offsets[b0], cnt = offsets[b1] - lo, nb = b1 - b0;
      ar.reset();
      const poff = ar.alloc(nb + 1), pids = ar.alloc(cnt), prows = ar.alloc(cnt * dim), pout = ar.alloc(nb * dim);
      ar.commit(k);
      ar.putI32(poff, offsets.subarray(b0), nb + 1);
      ar.putI32(pids, ids.subarray(lo), cnt);
      this.failOnBadId(k, ids.subarray(lo), pids, cnt, rows, 'rows', lo);
      this.copyRowsIn(prows, table, ids.subarray(lo), cnt, dim);
      this.x.embeddingBagMean(nb, dim, prows, poff, pout);
      ar.get(pout, out.subarray(b0 * dim), nb * dim);
    });
  }

  dequantGather(n: number, dim: number, bits: number, rows: number, q: I32, scaleBias: F32, ids: I32, out: F32): void {
    const k = 'dequantGather';
    counts(k, { n, dim, rows });
    if (bits !== 8 && bits !== 4) throw new OpError(k, `bits must be 8 or 4, got ${bits}`);
    if ((dim * bits) % 32 !== 0) throw new OpError(k, `dim ${dim} x ${bits} bits is not a whole number of 32-bit words`);
    const words = (dim * bits) / 32;
    ints(k, 'ids', ids, n);
    ints(k, 'q', q, rows * words, `${rows} rows x ${words} words`);
    floats(k, 'scaleBias', scaleBias, rows * 2);
    floats(k, 'out', out, n * dim);
    if (n === 0 || dim === 0) return;
    this.checkIdsIn(k, ids, 0, n, rows, 'rows');
    // Chunks of ids small enough for the arena; code rows and scale/bias pairs are copied in per id.
    const CH = Math.max(1, Math.floor((1 << 20) / dim));
    const ar = this.arena;
    for (let i0 = 0; i0 < n; i0 += CH) {
      const m = Math.min(CH, n - i0);
      ar.reset();
      const pq = ar.alloc(m * words), psb = ar.alloc(m * 2), pout = ar.alloc(m * dim);
      ar.commit(k);
      const i32 = ar.i32, f = ar.f32;
      for (let i = 0; i < m; i++) {
        const id = ids[i0 + i];
        i32.set(q.subarray(id * words, (id + 1) * words), (pq >>> 2) + i * words);
        f[(psb >>> 2) + 2 * i] = scaleBias[2 * id];
        f[(psb >>> 2) + 2 * i + 1] = scaleBias[2 * id + 1];
      }
      this.x.dequantRows(m, dim, bits, pq, psb, pout);
      ar.get(pout, out.subarray(i0 * dim), m * dim);
    }
  }

  quantBagMean(nBags: number, dim: number, bits: number, rows: number, q: I32, scaleBias: F32, ids: I32, offsets: I32, out: F32): void {
    const k = 'quantBagMean';
    counts(k, { nBags, dim, rows });
    if (bits !== 8 && bits !== 4) throw new OpError(k, `bits must be 8 or 4, got ${bits}`);
    if ((dim * bits) % 32 !== 0) throw new OpError(k, `dim ${dim} x ${bits} bits is not a whole number of 32-bit words`);
    const words = (dim * bits) / 32;
    ints(k, 'q', q, rows * words, `${rows} rows x ${words} words`);
    floats(k, 'scaleBias', scaleBias, rows * 2);
    ints(k, 'offsets', offsets, nBags + 1);
    ints(k, 'ids', ids, 0);
    floats(k, 'out', out, nBags * dim);
    if (nBags === 0 || dim === 0) return;
    this.checkOffsetsIn(k, nBags, offsets, ids.length);
    this.checkIdsIn(k, ids, offsets[0], offsets[nBags] - offsets[0], rows, 'rows');
    const ar = this.arena;
    // Each occurrence's code row (dim*bits/32 words, 8x smaller than its floats for int4) and its
    // scale/bias pair are copied in; the kernel sums them into the bag means.
    forBagChunks(nBags, offsets, dim, (b0, b1) => {
      const lo = offsets[b0], cnt = offsets[b1] - lo, nb = b1 - b0;
      ar.reset();
      const poff = ar.alloc(nb + 1), pq = ar.alloc(cnt * words), psb = ar.alloc(cnt * 2), pacc = ar.alloc(dim), pout = ar.alloc(nb * dim);
      ar.commit(k);
      ar.putI32(poff, offsets.subarray(b0), nb + 1);
      const i32 = ar.i32, f = ar.f32, q0 = pq >>> 2, s0 = psb >>> 2;
      for (let i = 0; i < cnt; i++) {
        const id = ids[lo + i];
        i32.set(q.subarray(id * words, (id + 1) * words), q0 + i * words);
        f[s0 + 2 * i] = scaleBias[2 * id];
        f[s0 + 2 * i + 1] = scaleBias[2 * id + 1];
      }
      this.x.quantBagMean(nb, dim, bits, pq, psb, poff, pacc, pout);
      ar.get(pout, out.subarray(b0 * dim), nb * dim);
    });
  }

  codesBagMean(
    kind: number, nBags: number, dim: number, rows: number, books: number, words: number,
    codes: Uint8Array, codebooks: F32, rowScale: F32 | null, ids: I32, offsets: I32, out: F32,
  ): void {
    const k = 'codesBagMean';
    const sub = this.codesArgs(k, kind, nBags, dim, rows, books, words, codes, rowScale, ids, offsets);
    floats(k, 'codebooks', codebooks, books * words * sub, `${books} x ${words} codewords of ${sub}`);
    floats(k, 'out', out, nBags * dim);
    if (nBags === 0 || dim === 0) return;
    const ar = this.arena;
    // The codebooks go in whole (words x dim floats, small); codes and norm factors per occurrence.
    forBagChunks(nBags, offsets, dim, (b0, b1) => {
      const lo = offsets[b0], cnt = offsets[b1] - lo, nb = b1 - b0;
      ar.reset();
      const pbooks = ar.alloc(books * words * sub), poff = ar.alloc(nb + 1), pout = ar.alloc(nb * dim);
      const { pcodes, pscale } = this.codesIn(k, codes, rowScale, ids.subarray(lo, lo + cnt), books, words);
      ar.put(pbooks, codebooks, books * words * sub);
      ar.putI32(poff, offsets.subarray(b0), nb + 1);
      this.x.codesBagMean(kind, nb, dim, books, words, pbooks, pcodes, pscale, poff, pout);
      ar.get(pout, out.subarray(b0 * dim), nb * dim);
    });
  }

  codesBagMeanBackward(
    kind: number, nBags: number, dim: number, rows: number, books: number, words: number,
    codes: Uint8Array, rowScale: F32 | null, ids: I32, offsets: I32, dy: F32, gradBooks: F32,
  ): void {
    const k = 'codesBagMeanBackward';
    const sub = this.codesArgs(k, kind, nBags, dim, rows, books, words, codes, rowScale, ids, offsets);
    floats(k, 'dy', dy, nBags * dim);
    floats(k, 'gradBooks', gradBooks, books * words * sub);
    if (nBags === 0 || dim === 0) return;
    const ar = this.arena;
    const lo = offsets[0], cnt = offsets[nBags] - lo, G = books * words * sub;
    ar.reset();
    const pg = ar.alloc(G), poff = ar.alloc(nBags + 1), pdy = ar.alloc(nBags * dim);
    const { pcodes, pscale } = this.codesIn(k, codes, rowScale, ids.subarray(lo, lo + cnt), books, words);
    ar.put(pg, gradBooks, G);
    ar.putI32(poff, offsets, nBags + 1);
    ar.put(pdy, dy, nBags * dim);
    this.x.codesBagMeanBackward(kind, nBags, dim, books, words, pcodes, pscale, poff, pdy, pg);
    ar.get(pg, gradBooks, G);
  }

  nearestCentroids(n: number, d: number, K: number, x: F32, c: F32, out: I32): void {
    const k = 'nearestCentroids';
    counts(k, { n, d, K });
    if (n > 0 && K < 1) throw new OpError(k, `no centroids to assign ${n} points to`);
    floats(k, 'x', x, n * d);
    floats(k, 'centroids', c, K * d);
    ints(k, 'out', out, n);
    if (n === 0) return;
    const CH = Math.max(1, Math.floor((1 << 20) / Math.max(1, d)));
    const ar = this.arena;
    for (let i0 = 0; i0 < n; i0 += CH) {
      const m = Math.min(CH, n - i0);
      ar.reset();
      const pc = ar.alloc(K * d), pcn = ar.alloc(K), px = ar.alloc(m * d), pout = ar.alloc(m);
      ar.commit(k);
      ar.put(pc, c, K * d);
      ar.put(px, x.subarray(i0 * d), m * d);
      this.x.nearestCentroids(m, d, K, px, pc, pcn, pout);
      out.set(ar.i32.subarray(pout >>> 2, (pout >>> 2) + m), i0);
    }
  }

  /** Checks shared by the codes kernels; returns the codeword width. */
  private codesArgs(
    k: string, kind: number, nBags: number, dim: number, rows: number, books: number, words: number,
    codes: Uint8Array, rowScale: F32 | null, ids: I32, offsets: I32,
  ): number {
    counts(k, { nBags, dim, rows, books, words });
    if (kind !== 0 && kind !== 1) throw new OpError(k, `kind must be 0 (pq) or 1 (codes), got ${kind}`);
    if (books < 1 || words < 1 || words > 256) throw new OpError(k, `need at least one codebook and 1 to 256 codewords (one-byte codes), got ${books} x ${words}`);
    if (kind === 0 && dim % books !== 0) throw new OpError(k, `pq: width ${dim} does not split into ${books} sub-vectors`);
    if (!(codes instanceof Uint8Array)) throw new OpError(k, `codes must be a Uint8Array, got ${describe(codes)}`);
    long(k, 'codes', codes, rows * books);
    if (rowScale !== null) floats(k, 'rowScale', rowScale, rows);
    ints(k, 'offsets', offsets, nBags + 1);
    ints(k, 'ids', ids, 0);
    if (nBags > 0) {
      this.checkOffsetsIn(k, nBags, offsets, ids.length);
      this.checkIdsIn(k, ids, offsets[0], offsets[nBags] - offsets[0], rows, 'rows');
    }
    return kind === 0 ? dim / books : dim;
  }

  /**
   * Reserves the (already sized) arena for one row of codes and one norm factor per id, commits,
   * and copies them in; every code is checked against `words`.
   */
  private codesIn(k: string, codes: Uint8Array, rowScale: F32 | null, ids: I32, books: number, words: number): { pcodes: number; pscale: number } {
    const ar = this.arena, n = ids.length;
    const pcodes = ar.alloc(Math.ceil((n * books) / 4)), pscale = rowScale ? ar.alloc(n) : 0;
    ar.commit(k);
    const u8 = ar.u8, f = ar.f32;
    for (let i = 0; i < n; i++) {
      const r = ids[i] * books;
      const row = codes.subarray(r, r + books);
      for (let m = 0; m < books; m++) {
        if (row[m] >= words) throw new OpError(k, `row ${ids[i]} has code ${row[m]} in codebook ${m}, beyond its ${words} codewords`);
      }
      u8.set(row, pcodes + i * books);
      if (rowScale) f[(pscale >>> 2) + i] = rowScale[ids[i]];
    }
    return { pcodes, pscale };
  }

  embeddingBagMeanBackward(nBags: number, dim: number, offsets: I32, slot: I32, dy: F32, gradRows: F32): void {
    const k = 'embeddingBagMeanBackward';
    counts(k, { nBags, dim });
    ints(k, 'offsets', offsets, nBags + 1);
    floats(k, 'dy', dy, nBags * dim);
    ints(k, 'slot', slot, 0);
    floats(k, 'gradRows', gradRows, 0);
    if (nBags === 0 || dim === 0) return;
    this.checkOffsetsIn(k, nBags, offsets, slot.length);
    const lo = offsets[0], cnt = offsets[nBags] - lo;
    if (cnt === 0) return;
    const gradCap = Math.floor(gradRows.length / dim);
    const ar = this.arena;
    ar.reset();
    const poff = ar.alloc(nBags + 1), pslot = ar.alloc(cnt), pdy = ar.alloc(nBags * dim);
    ar.commit(k);
    ar.putI32(poff, offsets, nBags + 1);
    ar.putI32(pslot, slot.subarray(lo), cnt);
    this.failOnBadId(k, slot.subarray(lo), pslot, cnt, gradCap, 'rows in gradRows', lo, 'slot');
    const top = this.x.maxI32(pslot, cnt) + 1;
    const pg = ar.alloc(top * dim);
    ar.commit(k);
    ar.put(pdy, dy, nBags * dim);
    ar.put(pg, gradRows, top * dim);
    this.x.embeddingBagMeanBackward(nBags, dim, poff, pslot, pdy, pg);
    ar.get(pg, gradRows, top * dim);
  }

  // ---------------------------------------------------------------- randomness

  dropout(n: number, p: number, seed: number, x: F32, y: F32, mask: F32): void {
    const k = 'dropout';
    counts(k, { n });
    if (!(p >= 0 && p <= 1)) throw new OpError(k, `p must be in [0, 1], got ${p}`);
    floats(k, 'x', x, n);
    floats(k, 'y', y, n);
    floats(k, 'mask', mask, n);
    // keep iff (h >>> 8) / 2^24 >= p  <=>  (h >>> 8) >= ceil(p * 2^24), exactly (no float rounding).
    const threshold = Math.ceil(p * 16777216);
    const scale = p < 1 ? 1 / (1 - p) : 0;
    const ar = this.arena;
    streamChunks(n, CHUNK, (off, cnt) => {
      ar.reset();
      const px = ar.alloc(cnt), py = ar.alloc(cnt), pm = ar.alloc(cnt);
      ar.commit(k);
      ar.put(px, x.subarray(off), cnt);
      this.x.dropout(cnt, off, threshold, seed, scale, px, py, pm);
      ar.get(py, y.subarray(off), cnt);
      ar.get(pm, mask.subarray(off), cnt);
    });
  }

  // ---------------------------------------------------------------- optimisers

  adam(n: number, p: F32, g: F32, m: F32, v: F32, lr: number, b1: number, b2: number, eps: number, wd: number, t: number): void {
    const k = 'adam';
    counts(k, { n });
    adamCheck(k, t);
    for (const [name, arr] of [['p', p], ['g', g], ['m', m], ['v', v]] as const) floats(k, name, arr, n);
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    const par = n >= ADAM_PAR_MIN ? this.usableThreads() : 1;
    const ar = this.arena;
    streamChunks(n, par > 1 ? PAR_CHUNK : CHUNK, (off, cnt) => {
      ar.reset();
      const pp = ar.alloc(cnt), pg = ar.alloc(cnt), pm = ar.alloc(cnt), pv = ar.alloc(cnt);
      ar.commit(k);
      ar.put(pp, p.subarray(off), cnt);
      ar.put(pg, g.subarray(off), cnt);
      ar.put(pm, m.subarray(off), cnt);
      ar.put(pv, v.subarray(off), cnt);
      this.runJobs(splitRange(cnt, par, 16).map(([lo, hi]) => ({
        fn: 'adam', args: [hi - lo, pp + lo * 4, pg + lo * 4, pm + lo * 4, pv + lo * 4, lr, b1, b2, eps, wd, bc1, bc2],
      })));
      ar.get(pp, p.subarray(off), cnt);
      ar.get(pm, m.subarray(off), cnt);
      ar.get(pv, v.subarray(off), cnt);
    });
  }

  adamRows(
    nRows: number, dim: number, rowIds: I32, gradRows: F32, p: F32, m: F32, v: F32,
    lr: number, b1: number, b2: number, eps: number, wd: number, t: number,
  ): void {
    const k = 'adamRows';
    counts(k, { nRows, dim });
    adamCheck(k, t);
    ints(k, 'rowIds', rowIds, nRows);
    floats(k, 'gradRows', gradRows, nRows * dim);
    for (const [name, arr] of [['p', p], ['m', m], ['v', v]] as const) floats(k, name, arr, 0);
    if (nRows === 0 || dim === 0) return;
    const tableRows = Math.floor(Math.min(p.length, m.length, v.length) / dim);
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    const ar = this.arena;
    ar.reset();
    const pids = ar.alloc(nRows);
    ar.commit(k);
    ar.putI32(pids, rowIds, nRows);
    this.failOnBadId(k, rowIds, pids, nRows, tableRows, 'rows in p/m/v');
    const mark = ar.mark();
    streamChunks(nRows, rowsPerChunk(dim), (r0, nr) => {
      const n = nr * dim;
      const ids = rowIds.subarray(r0, r0 + nr);
      ar.release(mark);
      const pp = ar.alloc(n), pg = ar.alloc(n), pm = ar.alloc(n), pv = ar.alloc(n);
      ar.commit(k);
      ar.put(pg, gradRows.subarray(r0 * dim), n);
      this.copyRowsIn(pp, p, ids, nr, dim);
      this.copyRowsIn(pm, m, ids, nr, dim);
      this.copyRowsIn(pv, v, ids, nr, dim);
      this.x.adam(n, pp, pg, pm, pv, lr, b1, b2, eps, wd, bc1, bc2);
      this.copyRowsOut(pp, p, ids, nr, dim);
      this.copyRowsOut(pm, m, ids, nr, dim);
      this.copyRowsOut(pv, v, ids, nr, dim);
    });
  }

  // ---------------------------------------------------------------- helpers

  /** Copies table rows ids[0..n) into consecutive rows at byte address p. */
  private copyRowsIn(p: number, table: F32, ids: I32, n: number, dim: number): void {
    const f = this.arena.f32;
    let o = p >>> 2;
    for (let i = 0; i < n; i++, o += dim) {
      const r = ids[i] * dim;
      f.set(table.subarray(r, r + dim), o);
    }
  }

  /** Copies consecutive rows at byte address p back to table rows ids[0..n). */
  private copyRowsOut(p: number, table: F32, ids: I32, n: number, dim: number): void {
    const f = this.arena.f32;
    let o = p >>> 2;
    for (let i = 0; i < n; i++, o += dim) table.set(f.subarray(o, o + dim), ids[i] * dim);
  }

  /** Validates ids[0..n) against [0, rows) in wasm (copying them in once). */
  private checkIdsIn(k: string, ids: I32, base: number, n: number, rows: number, what: string): void {
    if (n === 0) return;
    const ar = this.arena;
    ar.reset();
    const p = ar.alloc(n);
    ar.commit(k);
    ar.putI32(p, ids.subarray(base), n);
    this.failOnBadId(k, ids.subarray(base), p, n, rows, what, base);
  }

  /** Throws naming the kernel, the first bad id, its position and the valid range. */
  private failOnBadId(k: string, ids: I32, p: number, n: number, rows: number, what: string, base = 0, label = 'id'): void {
    const bad = this.x.checkIds(p, n, rows);
    if (bad >= 0) {
      throw new OpError(k, `${label} ${ids[bad]} at position ${base + bad} is out of range: the table has ${rows} ${what} (valid ids 0..${rows - 1})`);
    }
  }

  private checkOffsetsIn(k: string, nBags: number, offsets: I32, nIds: number): void {
    const ar = this.arena;
    ar.reset();
    const p = ar.alloc(nBags + 1);
    ar.commit(k);
    ar.putI32(p, offsets, nBags + 1);
    const bad = this.x.checkOffsets(nBags, p, nIds);
    if (bad >= 0) {
      throw new OpError(k, `offsets must be non-decreasing within [0, ${nIds}] (the ids length); bag ${bad} has offsets ${offsets[bad]}..${offsets[bad + 1]}`);
    }
  }
}

// ------------------------------------------------------------------ argument checks

export function counts(k: string, vals: Record<string, number>): void {
  for (const name in vals) {
    const v = vals[name];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new OpError(k, `${name} must be a non-negative 32-bit integer, got ${v}`);
  }
}

/** Checks that arr is a Float32Array of at least `need` elements. */
export function floats(k: string, name: string, arr: unknown, need: number, what?: string): void {
  if (!(arr instanceof Float32Array)) throw new OpError(k, `${name} must be a Float32Array, got ${describe(arr)}`);
  long(k, name, arr, need, what);
}

/** Checks that arr is an Int32Array of at least `need` elements. */
export function ints(k: string, name: string, arr: unknown, need: number, what?: string): void {
  if (!(arr instanceof Int32Array)) throw new OpError(k, `${name} must be an Int32Array, got ${describe(arr)}`);
  long(k, name, arr, need, what);
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

function long(k: string, name: string, arr: ArrayLike<number>, need: number, what?: string): void {
  if (arr.length < need) {
    throw new OpError(k, `${name} has ${arr.length} elements, needs at least ${need}${what ? ` for ${what}` : ''}`);
  }
}

function unaryOpCheck(k: string, op: number): void {
  if (!(Number.isInteger(op) && op >= 0 && op <= 9)) throw new OpError(k, `unknown unary op ${op}`);
}

function adamCheck(k: string, t: number): void {
  if (!(Number.isInteger(t) && t >= 1)) throw new OpError(k, `step t must be an integer >= 1, got ${t}`);
}

// ------------------------------------------------------------------ chunking and shapes

/** Elements spanned by `batch` matrices of rows x cols with row stride ld and batch stride. */
function span(batch: number, stride: number, rows: number, cols: number, ld: number): number {
  if (rows === 0 || cols === 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

/** [lo, hi) ranges splitting [0, n) into up to `parts` pieces whose inner edges are multiples of `align`. */
export function splitRange(n: number, parts: number, align: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  for (let i = 1; i <= parts && lo < n; i++) {
    const hi = i === parts ? n : Math.min(n, Math.ceil((n * i) / parts / align) * align);
    if (hi > lo) out.push([lo, hi]);
    lo = hi;
  }
  return out.length ? out : [[0, n]];
}

function streamChunks(n: number, step: number, f: (off: number, cnt: number) => void): void {
  for (let off = 0; off < n; off += step) f(off, Math.min(step, n - off));
}

function rowsPerChunk(cols: number): number {
  return Math.max(1, Math.floor(CHUNK / Math.max(1, cols)));
}

/** Calls f on runs of bags [b0, b1) whose ids total about CHUNK rows' worth of floats. */
function forBagChunks(nBags: number, offsets: I32, dim: number, f: (b0: number, b1: number) => void): void {
  const maxIds = Math.max(1, Math.floor((8 * CHUNK) / dim));
  let b0 = 0;
  while (b0 < nBags) {
    let b1 = b0 + 1;
    while (b1 < nBags && offsets[b1 + 1] - offsets[b0] <= maxIds) b1++;
    f(b0, b1);
    b0 = b1;
  }
}

/** A strided index space with size-1 dimensions dropped and mergeable neighbours merged. */
interface Strided {
  dims: number[];
  strides: number[][];
  numel: number;
}

function contiguousStrides(shape: I32): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

function mergeDims(k: string, shape: I32, strideSets: ArrayLike<number>[]): Strided {
  const nd = shape.length;
  if (nd > MAX_DIMS) throw new OpError(k, `shape [${[...shape]}] has ${nd} dimensions (max ${MAX_DIMS})`);
  let numel = 1;
  for (let d = 0; d < nd; d++) {
    if (!(shape[d] >= 0)) throw new OpError(k, `shape [${[...shape]}] has a negative size`);
    numel *= shape[d];
  }
  strideSets.forEach((s, i) => {
    if (s.length < nd) throw new OpError(k, `strides #${i} has ${s.length} entries for a ${nd}-D shape`);
  });
  const dims: number[] = [];
  const strides: number[][] = strideSets.map(() => []);
  if (numel === 0) return { dims, strides, numel };
  for (let d = 0; d < nd; d++) {
    const size = shape[d];
    if (size === 1) continue;
    for (const s of strideSets) {
      if (!(Number.isInteger(s[d]) && s[d] >= 0)) throw new OpError(k, `strides must be non-negative integers, got ${s[d]} for shape [${[...shape]}]`);
    }
    const last = dims.length - 1;
    if (last >= 0 && strideSets.every((s, i) => strides[i][last] === s[d] * size)) {
      dims[last] *= size;
      strideSets.forEach((s, i) => (strides[i][last] = s[d]));
    } else {
      dims.push(size);
      strideSets.forEach((s, i) => strides[i].push(s[d]));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    strides.forEach((s) => s.push(0));
  }
  return { dims, strides, numel };
}

/** Elements spanned by stride set i over the whole index space. */
function extent(st: Strided, i: number): number {
  let e = 1;
  st.dims.forEach((size, d) => (e += (size - 1) * st.strides[i][d]));
  return e;
}

function isContiguous(dims: number[], strides: number[]): boolean {
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    if (strides[d] !== acc) return false;
    acc *= dims[d];
  }
  return true;
}

/**
 * Splits the first (outermost) merged dimension into chunks of about CHUNK elements and calls f
 * with the chunk's row count, each stride set's element offset and each set's extent.
 */
function forChunks(st: Strided, f: (rows: number, offs: number[], exts: number[]) => void): void {
  const d0 = st.dims[0];
  const inner = st.numel / d0;
  const restExt = st.strides.map((s) => {
    let e = 1;
    for (let d = 1; d < st.dims.length; d++) e += (st.dims[d] - 1) * s[d];
    return e;
  });
  // Chunking along dim 0 only pays when dim 0 is outermost (or broadcast) for every operand;
  // otherwise (say a transpose) each chunk would span nearly all of some operand: one pass then.
  const outermost = st.strides.every((s) => s[0] === 0 || s.every((v) => v <= s[0]));
  const step = outermost ? Math.max(1, Math.floor(CHUNK / inner)) : d0;
  for (let r0 = 0; r0 < d0; r0 += step) {
    const rows = Math.min(step, d0 - r0);
    f(rows, st.strides.map((s) => r0 * s[0]), st.strides.map((s, i) => (rows - 1) * s[0] + restExt[i]));
  }
}

/** Writes shape (first dim = rows), stride sets i and j as 3 x 6 i32 at byte address p, padded with leading 1s / 0s. */
function writeDims(ar: Arena, p: number, st: Strided, rows: number, i: number, j: number): void {
  const v = ar.i32;
  const o = p >>> 2;
  const nd = st.dims.length;
  const pad = MAX_DIMS - nd;
  for (let d = 0; d < MAX_DIMS; d++) {
    const src = d - pad;
    v[o + d] = src < 0 ? 1 : src === 0 ? rows : st.dims[src];
    v[o + 6 + d] = src < 0 ? 0 : st.strides[i][src];
    v[o + 12 + d] = src < 0 ? 0 : st.strides[j][src];
  }
}
